import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/schema.ts';
import { ApiError, InterruptedError, errorMessage } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { SyncRequest, SourceSync, SyncSummary } from '../../sync/source.ts';
import {
  advanceCheckpoint,
  ensureSource,
  finishSyncRun,
  quarantine,
  readCheckpoint,
  refreshTimelineFields,
  startSyncRun,
  upsertEvents,
  upsertIncidents,
  upsertRefs,
  type EventRow,
  type QuarantinedRecord,
  type SyncCounts,
} from '../../sync/store.ts';
import type { SeverityRules } from '../../severity.ts';
import { PD_MAX_WINDOW_DAYS, type PdIncident, type PdLogEntry } from './api-types.ts';
import { chunkWindow, PagerDutyClient, type PagerDutyClientOptions, type TimeWindow } from './client.ts';
import { mapIncident, mapLogEntry, type MappedEvent, type MappedIncident } from './mapper.ts';

const CHECKPOINT_STREAM = 'timeline';
/** Log entries can become visible a little after their timestamp; re-read this much. */
export const INCREMENTAL_OVERLAP_MS = 10 * 60_000;

type Db = Kysely<Database> | Transaction<Database>;

export interface PagerDutySyncOptions extends Omit<PagerDutyClientOptions, 'logger' | 'signal'> {
  /** First day of history for a full sync. */
  historyStart: Date;
  severity: SeverityRules;
  /** The sync's notion of now (tests pin it). */
  now?: () => Date;
  /** Identity of the account in the sources table; defaults to the API URL. */
  sourceKey?: string;
}

export function createPagerDutySync(config: Config, hooks: Pick<PagerDutySyncOptions, 'onResponse'> = {}): PagerDutySync {
  const env = config.pagerduty.env;
  if (!env) throw new Error('PagerDuty is not configured: set PAGERDUTY_TOKEN');
  return new PagerDutySync({
    apiUrl: env.apiUrl,
    token: env.token,
    requestsPerMinute: env.requestsPerMinute,
    historyStart: new Date(`${config.pagerduty.since}T00:00:00Z`),
    severity: config.severity,
    ...hooks,
  });
}

/**
 * Walks [start, now) in windows of at most six months: incidents created in
 * the window, then the window's log entries, which also bring incidents
 * created earlier whose state changed. The checkpoint moves after each
 * window, so an interrupted sync resumes where it stopped.
 */
export class PagerDutySync implements SourceSync {
  readonly source = 'pagerduty';

  constructor(private readonly options: PagerDutySyncOptions) {}

  async run(db: Kysely<Database>, request: SyncRequest, logger: Logger): Promise<SyncSummary> {
    const started = Date.now();
    const client = new PagerDutyClient({ ...this.options, logger, signal: request.signal });
    const sourceId = await this.sourceId(db);
    const checkpoint = await readCheckpoint(db, sourceId, CHECKPOINT_STREAM);
    const until = floorToSecond(this.options.now?.() ?? new Date());

    let mode = request.mode;
    let since: Date;
    if (mode === 'since' && request.since) since = request.since;
    else if (mode === 'incremental' && checkpoint) since = new Date(checkpoint.getTime() - INCREMENTAL_OVERLAP_MS);
    else {
      mode = mode === 'since' ? 'since' : 'full';
      since = request.since ?? this.options.historyStart;
    }
    // An incremental sync must notice old incidents that changed: take their
    // current state from the log entries' included incidents.
    const includeIncidents = mode === 'incremental';

    const runId = await startSyncRun(db, sourceId, mode, since);
    const counts: SyncCounts = { requests: 0, recordsUpserted: 0, eventsUpserted: 0, quarantined: 0 };
    const writer = new PageWriter(db, sourceId, runId, this.options.severity, counts, client);
    logger.info({ source: 'pagerduty', mode, since: since.toISOString(), until: until.toISOString() }, 'sync started');

    try {
      const windows = since < until ? chunkWindow({ since, until }, PD_MAX_WINDOW_DAYS) : [];
      for (const window of windows) {
        await this.syncWindow(client, writer, window, includeIncidents, request);
        await advanceCheckpoint(db, sourceId, CHECKPOINT_STREAM, window.until);
      }
      counts.requests = client.requestCount;
      await finishSyncRun(db, runId, 'succeeded', counts, until, null);
    } catch (error) {
      counts.requests = client.requestCount;
      const interrupted = error instanceof InterruptedError;
      await finishSyncRun(db, runId, interrupted ? 'interrupted' : 'failed', counts, null, errorMessage(error));
      throw error;
    }
    const summary: SyncSummary = {
      source: 'pagerduty',
      sourceId,
      runId,
      mode,
      windowStart: since,
      windowEnd: until,
      durationMs: Date.now() - started,
      writeMs: Math.round(writer.writeMs),
      ...counts,
    };
    logger.info({ ...summary }, 'sync finished');
    return summary;
  }

  private async syncWindow(
    client: PagerDutyClient,
    writer: PageWriter,
    window: TimeWindow,
    includeIncidents: boolean,
    request: SyncRequest,
  ): Promise<void> {
    let incidentTotal = 0;
    let incidentsDone = 0;
    for await (const page of prefetchNext(client.incidents(window, (total) => (incidentTotal += total)))) {
      throwIfAborted(request.signal);
      await writer.writeIncidents(page);
      incidentsDone += page.length;
      request.progress?.update(`incidents to ${window.until.toISOString().slice(0, 10)}`, incidentsDone, incidentTotal);
    }
    let entryTotal = 0;
    let entriesDone = 0;
    for await (const page of prefetchNext(client.logEntries(window, includeIncidents, (total) => (entryTotal += total)))) {
      throwIfAborted(request.signal);
      await writer.writeLogEntries(page);
      entriesDone += page.length;
      request.progress?.update(`log entries to ${window.until.toISOString().slice(0, 10)}`, entriesDone, entryTotal);
    }
  }

  private sourceId(db: Kysely<Database>): Promise<number> {
    const key = this.options.sourceKey ?? this.options.apiUrl;
    return ensureSource(db, 'pagerduty', key, `PagerDuty ${new URL(key).host}`);
  }

  /**
   * A client for many targeted fetches (webhooks): sharing one keeps them
   * serial and paced under the rate limit together. The signal ends its waits.
   */
  createIncidentClient(logger: Logger, signal?: AbortSignal): PagerDutyClient {
    return new PagerDutyClient({ ...this.options, logger, signal });
  }

  /** Brings one incident and its whole timeline up to date (webhooks). */
  async syncIncident(
    db: Kysely<Database>,
    incidentId: string,
    logger: Logger,
    client = this.createIncidentClient(logger),
  ): Promise<SyncCounts> {
    const sourceId = await this.sourceId(db);
    const counts: SyncCounts = { requests: 0, recordsUpserted: 0, eventsUpserted: 0, quarantined: 0 };
    const writer = new PageWriter(db, sourceId, null, this.options.severity, counts, client);
    await writer.writeIncidents([await client.getIncident(incidentId)]);
    for await (const page of client.incidentLogEntries(incidentId)) await writer.writeLogEntries(page);
    return counts;
  }
}

/** Writes one API page per transaction: a failed sync never leaves half a page. */
class PageWriter {
  writeMs = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sourceId: number,
    private readonly runId: number | null,
    private readonly severity: SeverityRules,
    private readonly counts: SyncCounts,
    private readonly client: PagerDutyClient,
  ) {}

  async writeIncidents(records: PdIncident[]): Promise<void> {
    const started = performance.now();
    const rejected: QuarantinedRecord[] = [];
    const mapped: MappedIncident[] = [];
    for (const record of records) {
      const result = mapIncident(record, this.severity);
      if (result.ok) mapped.push(result.value);
      else rejected.push({ recordKind: 'pagerduty.incident', externalId: result.externalId, reason: result.reason, payload: record });
    }
    await this.db.transaction().execute(async (trx) => {
      const ids = await this.upsertMapped(trx, mapped);
      await refreshTimelineFields(trx, ids.values());
      await quarantine(trx, this.sourceId, this.runId, rejected);
    });
    this.counts.recordsUpserted += mapped.length;
    this.counts.quarantined += rejected.length;
    this.writeMs += performance.now() - started;
  }

  async writeLogEntries(entries: PdLogEntry[]): Promise<void> {
    let started = performance.now();
    const rejected: QuarantinedRecord[] = [];
    const events: MappedEvent[] = [];
    const included = new Map<string, MappedIncident>();
    for (const entry of entries) {
      const result = mapLogEntry(entry);
      if (!result.ok) {
        rejected.push({ recordKind: 'pagerduty.log_entry', externalId: result.externalId, reason: result.reason, payload: entry });
        continue;
      }
      events.push(result.value);
      if (result.value.incident) {
        const incident = mapIncident(result.value.incident, this.severity);
        if (incident.ok) included.set(incident.value.row.externalId, incident.value);
      }
    }

    // Entries of incidents we have never seen (created before the synced
    // history) are completed with a targeted fetch, outside the transaction.
    const known = await this.incidentIds(this.db, events.map((event) => event.incidentExternalId));
    const missing = [...new Set(events.map((event) => event.incidentExternalId))].filter(
      (id) => !known.has(id) && !included.has(id),
    );
    if (missing.length > 0) {
      this.writeMs += performance.now() - started;
      for (const id of missing) {
        const fetched = await this.fetchIncident(id);
        const incident = fetched ? mapIncident(fetched, this.severity) : undefined;
        if (incident?.ok) included.set(id, incident.value);
      }
      started = performance.now();
    }

    await this.db.transaction().execute(async (trx) => {
      const upserted = await this.upsertMapped(trx, [...included.values()]);
      const ids = new Map([...known, ...upserted]);
      const rows: EventRow[] = [];
      for (const event of events) {
        const incidentId = ids.get(event.incidentExternalId);
        if (incidentId === undefined) {
          rejected.push({
            recordKind: 'pagerduty.log_entry',
            externalId: event.externalId,
            reason: `log entry refers to incident ${event.incidentExternalId}, which PagerDuty did not return`,
            payload: entries.find((entry) => entry.id === event.externalId),
          });
          continue;
        }
        rows.push({ ...event, incidentId });
      }
      await upsertEvents(trx, this.sourceId, rows);
      await refreshTimelineFields(trx, rows.map((row) => row.incidentId));
      await quarantine(trx, this.sourceId, this.runId, rejected);
      this.counts.eventsUpserted += rows.length;
      this.counts.recordsUpserted += upserted.size;
      this.counts.quarantined += rejected.length;
    });
    this.writeMs += performance.now() - started;
  }

  private async fetchIncident(id: string): Promise<PdIncident | undefined> {
    try {
      return await this.client.getIncident(id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  private async upsertMapped(trx: Db, mapped: MappedIncident[]): Promise<Map<string, number>> {
    const services = await upsertRefs(trx, 'services', this.sourceId, nonNull(mapped.map((incident) => incident.service)));
    const teams = await upsertRefs(trx, 'teams', this.sourceId, nonNull(mapped.map((incident) => incident.team)));
    return upsertIncidentsSorted(trx, this.sourceId, mapped, services, teams);
  }

  private async incidentIds(db: Db, externalIds: string[]): Promise<Map<string, number>> {
    const unique = [...new Set(externalIds)];
    if (unique.length === 0) return new Map();
    const rows = await db
      .selectFrom('incidents')
      .select(['id', 'external_id'])
      .where('source_id', '=', this.sourceId)
      .where('external_id', 'in', unique)
      .execute();
    return new Map(rows.map((row) => [row.external_id, row.id]));
  }
}

/** Rows in key order, so that concurrent writers lock them in the same order. */
function upsertIncidentsSorted(
  trx: Db,
  sourceId: number,
  mapped: MappedIncident[],
  services: Map<string, number>,
  teams: Map<string, number>,
): Promise<Map<string, number>> {
  const byId = new Map(mapped.map((incident) => [incident.row.externalId, incident.row]));
  const rows = [...byId.values()].sort((a, b) => (a.externalId < b.externalId ? -1 : 1));
  return upsertIncidents(trx, sourceId, rows, services, teams);
}

function nonNull<T>(values: (T | null)[]): T[] {
  return values.filter((value): value is T => value !== null);
}

function floorToSecond(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}

/**
 * Yields the pages of `source` while the next one is already being fetched,
 * so HTTP and database writes overlap (requests stay serial).
 */
export async function* prefetchNext<T>(source: AsyncIterator<T>): AsyncGenerator<T> {
  let next = source.next();
  for (;;) {
    const result = await next;
    if (result.done) return;
    next = source.next();
    // Observed later by the await above; this keeps an early failure from being reported as unhandled.
    next.catch(() => undefined);
    yield result.value;
  }
}

