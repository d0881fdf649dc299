import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { GRANULARITIES, type Granularity } from '@incident-lens/common/report';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Config } from './config.ts';
import { parseIsoDayStart, parseIsoInstant } from './dates.ts';
import type { DatabaseAccess, DatabaseHandle } from './db/database.ts';
import { AuthError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, InterruptedError, UsageError, errorMessage } from './errors.ts';
import { createLogger, redactSecrets, type Logger } from './logger.ts';
import { createProgress } from './progress.ts';
import { REPORT_FORMATS, type ReportFormat } from './report/formats.ts';

/** What every command gets: validated configuration, a logger, a stop signal. */
export interface CommandContext {
  config: Config;
  logger: Logger;
  signal: AbortSignal;
  stdout: NodeJS.WritableStream;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new InvalidArgumentError(`expected a TCP port 0-65535: got '${value}'`);
  }
  return port;
}

/** `--since`: a day (its UTC midnight) or an instant with a zone. */
function parseSince(value: string): Date {
  try {
    return value.includes('T') ? parseIsoInstant(value) : parseIsoDayStart(value);
  } catch (error) {
    throw new InvalidArgumentError(`expected an ISO date such as 2026-01-31: ${errorMessage(error)}`);
  }
}

/** Opens the database for a command and always closes it (and the embedded server). */
async function withDatabase<T>(
  context: CommandContext,
  access: DatabaseAccess,
  work: (handle: DatabaseHandle) => Promise<T>
): Promise<T> {
  const { openDatabase } = await import('./db/database.ts');
  const handle = await openDatabase(context.config, context.logger, access);
  try {
    return await work(handle);
  } finally {
    await handle.close();
  }
}

// Each command imports what it runs when it runs (the build makes every such
// import its own chunk): `--help` reads no database driver, `report` no
// HTTP server, mail client or simulator, and only `--format html` the
// charting library, tens of MB that take about a second to load.
function buildProgram(contextFactory: () => Promise<CommandContext>): Command {
  const program = new Command('incident-lens')
    .description('Incident metrics from PagerDuty and Jira, in PostgreSQL and Grafana')
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: () => undefined, writeOut: (text) => process.stdout.write(text) });

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const context = await contextFactory();
      const { refreshClosedPeriods } = await import('./db/closed-periods.ts');
      await withDatabase(context, 'write', async ({ db, migration }) => {
        await refreshClosedPeriods(db, context.config, context.logger);
        const rows = await db.selectFrom('schema_migrations').select('name').orderBy('version').execute();
        for (const name of migration.migrations) {
          context.stdout.write(`applied migration ${name}\n`);
        }
        for (const name of migration.definitions) {
          const changed = migration.changedDefinitions.includes(name) ? ' (changed)' : '';
          context.stdout.write(`applied sql/lens/${name}${changed}\n`);
        }
        const definitions = migration.definitions.length > 0 ? '' : ', sql/lens unchanged';
        context.stdout.write(`schema is current: ${rows.length} migrations${definitions}\n`);
      });
    });

  program
    .command('sync')
    .description('pull incidents and timelines from the configured sources')
    .option('--source <name>', 'all, an account named under sources:, or every account of a kind', 'all')
    .option('--since <date>', 'backfill from this ISO date', parseSince)
    .option('--full', 're-read the whole configured history', false)
    .option('--reconcile', 'also compare the whole stored history with the source (what serve does daily)', false)
    .action(async (options: { source: string; since?: Date; full: boolean; reconcile: boolean }) => {
      const context = await contextFactory();
      if (options.full && options.since) {
        throw new UsageError('--full and --since cannot be combined: choose one');
      }
      const { runSync, selectSources } = await import('./sync/run-sync.ts');
      const { refreshClosedPeriods } = await import('./db/closed-periods.ts');
      const sources = selectSources(context.config, options.source);
      await withDatabase(context, 'write', async ({ db }) => {
        const progress = createProgress(context.logger);
        try {
          const summaries = await runSync(
            db,
            sources,
            {
              mode: options.full ? 'full' : options.since ? 'since' : 'incremental',
              since: options.since,
              reconcile: options.reconcile,
              signal: context.signal,
              progress,
            },
            context.logger
          );
          progress.done();
          await refreshClosedPeriods(db, context.config, context.logger);
          for (const summary of summaries) {
            context.stdout.write(
              `${summary.source}: ${summary.recordsUpserted} records, ${summary.eventsUpserted} events, ` +
                `${summary.quarantined} quarantined, ${summary.requests} requests in ${(summary.durationMs / 1000).toFixed(1)} s\n`
            );
          }
        } finally {
          progress.done();
        }
      });
    });

  program
    .command('serve')
    .description('sync on schedule and serve /healthz, /readyz, /metrics and /webhooks/<kind>/<account> until SIGTERM')
    .option('--port <n>', 'HTTP port', parsePort, 8080)
    .option(
      '--host <address>',
      'address to listen on; 0.0.0.0 (or ::) to accept connections from other hosts',
      '127.0.0.1'
    )
    .action(async (options: { port: number; host: string }) => {
      const context = await contextFactory();
      const { checkServeConfig, runServe } = await import('./serve/serve.ts');
      checkServeConfig(context.config);
      await withDatabase(context, 'write', (handle) => runServe(handle, context, options));
    });

  program
    .command('report')
    .description('the metrics of one day, ISO week or month')
    .addOption(
      new Option('--period <period>', 'day, week (ISO, Monday first) or month')
        .choices([...GRANULARITIES])
        .makeOptionMandatory()
    )
    .requiredOption('--date <date>', 'any day of the period (YYYY-MM-DD), or YYYY-MM for a month')
    .option('--tz <zone>', 'IANA time zone of the period (default: the configured timezone)')
    .option('--as-of <instant>', 'compute as of this ISO instant (default: now)')
    .addOption(new Option('--format <format>', 'output format').choices([...REPORT_FORMATS]).default('json'))
    .option('--out <file>', 'write to this file instead of standard output')
    .option('--published', 'the report as serve published it when the period closed', false)
    .option('--source <name>', 'only this account (a name under sources:, or pagerduty / jira without sources:)')
    .action(
      async (options: {
        period: Granularity;
        date: string;
        tz?: string;
        asOf?: string;
        format: ReportFormat;
        out?: string;
        published: boolean;
        source?: string;
      }) => {
        const context = await contextFactory();
        const { parseAsOf, renderReport } = await import('./report/render-report.ts');
        const { reportDay } = await import('./metrics/report-data.ts');
        const { policyDifferences } = await import('./metrics/policy.ts');
        // Refused before the database opens (or the embedded server starts).
        reportDay(options.period, options.date);
        const asOf = options.asOf ? parseAsOf(options.asOf) : new Date();
        await withDatabase(context, 'read', async ({ db }) => {
          const differences = await policyDifferences(db, context.config);
          if (differences.length > 0) {
            context.logger.warn(
              { differences },
              'the configured SLA policy differs from the stored one; this report uses the stored policy until migrate, sync or serve stores the configuration'
            );
          }
          const text = await renderReport(db, context.config, {
            granularity: options.period,
            date: options.date,
            timezone: options.tz ?? context.config.timezone,
            asOf,
            format: options.format,
            published: options.published,
            source: options.source,
          });
          if (options.out) {
            await mkdir(path.dirname(path.resolve(options.out)), { recursive: true });
            await writeFile(options.out, text);
            context.stdout.write(`wrote ${options.format} report to ${options.out}\n`);
          } else {
            context.stdout.write(text);
          }
        });
      }
    );

  program
    .command('deliver')
    .description('send (or resend) a report to its configured recipients now')
    .addOption(
      new Option('--period <period>', 'day, week (ISO, Monday first) or month')
        .choices([...GRANULARITIES])
        .makeOptionMandatory()
    )
    .requiredOption('--date <date>', 'any day of the period (YYYY-MM-DD), or YYYY-MM for a month')
    .option(
      '--as-of <instant>',
      'compute as of this ISO instant (default: now); a closed month sends its published report'
    )
    .option('--dry-run', 'print what would be sent to whom, and send nothing', false)
    .action(async (options: { period: Granularity; date: string; asOf?: string; dryRun: boolean }) => {
      const context = await contextFactory();
      const { checkDeliveryConfig, recipientsFor } = await import('./delivery/targets.ts');
      checkDeliveryConfig(context.config);
      if (recipientsFor(context.config, options.period).length === 0) {
        throw new UsageError(`no delivery: entry sends the ${options.period} report: add one to the configuration`);
      }
      const { parseAsOf } = await import('./report/render-report.ts');
      const { runDeliver } = await import('./delivery/command.ts');
      const asOf = options.asOf ? parseAsOf(options.asOf) : new Date();
      await withDatabase(context, 'write', ({ db }) => runDeliver(db, context, { ...options, asOf }));
    });

  program
    .command('demo')
    .description('run the whole pipeline on built-in simulated sources')
    .action(async () => {
      const context = await contextFactory();
      const { runDemo } = await import('./demo/run-demo.ts');
      await withDatabase(context, 'write', (handle) => runDemo(handle, context));
    });

  return program;
}

/** Runs the command line; returns the exit code (README.md: 0, 1 runtime, 2 usage). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      return;
    }
    process.stderr.write(`\nincident-lens: ${signal} received; finishing the current batch and stopping\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let logger: Logger | undefined;
  const contextFactory = async (): Promise<CommandContext> => {
    const { loadConfig } = await import('./config.ts');
    const config = loadConfig(env);
    logger = createLogger(config.logLevel);
    return { config, logger, signal: controller.signal, stdout: process.stdout };
  };

  try {
    await buildProgram(contextFactory).parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) {
        return EXIT_OK;
      }
      process.stderr.write(`incident-lens: ${redactSecrets(error.message.replace(/^error: /, ''))}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`incident-lens: ${redactSecrets(error.message)}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof InterruptedError || error instanceof AuthError) {
      process.stderr.write(`incident-lens: ${redactSecrets(error.message)}\n`);
      return EXIT_FAILURE;
    }
    logger?.debug({ err: error }, 'command failed');
    process.stderr.write(`incident-lens: ${redactSecrets(`${errorMessage(error)}${causeSuffix(error)}`)}\n`);
    return EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function causeSuffix(error: unknown): string {
  const cause = error instanceof Error ? (error as Error & { cause?: unknown }).cause : undefined;
  return cause instanceof Error ? ` (${cause.message.split('\n')[0]})` : '';
}
