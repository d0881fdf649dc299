import { sql, type Kysely } from 'kysely';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/schema.ts';
import { ApiError, AuthError, InterruptedError } from '../errors.ts';
import type { ApiResponseEvent } from '../http/api-client.ts';
import type { Logger } from '../logger.ts';
import type { WebhookOutcome } from '../sources/webhook.ts';
import type { SyncCounts } from '../sync/store.ts';
import { PROBE_STATE_MAX_AGE_MS, cachedFor, lastSuccessfulSyncs } from './readiness.ts';

/** How a scheduled sync of one source ended; `skipped` means another process held its lock. */
export type SyncRunOutcome = 'succeeded' | 'failed' | 'interrupted' | 'skipped';

export interface CollectorMetricsOptions {
  db: Kysely<Database>;
  /** The configured accounts' names: the `source` label of every per-source series. */
  sources: readonly string[];
  logger: Logger;
}

/**
 * The collector's Prometheus metrics, in their own registry (two collectors
 * in one process, as in tests, do not share counters). Names follow the
 * Prometheus conventions: a `incident_lens_` prefix, base units (seconds),
 * `_total` on counters. Values that other processes also move (the last
 * successful sync) are read from the database at scrape time.
 */
export class CollectorMetrics {
  readonly registry = new Registry();
  private readonly syncRuns: Counter<'source' | 'outcome'>;
  private readonly syncDuration: Histogram<'source' | 'outcome'>;
  private readonly syncErrors: Counter<'source' | 'reason'>;
  private readonly apiRequests: Counter<'source' | 'code'>;
  private readonly apiRateLimited: Counter<'source'>;
  private readonly recordsIngested: Counter<'source' | 'kind'>;
  private readonly recordsQuarantined: Counter<'source'>;
  private readonly webhookEvents: Counter<'source' | 'outcome'>;
  private readonly webhookLatency: Histogram<'source'>;
  private readonly webhookBacklog: Gauge<'source'>;
  private readonly jobsSkipped: Counter<'job'>;
  private readonly reportDeliveries: Counter<'channel' | 'outcome'>;

  constructor(options: CollectorMetricsOptions) {
    const registers = [this.registry];
    const { db, logger } = options;
    collectDefaultMetrics({ register: this.registry });

    this.syncRuns = new Counter({
      name: 'incident_lens_sync_runs_total',
      help: 'Scheduled syncs by source and outcome (skipped: another process held the source lock).',
      labelNames: ['source', 'outcome'],
      registers,
    });
    this.syncDuration = new Histogram({
      name: 'incident_lens_sync_duration_seconds',
      help: 'Wall time of a sync run, by source and outcome.',
      labelNames: ['source', 'outcome'],
      buckets: [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.syncErrors = new Counter({
      name: 'incident_lens_sync_errors_total',
      help: 'Syncs that did not succeed, by source and reason (auth, api, interrupted, other).',
      labelNames: ['source', 'reason'],
      registers,
    });
    this.apiRequests = new Counter({
      name: 'incident_lens_api_requests_total',
      help: 'Requests to a source API by HTTP status code (network_error: no answer).',
      labelNames: ['source', 'code'],
      registers,
    });
    this.apiRateLimited = new Counter({
      name: 'incident_lens_api_rate_limited_total',
      help: 'HTTP 429 answers from a source API.',
      labelNames: ['source'],
      registers,
    });
    this.recordsIngested = new Counter({
      name: 'incident_lens_records_ingested_total',
      help: 'Records written to the database by source and kind (record: incidents, issues; event: timeline entries).',
      labelNames: ['source', 'kind'],
      registers,
    });
    this.recordsQuarantined = new Counter({
      name: 'incident_lens_records_quarantined_total',
      help: 'Records the mapper could not use, kept in ingest_errors.',
      labelNames: ['source'],
      registers,
    });
    this.webhookEvents = new Counter({
      name: 'incident_lens_webhook_events_total',
      help: 'Webhook deliveries by outcome.',
      labelNames: ['source', 'outcome'],
      registers,
    });
    this.webhookLatency = new Histogram({
      name: 'incident_lens_webhook_to_database_seconds',
      help: 'From receiving a webhook to committing its incident, refreshed from the API.',
      labelNames: ['source'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    this.webhookBacklog = new Gauge({
      name: 'incident_lens_webhook_backlog_incidents',
      help: 'Incidents waiting for a refresh after a webhook.',
      labelNames: ['source'],
      registers,
    });
    this.jobsSkipped = new Counter({
      name: 'incident_lens_scheduled_runs_skipped_total',
      help: 'Scheduled runs not started because the previous run of the job was still going.',
      labelNames: ['job'],
      registers,
    });

    this.reportDeliveries = new Counter({
      name: 'incident_lens_report_deliveries_total',
      help: 'Report deliveries by channel (email, slack) and outcome: sent, failed (refused for good or retries exhausted; the delivery log has the reason), retried (a try to be repeated).',
      labelNames: ['channel', 'outcome'],
      registers,
    });
    for (const channel of ['email', 'slack']) {
      for (const outcome of ['sent', 'failed']) {
        this.reportDeliveries.inc({ channel, outcome }, 0);
      }
    }

    const sourceNames = options.sources;
    // Scrapes read the database at most once per PROBE_STATE_MAX_AGE_MS, however often they come.
    const latestSyncs = cachedFor(PROBE_STATE_MAX_AGE_MS, () => lastSuccessfulSyncs(db));
    const overdueByTeam = cachedFor(PROBE_STATE_MAX_AGE_MS, () => openOverdueActionItemsByTeam(db));
    const reconciled = cachedFor(PROBE_STATE_MAX_AGE_MS, () => reconciledChangesBySource(db));
    new Gauge({
      name: 'incident_lens_last_successful_sync_timestamp_seconds',
      help: 'Unix time at which the last successful sync of a source finished (any process).',
      labelNames: ['source'],
      registers,
      async collect() {
        try {
          const latest = await latestSyncs();
          this.reset();
          for (const name of sourceNames) {
            const at = latest.get(name);
            if (at) {
              this.set({ source: name }, at.getTime() / 1000);
            }
          }
        } catch (error) {
          // A scrape during a database outage still answers, without this series.
          this.reset();
          logger.debug({ err: error }, 'could not read the last successful syncs for /metrics');
        }
      },
    });

    new Gauge({
      name: 'incident_lens_action_items_open_overdue',
      help: 'Open action items past their deadline, by team, from lens.open_overdue_action_items() as the alert rule reads it.',
      labelNames: ['team'],
      registers,
      async collect() {
        try {
          const rows = await overdueByTeam();
          this.reset();
          // The total series stays present at zero, so that an alert on it resolves.
          if (rows.length === 0) {
            this.set({ team: '' }, 0);
          }
          for (const row of rows) {
            this.set({ team: row.team }, row.count);
          }
        } catch (error) {
          this.reset();
          logger.debug({ err: error }, 'could not read the open overdue action items for /metrics');
        }
      },
    });

    // Counted from reconciliation_changes, so that changes a `sync --reconcile`
    // in another process found count too; rows are never deleted, so it only grows.
    new Counter({
      name: 'incident_lens_reconciled_changes_total',
      help: 'Changes a reconciliation found that the source recorded no timeline for (a Jira issue deleted, no longer matching its search or moved; a PagerDuty field changed without a log entry), by account and field.',
      labelNames: ['source', 'field'],
      registers,
      async collect() {
        try {
          const rows = await reconciled();
          this.reset();
          for (const row of rows.filter((candidate) => sourceNames.includes(candidate.source))) {
            this.inc({ source: row.source, field: row.field }, row.count);
          }
        } catch (error) {
          this.reset();
          logger.debug({ err: error }, 'could not read the reconciled changes for /metrics');
        }
      },
    });

    for (const name of sourceNames) {
      this.apiRateLimited.inc({ source: name }, 0);
      this.webhookBacklog.set({ source: name }, 0);
      for (const outcome of ['succeeded', 'failed', 'interrupted', 'skipped'] as const) {
        this.syncRuns.inc({ source: name, outcome }, 0);
      }
    }
  }

  observeApiResponse(source: string, event: ApiResponseEvent): void {
    this.apiRequests.inc({ source, code: event.status === 'network-error' ? 'network_error' : String(event.status) });
    if (event.status === 429) {
      this.apiRateLimited.inc({ source });
    }
  }

  observeSync(source: string, outcome: SyncRunOutcome, durationSeconds: number, error?: unknown): void {
    this.syncRuns.inc({ source, outcome });
    if (outcome !== 'skipped') {
      this.syncDuration.observe({ source, outcome }, durationSeconds);
    }
    if (outcome === 'failed' || outcome === 'interrupted') {
      this.syncErrors.inc({ source, reason: errorReason(error) });
    }
  }

  observeIngested(source: string, counts: SyncCounts): void {
    this.recordsIngested.inc({ source, kind: 'record' }, counts.recordsUpserted);
    this.recordsIngested.inc({ source, kind: 'event' }, counts.eventsUpserted);
    this.recordsQuarantined.inc({ source }, counts.quarantined);
  }

  observeWebhook(source: string, outcome: WebhookOutcome): void {
    this.webhookEvents.inc({ source, outcome });
  }

  observeWebhookApplied(source: string, latencySeconds: number): void {
    this.webhookLatency.observe({ source }, latencySeconds);
  }

  setWebhookBacklog(source: string, incidents: number): void {
    this.webhookBacklog.set({ source }, incidents);
  }

  observeDelivery(channel: 'email' | 'slack', outcome: 'sent' | 'failed' | 'retried'): void {
    this.reportDeliveries.inc({ channel, outcome });
  }

  observeJobSkipped(job: string): void {
    this.jobsSkipped.inc({ job });
  }

  /** The exposition text and its content type, for GET /metrics. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

/** Open overdue action items per team name ('' for items of no team), as the alert rule counts them. */
export async function openOverdueActionItemsByTeam(
  db: Kysely<Database>
): Promise<Array<{ team: string; count: number }>> {
  const result = await sql<{ team: string | null; count: number }>`
    SELECT team_name AS team, count(*)::int AS count
    FROM lens.open_overdue_action_items()
    GROUP BY team_name
    ORDER BY team_name`.execute(db);
  return result.rows.map((row) => ({ team: row.team ?? '', count: row.count }));
}

/** Changes reconciliations found, per account name and field. */
export async function reconciledChangesBySource(
  db: Kysely<Database>
): Promise<Array<{ source: string; field: string; count: number }>> {
  return db
    .selectFrom('reconciliation_changes as c')
    .innerJoin('sources as s', 's.id', 'c.source_id')
    .select(['s.name as source', 'c.field', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(['s.name', 'c.field'])
    .orderBy('s.name')
    .orderBy('c.field')
    .execute()
    .then((rows) => rows.map((row) => ({ ...row, count: Number(row.count) })));
}

function errorReason(error: unknown): 'auth' | 'api' | 'interrupted' | 'other' {
  if (error instanceof AuthError) {
    return 'auth';
  }
  if (error instanceof ApiError) {
    return 'api';
  }
  if (error instanceof InterruptedError) {
    return 'interrupted';
  }
  return 'other';
}
