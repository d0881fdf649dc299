import { sql, type Kysely } from 'kysely';
import type { CommandContext } from '../cli.ts';
import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { Database } from '../db/schema.ts';
import { ApiError, InterruptedError, errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { applyPolicy } from '../metrics/policy.ts';
import { PagerDutySync } from '../sources/pagerduty/sync.ts';
import { runSync, selectSources, type SourceHooks } from '../sync/run-sync.ts';
import type { SourceSync } from '../sync/source.ts';
import { startHttpServer, type RunningHttpServer } from './http-server.ts';
import { IncidentRefreshQueue, type QueuedEvent } from './incident-refresh-queue.ts';
import { CollectorMetrics } from './metrics.ts';
import { PROBE_STATE_MAX_AGE_MS, cachedFor, checkReadiness } from './readiness.ts';
import { installSafetyNet } from './safety-net.ts';
import { reportJobs, type ReportJobName } from './report-jobs.ts';
import { JobScheduler, assertCronExpression, type ScheduledJob } from './scheduler.ts';
import { PagerDutyWebhookReceiver } from './webhooks.ts';

/** Past this, a stop gives up waiting and the process exits anyway (orchestrators kill at 10 s). */
export const SHUTDOWN_DEADLINE_MS = 9000;
/** Webhook events received but not yet applied are taken up again at start if they are this recent. */
const REPLAY_UNPROCESSED_WITHIN_MS = 60 * 60_000;
/** PagerDuty redelivers for about 20 minutes; event ids are kept much longer than that. */
const WEBHOOK_EVENT_RETENTION_DAYS = 7;
const WEBHOOK_REFRESH_CONCURRENCY = 4;
/** How much before the oldest waiting event a storm's read of recent changes starts (clock and visibility slack). */
const STORM_WINDOW_MARGIN_MS = 10_000;

export interface ServeOptions {
  host: string;
  port: number;
  /** The sources to sync; default: every source the environment configures. Tests pass tuned ones. */
  createSources?: (hooks: SourceHooks) => SourceSync[];
  /** The report jobs by schedule key; default: write each period's report JSON under the data directory. */
  reportJobs?: Partial<Record<ReportJobName, () => Promise<void>>>;
  /** Run a sync right away instead of waiting for the first tick (default true). */
  syncAtStart?: boolean;
}

export interface ServeInstance {
  url: string;
  port: number;
  /** Present when webhooks are enabled. */
  webhookQueue: IncidentRefreshQueue | undefined;
  /** Stops taking work, lets the current page commit and the locks go; does not close the database. */
  stop(): Promise<void>;
}

/**
 * The always-on collector: scheduled syncs under per-source advisory locks,
 * PagerDuty webhooks applied within seconds, and the HTTP probes and metrics
 * an orchestrator and Prometheus read.
 */
export async function startServe(
  db: Kysely<Database>,
  config: Config,
  logger: Logger,
  options: ServeOptions,
): Promise<ServeInstance> {
  const stopping = new AbortController();
  // The SQL objects that /metrics and the alert rules read use the configured policy and zone.
  await applyPolicy(db, config);
  // The sources' clients report to the metrics, which list the sources: the hook reaches them through this slot.
  const observer: { metrics?: CollectorMetrics } = {};
  const hooks: SourceHooks = { onResponse: (source, event) => observer.metrics?.observeApiResponse(source, event) };
  const sources = options.createSources ? options.createSources(hooks) : selectSources(config, 'all', hooks);
  const collectorMetrics = new CollectorMetrics({ db, sources, logger });
  observer.metrics = collectorMetrics;

  const jobs: ScheduledJob[] = [
    { name: 'sync', expression: config.schedule.sync, run: () => syncEverySource(db, sources, collectorMetrics, stopping.signal, logger) },
  ];
  const reports = options.reportJobs ?? reportJobs(db, config, logger);
  for (const key of ['dailyReport', 'weeklyReport', 'monthlyReport'] as const) {
    const run = reports[key];
    if (run) jobs.push({ name: key, expression: config.schedule[key], run });
  }
  const scheduler = new JobScheduler(jobs, {
    timezone: config.timezone,
    logger,
    onSkipped: (job) => collectorMetrics.observeJobSkipped(job),
  });

  const webhook = setUpWebhooks(db, config, sources, collectorMetrics, stopping.signal, logger);
  if (webhook) await replayUnprocessedEvents(db, webhook.queue, logger);

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
            sources.map((source) => ({ source: source.source, intervalMs: scheduler.intervalMs('sync') })),
          ),
        ),
        metrics: () => collectorMetrics.exposition(),
        pagerDutyWebhook: webhook && ((delivery) => webhook.receiver.receive(delivery)),
        onWebhookTooLarge: () => collectorMetrics.observeWebhook('pagerduty', 'too_large'),
      },
    });
  } catch (error) {
    await webhook?.queue.stop();
    throw new Error(`cannot listen on ${options.host}:${options.port}: ${errorMessage(error)}`, { cause: error });
  }

  scheduler.start();
  if (options.syncAtStart !== false) scheduler.trigger('sync');
  logger.info(
    {
      url: http.url,
      sources: sources.map((source) => source.source),
      webhooks: webhook ? 'enabled' : 'disabled (PAGERDUTY_WEBHOOK_SECRET is not set)',
    },
    'serve started',
  );

  let stopped: Promise<void> | undefined;
  return {
    url: http.url,
    port: http.port,
    webhookQueue: webhook?.queue,
    stop() {
      stopped ??= (async () => {
        logger.info('stopping: no new work; the current page commits and the locks are released');
        stopping.abort();
        await Promise.all([http.close(), scheduler.stop(), webhook?.queue.stop()]);
        logger.info('stopped');
      })();
      return stopped;
    },
  };
}

/** One scheduled sync: each source in turn, skipping a source another process is syncing. */
async function syncEverySource(
  db: Kysely<Database>,
  sources: readonly SourceSync[],
  metrics: CollectorMetrics,
  signal: AbortSignal,
  logger: Logger,
): Promise<void> {
  for (const source of sources) {
    if (signal.aborted) return;
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const [summary] = await runSync(db, [source], { mode: 'incremental', signal }, logger, 'skip');
      if (summary) {
        metrics.observeSync(source.source, 'succeeded', seconds());
        metrics.observeIngested(source.source, summary);
      } else {
        metrics.observeSync(source.source, 'skipped', seconds());
      }
    } catch (error) {
      const interrupted = error instanceof InterruptedError;
      metrics.observeSync(source.source, interrupted ? 'interrupted' : 'failed', seconds(), error);
      if (interrupted) logger.info({ source: source.source }, 'sync interrupted; the next one resumes from the checkpoint');
      else logger.error({ source: source.source, err: error }, `sync failed: ${errorMessage(error)}`);
    }
  }
  if (!signal.aborted) await pruneWebhookEvents(db, logger);
}

interface Webhooks {
  receiver: PagerDutyWebhookReceiver;
  queue: IncidentRefreshQueue;
}

function setUpWebhooks(
  db: Kysely<Database>,
  config: Config,
  sources: readonly SourceSync[],
  metrics: CollectorMetrics,
  signal: AbortSignal,
  logger: Logger,
): Webhooks | undefined {
  const secret = config.pagerduty.env?.webhookSecret;
  const pagerDuty = sources.find((source): source is PagerDutySync => source instanceof PagerDutySync);
  if (!secret || !pagerDuty) return undefined;
  // One client for every refresh: its requests are serial and paced together.
  const client = pagerDuty.createIncidentClient(logger, signal);
  const queue = new IncidentRefreshQueue({
    concurrency: WEBHOOK_REFRESH_CONCURRENCY,
    logger,
    onBacklog: (incidents) => metrics.setWebhookBacklog('pagerduty', incidents),
    refresh: async (incidentId: string, events: readonly QueuedEvent[]) => {
      const eventIds = events.map((event) => event.eventId);
      try {
        const counts = await pagerDuty.syncIncident(db, incidentId, logger, client);
        await markEvents(db, eventIds, null);
        metrics.observeIngested('pagerduty', counts);
        const appliedAt = Date.now();
        for (const event of events) metrics.observeWebhookApplied('pagerduty', (appliedAt - event.receivedAt.getTime()) / 1000);
        logger.debug({ incidentId, events: eventIds.length }, 'incident refreshed after webhook');
      } catch (error) {
        // Interrupted: left unprocessed for the next start. Otherwise recorded, and polling catches up.
        if (!(error instanceof InterruptedError)) {
          const reason = error instanceof ApiError && error.status === 404 ? `PagerDuty has no incident ${incidentId}` : errorMessage(error);
          await markEvents(db, eventIds, reason).catch(() => undefined);
        }
        throw error;
      }
    },
    refreshMany: async (waiting) => {
      const incidentIds = [...waiting.keys()];
      const events = [...waiting.values()].flat();
      const oldest = Math.min(...events.map((event) => (event.occurredAt ?? event.receivedAt).getTime()));
      const since = new Date(oldest - STORM_WINDOW_MARGIN_MS);
      const storedBefore = await storedIncidents(db, incidentIds);
      const { counts, incidentIds: changed } = await pagerDuty.syncRecentChanges(db, since, logger, client);
      metrics.observeIngested('pagerduty', counts);
      // Served when its whole timeline is now stored: it was stored before, or it began inside the window read.
      const newlySeen = incidentIds.filter((incidentId) => changed.has(incidentId) && !storedBefore.has(incidentId));
      const createdInside = await storedIncidents(db, newlySeen, since);
      const served = new Set(incidentIds.filter((incidentId) => changed.has(incidentId) && (storedBefore.has(incidentId) || createdInside.has(incidentId))));
      const servedEvents = incidentIds.filter((incidentId) => served.has(incidentId)).flatMap((incidentId) => waiting.get(incidentId)!);
      if (servedEvents.length > 0) await markEvents(db, servedEvents.map((event) => event.eventId), null);
      const appliedAt = Date.now();
      for (const event of servedEvents) metrics.observeWebhookApplied('pagerduty', (appliedAt - event.receivedAt.getTime()) / 1000);
      logger.debug({ incidents: incidentIds.length, served: served.size, since: since.toISOString() }, 'recent changes read after webhooks');
      return served;
    },
  });
  return { queue, receiver: new PagerDutyWebhookReceiver(db, secret, queue, metrics, logger) };
}

/** Which of these PagerDuty incidents are stored (and, with `createdSince`, began at or after it). */
async function storedIncidents(db: Kysely<Database>, externalIds: string[], createdSince?: Date): Promise<Set<string>> {
  if (externalIds.length === 0) return new Set();
  let query = db
    .selectFrom('incidents')
    .innerJoin('sources', 'sources.id', 'incidents.source_id')
    .select('incidents.external_id')
    .where('sources.kind', '=', 'pagerduty')
    .where('incidents.external_id', 'in', externalIds);
  if (createdSince) query = query.where('incidents.created_at', '>=', createdSince);
  return new Set((await query.execute()).map((row) => row.external_id));
}

/** Applied events get processed_at; failed ones keep their error and stay unprocessed. */
async function markEvents(db: Kysely<Database>, eventIds: string[], error: string | null): Promise<void> {
  await db
    .updateTable('webhook_events')
    .set(error === null ? { processed_at: sql`now()`, error: null } : { error })
    .where('source_kind', '=', 'pagerduty')
    .where('event_id', 'in', eventIds)
    .execute();
}

/** Events a previous process accepted (answered 202) but stopped before applying. */
async function replayUnprocessedEvents(db: Kysely<Database>, queue: IncidentRefreshQueue, logger: Logger): Promise<void> {
  const rows = await db
    .selectFrom('webhook_events')
    .select(['event_id', 'incident_external_id', 'received_at', 'occurred_at'])
    .where('source_kind', '=', 'pagerduty')
    .where('processed_at', 'is', null)
    .where('received_at', '>', new Date(Date.now() - REPLAY_UNPROCESSED_WITHIN_MS))
    .orderBy('received_at')
    .execute();
  for (const row of rows) {
    queue.enqueue(row.incident_external_id, { eventId: row.event_id, receivedAt: row.received_at, occurredAt: row.occurred_at });
  }
  if (rows.length > 0) logger.info({ events: rows.length }, 'webhook events accepted before the last stop are applied now');
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
 * opened or started: no source configured, or a schedule node-cron cannot read.
 */
export function checkServeConfig(config: Config): void {
  selectSources(config, 'all');
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
      if (context.signal.aborted) resolve();
      else context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    // A stuck request or query must not keep an orchestrator waiting past its kill timeout.
    const deadline = setTimeout(() => {
      context.logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown took too long; exiting now (open transactions roll back)');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    await instance.stop();
  } finally {
    removeSafetyNet();
  }
}
