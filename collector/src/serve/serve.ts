import { sql, type Kysely } from 'kysely';
import type { CommandContext } from '../cli.ts';
import type { Config } from '../config.ts';
import { refreshClosedPeriods } from '../db/closed-periods.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { InterruptedError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { resumeUnfinishedDeliveries } from '../delivery/deliver.ts';
import { checkDeliveryConfig } from '../delivery/targets.ts';
import { applyPolicy } from '../metrics/policy.ts';
import { createSyncs, selectAccounts, sourceKind, type SourceHooks } from '../sources/registry.ts';
import { webhookRoutes, type WebhookReceiver } from '../sources/webhook.ts';
import { reconcileDue, runSync } from '../sync/run-sync.ts';
import type { SourceAccount, SourceSync } from '../sync/source.ts';
import { ensureSource } from '../sync/store.ts';
import { startHttpServer, type RunningHttpServer } from './http-server.ts';
import { CollectorMetrics } from './metrics.ts';
import { PROBE_STATE_MAX_AGE_MS, cachedFor, checkReadiness } from './readiness.ts';
import { installSafetyNet } from './safety-net.ts';
import { REPORT_JOBS, missedReportJobs, reportJobs, type ReportJobName } from './report-jobs.ts';
import { JobScheduler, assertCronExpression, type ScheduledJob } from './scheduler.ts';

/** Past this, a stop gives up waiting and the process exits anyway (orchestrators kill at 10 s). */
export const SHUTDOWN_DEADLINE_MS = 9000;
/** PagerDuty redelivers for about 20 minutes; event ids are kept much longer than that. */
const WEBHOOK_EVENT_RETENTION_DAYS = 7;

export interface ServeOptions {
  host: string;
  port: number;
  /** Builds a configured account's sync; default: its kind's. Tests pass tuned ones. */
  createSync?: (account: SourceAccount, hooks: SourceHooks) => SourceSync;
  /** The report jobs by schedule key; default: write each period's report JSON under the data directory. */
  reportJobs?: Partial<Record<ReportJobName, () => Promise<void>>>;
  /** Run a sync right away instead of waiting for the first tick (default true). */
  syncAtStart?: boolean;
}

export interface ServeInstance {
  url: string;
  port: number;
  /** The running webhooks, by account name: those whose kind takes webhooks and whose secret is set. */
  webhooks: ReadonlyMap<string, WebhookReceiver>;
  /** Stops taking work, lets the current page commit and the locks go; does not close the database. */
  stop(): Promise<void>;
}

/**
 * The always-on collector: scheduled syncs under per-account advisory locks,
 * webhooks applied within seconds, and the HTTP probes and metrics an
 * orchestrator and Prometheus read.
 */
export async function startServe(
  db: Kysely<Database>,
  config: Config,
  logger: Logger,
  options: ServeOptions
): Promise<ServeInstance> {
  const stopping = new AbortController();
  // The SQL objects that /metrics and the alert rules read use the configured policy and zone.
  await applyPolicy(db, config);
  // The sources' clients report to the metrics, which list the sources: the hook reaches them through this slot.
  const observer: { metrics?: CollectorMetrics } = {};
  const hooks: SourceHooks = { onResponse: (source, event) => observer.metrics?.observeApiResponse(source, event) };
  const accounts = selectAccounts(config.sources, 'all');
  const sources = options.createSync
    ? accounts.map((account) => options.createSync!(account, hooks))
    : createSyncs(accounts, config, hooks);
  const collectorMetrics = new CollectorMetrics({ db, sources: accounts.map((account) => account.name), logger });
  observer.metrics = collectorMetrics;

  const jobs: ScheduledJob[] = [
    {
      name: 'sync',
      expression: config.schedule.sync,
      run: async () => {
        await syncEverySource(db, sources, collectorMetrics, stopping.signal, logger);
        if (!stopping.signal.aborted) {
          await refreshClosedPeriods(db, config, logger);
        }
      },
    },
  ];
  const deliveryHooks = { observe: collectorMetrics.observeDelivery.bind(collectorMetrics), signal: stopping.signal };
  const reports = options.reportJobs ?? reportJobs(db, config, logger, { delivery: deliveryHooks });
  for (const key of REPORT_JOBS) {
    const run = reports[key];
    if (run) {
      jobs.push({ name: key, expression: config.schedule[key], run });
    }
  }
  const scheduler = new JobScheduler(jobs, {
    timezone: config.timezone,
    logger,
    onSkipped: (job) => collectorMetrics.observeJobSkipped(job),
  });

  const webhooks = await startWebhooks(db, accounts, sources, collectorMetrics, stopping.signal, logger);
  const routes = new Map<string, WebhookReceiver>();
  for (const account of accounts) {
    const receiver = webhooks.get(account.name);
    if (receiver) {
      for (const route of webhookRoutes(account)) {
        routes.set(route, receiver);
      }
    }
  }
  const accountOfRoute = new Map(
    accounts.flatMap((account) => webhookRoutes(account).map((route) => [route, account.name] as const))
  );

  let http: RunningHttpServer;
  try {
    http = await startHttpServer({
      host: options.host,
      port: options.port,
      logger,
      handlers: {
        readiness: cachedFor(PROBE_STATE_MAX_AGE_MS, () =>
          checkReadiness(
            db,
            accounts.map((account) => ({ source: account.name, intervalMs: scheduler.intervalMs('sync') }))
          )
        ),
        metrics: () => collectorMetrics.exposition(),
        webhook: (path) => {
          const receiver = routes.get(path);
          return receiver && ((delivery) => receiver.receive(delivery));
        },
        onWebhookTooLarge: (path) => {
          const account = accountOfRoute.get(path);
          if (account) {
            collectorMetrics.observeWebhook(account, 'too_large');
          }
        },
      },
    });
  } catch (error) {
    await Promise.all([...webhooks.values()].map((receiver) => receiver.stop()));
    throw new Error(`cannot listen on ${options.host}:${options.port}: ${errorMessage(error)}`, { cause: error });
  }

  scheduler.start();
  if (options.syncAtStart !== false) {
    scheduler.trigger('sync');
  }
  // A delivery a previous process left half done is finished now, not at next period's job.
  const resumed = resumeUnfinishedDeliveries(db, config, { ...deliveryHooks, logger }).catch((error: unknown) =>
    logger.error(`could not resume report deliveries: ${errorMessage(error)}`)
  );
  // A report whose tick passed while serve was down is written (and sent) once the first sync is in.
  const caughtUp = (async () => {
    await scheduler.idle('sync');
    const names = REPORT_JOBS.filter((name) => reports[name]);
    const missed = await missedReportJobs(config, names, new Date());
    logger.debug({ jobs: names, missed: missed.map((job) => job.name) }, 'report jobs checked for missed ticks');
    for (const { name, tick, lastWritten } of missed) {
      logger.info(
        { job: name, tick: tick.toISOString(), lastWritten: lastWritten.toISOString() },
        'report job missed its last tick; running it now'
      );
      scheduler.trigger(name);
    }
  })().catch((error: unknown) => logger.error(`could not catch up missed reports: ${errorMessage(error)}`));
  logger.info(
    {
      url: http.url,
      sources: accounts.map((account) => account.name),
      webhooks: [...routes.keys()],
    },
    'serve started'
  );

  let stopped: Promise<void> | undefined;
  return {
    url: http.url,
    port: http.port,
    webhooks,
    stop() {
      stopped ??= (async () => {
        logger.info('stopping: no new work; the current page commits and the locks are released');
        stopping.abort();
        await Promise.all([
          http.close(),
          scheduler.stop(),
          ...[...webhooks.values()].map((receiver) => receiver.stop()),
          resumed,
          caughtUp,
        ]);
        logger.info('stopped');
      })();
      return stopped;
    },
  };
}

/** One scheduled sync: each account in turn, skipping an account another process is syncing. */
async function syncEverySource(
  db: Kysely<Database>,
  sources: readonly SourceSync[],
  metrics: CollectorMetrics,
  signal: AbortSignal,
  logger: Logger
): Promise<void> {
  for (const source of sources) {
    if (signal.aborted) {
      return;
    }
    const name = source.account.name;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const reconcile = await reconcileDue(db, source);
      const [summary] = await runSync(db, [source], { mode: 'incremental', reconcile, signal }, logger, 'skip');
      if (summary) {
        metrics.observeSync(name, 'succeeded', seconds());
        metrics.observeIngested(name, summary);
      } else {
        metrics.observeSync(name, 'skipped', seconds());
      }
    } catch (error) {
      const interrupted = error instanceof InterruptedError;
      metrics.observeSync(name, interrupted ? 'interrupted' : 'failed', seconds(), error);
      if (interrupted) {
        logger.info({ source: name }, 'sync interrupted; the next one resumes from the checkpoint');
      } else {
        logger.error({ source: name, err: error }, `sync failed: ${errorMessage(error)}`);
      }
    }
  }
  if (!signal.aborted) {
    await pruneWebhookEvents(db, logger);
  }
}

/** The webhooks of the accounts whose kind takes webhooks and whose secret is set, by account name. */
async function startWebhooks(
  db: Kysely<Database>,
  accounts: readonly SourceAccount[],
  sources: readonly SourceSync[],
  metrics: CollectorMetrics,
  signal: AbortSignal,
  logger: Logger
): Promise<Map<string, WebhookReceiver>> {
  const receivers = new Map<string, WebhookReceiver>();
  for (const [index, account] of accounts.entries()) {
    const webhook = sourceKind(account.kind).webhook;
    if (!webhook || webhook.secret(account) === undefined) {
      continue;
    }
    const name = account.name;
    receivers.set(
      name,
      await webhook.start({
        db,
        account,
        sourceId: await ensureSource(db, account),
        sync: sources[index]!,
        signal,
        logger: logger.child({ source: name }),
        metrics: {
          observeWebhook: (outcome) => metrics.observeWebhook(name, outcome),
          observeIngested: (counts) => metrics.observeIngested(name, counts),
          observeWebhookApplied: (seconds) => metrics.observeWebhookApplied(name, seconds),
          setWebhookBacklog: (incidents) => metrics.setWebhookBacklog(name, incidents),
        },
      })
    );
  }
  return receivers;
}

async function pruneWebhookEvents(db: Kysely<Database>, logger: Logger): Promise<void> {
  try {
    await db
      .deleteFrom('webhook_events')
      .where('received_at', '<', sql<Date>`now() - make_interval(days => ${WEBHOOK_EVENT_RETENTION_DAYS})`)
      .execute();
  } catch (error) {
    logger.warn({ err: error }, `could not prune old webhook event ids: ${errorMessage(error)}`);
  }
}

/**
 * Refuses a configuration serve cannot run (exit 2) before any database is
 * opened or started: no source configured, a schedule node-cron cannot read,
 * or a delivery that could not be sent (SMTP_URL or a webhook variable unset).
 */
export function checkServeConfig(config: Config): void {
  selectAccounts(config.sources, 'all');
  checkDeliveryConfig(config);
  for (const key of ['sync', 'dailyReport', 'weeklyReport', 'monthlyReport'] as const) {
    assertCronExpression(`schedule.${key}`, config.schedule[key]);
  }
}

/**
 * `incident-lens serve`: runs until SIGTERM or SIGINT, then stops within the
 * deadline and returns, so the command exits 0 and the caller closes the
 * database (and the embedded server).
 */
export async function runServe(handle: DatabaseHandle, context: CommandContext, options: ServeOptions): Promise<void> {
  let instance: ServeInstance | undefined;
  const removeSafetyNet = installSafetyNet({
    logger: context.logger,
    // The embedded PostgreSQL outlives this process unless it is stopped here.
    onFatal: async () => {
      await instance?.stop();
      await handle.close();
    },
  });
  try {
    instance = await startServe(handle.db, context.config, context.logger, options);
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) {
        resolve();
      } else {
        context.signal.addEventListener('abort', () => resolve(), { once: true });
      }
    });
    // A stuck request or query must not keep an orchestrator waiting past its kill timeout.
    const deadline = setTimeout(() => {
      context.logger.error(
        { deadlineMs: SHUTDOWN_DEADLINE_MS },
        'shutdown took too long; exiting now (open transactions roll back)'
      );
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    await instance.stop();
  } finally {
    removeSafetyNet();
  }
}
