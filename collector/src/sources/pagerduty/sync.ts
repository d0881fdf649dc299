import type { Kysely } from 'kysely';
import type { Config } from '../../config.ts';
import type { Database } from '../../db/schema.ts';
import { ApiError, InterruptedError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { SyncRequest, SourceSync, SyncSummary } from '../../sync/source.ts';
import {
  advanceCheckpoint,
  ensureSource,
  quarantine,
  readCheckpoint,
  refreshTimelineFields,
  relaxDurability,
  upsertEvents,
  upsertIncidents,
  upsertRefs,
  type EventRow,
  type QuarantinedRecord,
  type SyncCounts,
} from '../../sync/store.ts';
import { recordSyncRun } from '../../sync/sync-run.ts';
import type { SeverityRules } from '../../severity.ts';
import { PD_MAX_WINDOW_DAYS, PD_RATE_LIMIT_PER_MINUTE, type PdIncident, type PdLogEntry } from './api-types.ts';
import { chunkWindow, PagerDutyClient, type PagerDutyClientOptions, type TimeWindow } from './client.ts';
import { mapIncident, mapLogEntry, type MappedEvent, type MappedIncident, type MappedUser } from './mapper.ts';
import { upsertNotifications, upsertUsers, type NotificationRow } from './responders.ts';

const CHECKPOINT_STREAM = 'timeline';
/** Log entries can become visible a little after their timestamp; re-read this much. */
export const INCREMENTAL_OVERLAP_MS = 10 * 60_000;


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

    let writer: BatchWriter | undefined;
    return recordSyncRun(
      db,
      {
        source: 'pagerduty',
        sourceId,
        mode,
        windowStart: since,
        windowEnd: until,
        requestCount: () => client.requestCount,
        writeMs: () => writer?.writeMs ?? 0,
      },
      logger,
      async (runId, counts) => {
        writer = new BatchWriter(db, sourceId, runId, this.options.severity, counts, client);
        const windows = since < until ? chunkWindow({ since, until }, PD_MAX_WINDOW_DAYS) : [];
        for (const window of windows) {
          await this.syncWindow(client, writer, window, includeIncidents, request);
          await advanceCheckpoint(db, sourceId, CHECKPOINT_STREAM, window.until);
        }
      },
    );
  }

  private async syncWindow(
    client: PagerDutyClient,
    writer: BatchWriter,
    window: TimeWindow,
    includeIncidents: boolean,
    request: SyncRequest,
  ): Promise<void> {
    let incidentTotal = 0;
    let incidentsDone = 0;
    for await (const page of prefetchNext(client.incidents(window, (total) => (incidentTotal += total)))) {
      throwIfAborted(request.signal);
      await writer.addIncidents(page);
      incidentsDone += page.length;
      request.progress?.update(`incidents to ${window.until.toISOString().slice(0, 10)}`, incidentsDone, incidentTotal);
    }
    let entryTotal = 0;
    let entriesDone = 0;
    for await (const page of prefetchNext(client.logEntries(window, includeIncidents, (total) => (entryTotal += total)))) {
      throwIfAborted(request.signal);
      await writer.addLogEntries(page);
      entriesDone += page.length;
      request.progress?.update(`log entries to ${window.until.toISOString().slice(0, 10)}`, entriesDone, entryTotal);
    }
    await writer.flush();
  }

  private sourceId(db: Kysely<Database>): Promise<number> {
    const key = this.options.sourceKey ?? this.options.apiUrl;
    return ensureSource(db, 'pagerduty', key, `PagerDuty ${new URL(key).host}`);
  }

  /**
   * A client for many targeted fetches (webhooks): sharing one keeps them
   * serial and paced together. It runs as long as `serve` does, so it is
   * paced evenly at most of the rate limit with only a small burst: a burst
   * of a minute's worth would spend the server's window at once and leave
   * the next events waiting for it to slide. The rest of the limit is the
   * scheduled sync's. The signal ends its waits.
   */
  createIncidentClient(logger: Logger, signal?: AbortSignal): PagerDutyClient {
    const perMinute = this.options.requestsPerMinute ?? PD_RATE_LIMIT_PER_MINUTE;
    return new PagerDutyClient({
      ...this.options,
      requestsPerMinute: Math.max(1, Math.floor(perMinute * 0.85)),
      burstRequests: Math.max(1, Math.floor(perMinute / 20)),
      logger,
      signal,
    });
  }

  /**
   * Brings one incident and its whole timeline up to date (webhooks). The
   * log entries carry the incident's current state, so one request usually
   * does; the incident is fetched on its own only if no entry carried it.
   */
  async syncIncident(
    db: Kysely<Database>,
    incidentId: string,
    logger: Logger,
    client = this.createIncidentClient(logger),
  ): Promise<SyncCounts> {
    const sourceId = await this.sourceId(db);
    const counts: SyncCounts = { requests: 0, recordsUpserted: 0, eventsUpserted: 0, quarantined: 0 };
    const writer = new BatchWriter(db, sourceId, null, this.options.severity, counts, client);
    let carried = false;
    for await (const page of client.incidentLogEntries(incidentId, true)) {
      carried ||= page.some((entry) => entry.incident?.id === incidentId);
      await writer.addLogEntries(page);
    }
    if (!carried) await writer.addIncidents([await client.getIncident(incidentId)]);
    await writer.flush();
    return counts;
  }

  /**
   * Brings every incident that changed since `since` up to date from the
   * account's log entries, each carrying its incident: a few requests for
   * any number of incidents (a webhook storm). Returns the ids of the
   * incidents it wrote; their entries before `since` are not read.
   */
  async syncRecentChanges(
    db: Kysely<Database>,
    since: Date,
    logger: Logger,
    client = this.createIncidentClient(logger),
  ): Promise<{ counts: SyncCounts; incidentIds: Set<string> }> {
    const sourceId = await this.sourceId(db);
    const counts: SyncCounts = { requests: 0, recordsUpserted: 0, eventsUpserted: 0, quarantined: 0 };
    const writer = new BatchWriter(db, sourceId, null, this.options.severity, counts, client);
    // Up to the end of the current second, so that an entry of this very second is read.
    const until = new Date(floorToSecond(new Date()).getTime() + 1000);
    const incidentIds = new Set<string>();
    for await (const page of client.logEntries({ since: floorToSecond(since), until }, true)) {
      for (const entry of page) if (entry.incident?.id) incidentIds.add(entry.incident.id);
      await writer.addLogEntries(page);
    }
    await writer.flush();
    return { counts, incidentIds };
  }
}

/** Records buffered before one write; a few API pages' worth. */
const FLUSH_RECORDS = 5_000;

/**
 * Buffers mapped pages and writes them in one transaction per batch: the
 * incidents, then the events that refer to them, then the timeline fields
 * derived from all stored events. A failed or interrupted sync never leaves
 * half a batch, and the sync flushes before it moves the checkpoint.
 */
class BatchWriter {
  writeMs = 0;
  private incidents = new Map<string, MappedIncident>();
  private events = new Map<string, MappedEvent>();
  private payloads = new Map<string, PdLogEntry>();
  private rejected: QuarantinedRecord[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sourceId: number,
    private readonly runId: number | null,
    private readonly severity: SeverityRules,
    private readonly counts: SyncCounts,
    private readonly client: PagerDutyClient,
  ) {}

  async addIncidents(records: PdIncident[]): Promise<void> {
    for (const record of records) this.addIncident(record);
    await this.flushIfFull();
  }

  async addLogEntries(entries: PdLogEntry[]): Promise<void> {
    for (const entry of entries) {
      const result = mapLogEntry(entry);
      if (!result.ok) {
        this.rejected.push({ recordKind: 'pagerduty.log_entry', externalId: result.externalId, reason: result.reason, payload: entry });
        continue;
      }
      this.events.set(result.value.externalId, result.value);
      this.payloads.set(result.value.externalId, entry);
      // An included incident is its state now: newer than anything buffered.
      if (result.value.incident) this.addIncident(result.value.incident);
    }
    await this.flushIfFull();
  }

  private addIncident(record: PdIncident): void {
    const result = mapIncident(record, this.severity);
    if (result.ok) this.incidents.set(result.value.row.externalId, result.value);
    else this.rejected.push({ recordKind: 'pagerduty.incident', externalId: result.externalId, reason: result.reason, payload: record });
  }

  private async flushIfFull(): Promise<void> {
    if (this.incidents.size + this.events.size + this.rejected.length >= FLUSH_RECORDS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.incidents.size + this.events.size + this.rejected.length === 0) return;
    let started = performance.now();
    const incidents = [...this.incidents.values()];
    const events = [...this.events.values()];
    const rejected = this.rejected;
    const payloads = this.payloads;
    this.incidents = new Map();
    this.events = new Map();
    this.payloads = new Map();
    this.rejected = [];

    // Entries of incidents we have never seen (created before the synced
    // history) are completed with a targeted fetch, outside the transaction.
    const buffered = new Set(incidents.map((incident) => incident.row.externalId));
    const known = await this.incidentIds(events.map((event) => event.incidentExternalId).filter((id) => !buffered.has(id)));
    const missing = [...new Set(events.map((event) => event.incidentExternalId))].filter((id) => !buffered.has(id) && !known.has(id));
    if (missing.length > 0) {
      this.writeMs += performance.now() - started;
      for (const id of missing) {
        const fetched = await this.fetchIncident(id);
        const incident = fetched ? mapIncident(fetched, this.severity) : undefined;
        if (incident?.ok) incidents.push(incident.value);
      }
      started = performance.now();
    }

    await this.db.transaction().execute(async (trx) => {
      await relaxDurability(trx);
      const services = await upsertRefs(trx, 'services', this.sourceId, nonNull(incidents.map((incident) => incident.service)));
      const teams = await upsertRefs(trx, 'teams', this.sourceId, nonNull(incidents.map((incident) => incident.team)));
      const upserted = await upsertIncidents(trx, this.sourceId, incidents.map((incident) => incident.row), services, teams);
      const ids = new Map([...known, ...upserted]);
      const rows: EventRow[] = [];
      const notifications: NotificationRow[] = [];
      for (const event of events) {
        const incidentId = ids.get(event.incidentExternalId);
        if (incidentId === undefined) {
          rejected.push({
            recordKind: 'pagerduty.log_entry',
            externalId: event.externalId,
            reason: `log entry refers to incident ${event.incidentExternalId}, which PagerDuty did not return`,
            payload: payloads.get(event.externalId),
          });
          continue;
        }
        rows.push({ ...event, incidentId });
        if (event.notification) {
          notifications.push({ ...event.notification, incidentId, externalId: event.externalId, notifiedAt: event.occurredAt });
        }
      }
      await upsertEvents(trx, this.sourceId, rows);
      // Users named by the entries, before what refers to them: notifications and acknowledgements.
      await upsertUsers(trx, this.sourceId, entryUsers(rows, notifications), 'log_entries');
      await upsertNotifications(trx, this.sourceId, notifications);
      await refreshTimelineFields(trx, [...upserted.values(), ...rows.map((row) => row.incidentId)]);
      await quarantine(trx, this.sourceId, this.runId, rejected);
      this.counts.recordsUpserted += upserted.size;
      this.counts.eventsUpserted += rows.length;
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

  private async incidentIds(externalIds: string[]): Promise<Map<string, number>> {
    const unique = [...new Set(externalIds)];
    if (unique.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('incidents')
      .select(['id', 'external_id'])
      .where('source_id', '=', this.sourceId)
      .where('external_id', '=', (eb) => eb.fn.any(eb.val(unique)))
      .execute();
    return new Map(rows.map((row) => [row.external_id, row.id]));
  }
}

/** The users entries name: those notified, and users who acknowledged or resolved. */
function entryUsers(events: (EventRow & Pick<MappedEvent, 'agent'>)[], notifications: NotificationRow[]): MappedUser[] {
  const users = notifications.map((notification) => notification.user);
  for (const event of events) {
    if (event.agentType === 'user' && event.agentId && (event.type === 'acknowledge' || event.type === 'resolve')) {
      users.push({ externalId: event.agentId, name: event.agent ?? event.agentId, timeZone: null, htmlUrl: null });
    }
  }
  return users;
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

