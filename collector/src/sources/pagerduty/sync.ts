import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { ApiError } from '../../errors.ts';
import type { TimeWindow } from '../../http/paging.ts';
import type { Logger } from '../../logger.ts';
import type { SeverityRules } from '../../severity.ts';
import { BatchWriter, type BatchAdapter, type WriteResult } from '../../sync/batch-writer.ts';
import type { SourceAccount, SourceSync, SyncRequest, SyncSummary } from '../../sync/source.ts';
import {
  ensureSource,
  refreshTimelineFields,
  upsertEvents,
  upsertIncidents,
  upsertRefs,
  type EventRow,
  type QuarantinedRecord,
  type SyncCounts,
} from '../../sync/store.ts';
import { recordReconciledChanges, type ReconciledChange } from '../../sync/reconciled-changes.ts';
import { floorToSecond, runSyncPlan, type StreamPage } from '../../sync/sync-plan.ts';
import {
  PD_MAX_WINDOW_DAYS,
  PD_RATE_LIMIT_PER_MINUTE,
  type PdIncident,
  type PdLogEntry,
  type PdUser,
} from './api-types.ts';
import { PagerDutyClient, type PagerDutyClientOptions } from './client.ts';
import { PAGERDUTY_KIND } from './kind.ts';
import { mapIncident, mapLogEntry, mapUser, type MappedEvent, type MappedIncident, type MappedUser } from './mapper.ts';
import { upsertNotifications, upsertUsers, type NotificationRow } from './responders.ts';

/** Log entries can become visible a little after their timestamp; re-read this much. */
export const INCREMENTAL_OVERLAP_MS = 10 * 60_000;

/** `pagerduty.reconcileDays` when not configured. */
export const DEFAULT_RECONCILE_DAYS = 30;

/** Records buffered before one write; a few API pages' worth. */
const FLUSH_RECORDS = 5_000;

export interface PagerDutySyncOptions extends Omit<PagerDutyClientOptions, 'logger' | 'signal'> {
  /** The account's name; the single-account variables name it after the kind. */
  name?: string;
  /** First day of history for a full sync. */
  historyStart: Date;
  severity: SeverityRules;
  /** Every incremental sync re-reads the incidents created this many days back (`pagerduty.reconcileDays`). */
  reconcileDays?: number;
  /** The sync's notion of now (tests pin it). */
  now?: () => Date;
}

/** A page of one of the lists a sync reads. */
type PdPage =
  | { list: 'users'; records: PdUser[] }
  /** `reconciling`: re-read to find what changed without a log entry. */
  | { list: 'incidents'; records: PdIncident[]; reconciling?: boolean }
  | { list: 'log_entries'; records: PdLogEntry[] };

/**
 * Walks [start, now) in windows of at most six months: incidents created in
 * the window, then the window's log entries, which also bring incidents
 * created earlier whose state changed. The checkpoint moves after each
 * window, so an interrupted sync resumes where it stopped.
 */
export class PagerDutySync implements SourceSync {
  readonly account: SourceAccount;

  constructor(private readonly options: PagerDutySyncOptions) {
    this.account = { name: options.name ?? PAGERDUTY_KIND, kind: PAGERDUTY_KIND, baseUrl: options.apiUrl };
  }

  run(db: Kysely<Database>, request: SyncRequest, logger: Logger): Promise<SyncSummary> {
    const client = new PagerDutyClient({ ...this.options, logger, signal: request.signal });
    const day = (window: TimeWindow) => window.until.toISOString().slice(0, 10);
    const { historyStart, reconcileDays = DEFAULT_RECONCILE_DAYS } = this.options;
    // Every sync brings the users and their zones up to date (docs/metrics.md §10), once.
    let usersRead = false;
    return runSyncPlan<PdPage, PdWriteRecord>(
      db,
      {
        account: this.account,
        historyStart: this.options.historyStart,
        now: this.options.now,
        requestCount: () => client.requestCount,
        flushRecords: FLUSH_RECORDS,
        batch: new PagerDutyBatch(db, this.options.severity, client, logger.child({ source: this.account.name })),
        streams: [
          {
            checkpoint: 'timeline',
            overlapMs: INCREMENTAL_OVERLAP_MS,
            maxWindowDays: PD_MAX_WINDOW_DAYS,
            async *read(window, mode): AsyncGenerator<StreamPage<PdPage>> {
              if (!usersRead) {
                usersRead = true;
                for await (const records of client.users()) {
                  yield {
                    page: { list: 'users', records },
                    size: records.length,
                    stage: `users, before incidents to ${day(window)}`,
                    total: 0,
                  };
                }
              }
              let total = 0;
              for await (const records of client.incidents(window, (count) => (total += count))) {
                yield {
                  page: { list: 'incidents', records },
                  size: records.length,
                  stage: `incidents to ${day(window)}`,
                  total,
                };
              }
              // An incremental sync must notice old incidents that changed: take
              // their current state from the log entries' included incidents.
              total = 0;
              for await (const records of client.logEntries(
                window,
                mode === 'incremental',
                (count) => (total += count)
              )) {
                yield {
                  page: { list: 'log_entries', records },
                  size: records.length,
                  stage: `log entries to ${day(window)}`,
                  total,
                };
              }
            },
          },
          {
            // A priority, urgency, title, service or team set after the fact
            // leaves no log entry: re-list the incidents themselves, recent
            // ones every sync and the whole history when reconciling. A full
            // sync has just listed them all.
            checkpoint: 'reconcile',
            overlapMs: 0,
            maxWindowDays: PD_MAX_WINDOW_DAYS,
            range({ mode, reconcile }, until) {
              if (mode === 'full') {
                return null;
              }
              if (reconcile) {
                return { since: historyStart, until };
              }
              if (mode !== 'incremental') {
                return null;
              }
              const since = new Date(Math.max(historyStart.getTime(), until.getTime() - reconcileDays * 86_400_000));
              return { since, until };
            },
            async *read(window): AsyncGenerator<StreamPage<PdPage>> {
              let total = 0;
              for await (const records of client.incidents(window, (count) => (total += count))) {
                yield {
                  page: { list: 'incidents', records, reconciling: true },
                  size: records.length,
                  stage: `re-reading incidents to ${day(window)}`,
                  total,
                };
              }
            },
          },
        ],
      },
      request,
      logger
    );
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
    client = this.createIncidentClient(logger)
  ): Promise<SyncCounts> {
    const { writer, counts } = await this.webhookWriter(db, client, logger);
    let carried = false;
    for await (const page of client.incidentLogEntries(incidentId, true)) {
      carried ||= page.some((entry) => entry.incident?.id === incidentId);
      await writer.add({ list: 'log_entries', records: page });
    }
    if (!carried) {
      await writer.add({ list: 'incidents', records: [await client.getIncident(incidentId)] });
    }
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
    client = this.createIncidentClient(logger)
  ): Promise<{ counts: SyncCounts; incidentIds: Set<string> }> {
    const { writer, counts } = await this.webhookWriter(db, client, logger);
    // Up to the end of the current second, so that an entry of this very second is read.
    const until = new Date(floorToSecond(new Date()).getTime() + 1000);
    const incidentIds = new Set<string>();
    for await (const page of client.logEntries({ since: floorToSecond(since), until }, true)) {
      for (const entry of page) {
        if (entry.incident?.id) {
          incidentIds.add(entry.incident.id);
        }
      }
      await writer.add({ list: 'log_entries', records: page });
    }
    await writer.flush();
    return { counts, incidentIds };
  }

  private async webhookWriter(db: Kysely<Database>, client: PagerDutyClient, logger: Logger) {
    const sourceId = await ensureSource(db, this.account);
    const counts: SyncCounts = { requests: 0, recordsUpserted: 0, eventsUpserted: 0, quarantined: 0 };
    const batch = new PagerDutyBatch(db, this.options.severity, client, logger);
    return { writer: new BatchWriter(db, sourceId, null, batch, counts, FLUSH_RECORDS), counts };
  }
}

/**
 * What one write stores: an incident (with its service and team) or a log
 * entry, the incidents first so that the entries of a half written on its
 * own find theirs.
 */
type PdWriteRecord =
  | { type: 'user'; user: MappedUser; payload: PdUser }
  | { type: 'incident'; incident: MappedIncident; payload: PdIncident; reconciling: boolean }
  | { type: 'event'; event: MappedEvent; payload: PdLogEntry; incidentId: number | undefined };

/**
 * PagerDuty's side of the batch flush: the incidents, then the events that
 * refer to them, then the timeline fields derived from all stored events.
 */
class PagerDutyBatch implements BatchAdapter<PdPage, PdWriteRecord> {
  private users = new Map<string, { user: MappedUser; payload: PdUser }>();
  /** A webhook refresh lists /users at most once, when its entries name a user not yet stored. */
  private usersListed = false;
  private incidents = new Map<string, { incident: MappedIncident; payload: PdIncident; reconciling: boolean }>();
  private events = new Map<string, { event: MappedEvent; payload: PdLogEntry }>();
  private rejected: QuarantinedRecord[] = [];
  constructor(
    private readonly db: Kysely<Database>,
    private readonly severity: SeverityRules,
    private readonly client: PagerDutyClient,
    private readonly logger: Logger
  ) {}

  get buffered(): number {
    return this.users.size + this.incidents.size + this.events.size + this.rejected.length;
  }

  add(page: PdPage): void {
    if (page.list === 'users') {
      this.usersListed = true;
      for (const record of page.records) {
        const result = mapUser(record);
        if (result.ok) {
          this.users.set(result.value.externalId, { user: result.value, payload: record });
        } else {
          this.rejected.push({
            recordKind: 'pagerduty.user',
            externalId: result.externalId,
            reason: result.reason,
            payload: record,
          });
        }
      }
      return;
    }
    if (page.list === 'incidents') {
      for (const record of page.records) {
        this.addIncident(record, page.reconciling === true);
      }
      return;
    }
    for (const entry of page.records) {
      const result = mapLogEntry(entry);
      if (!result.ok) {
        this.rejected.push({
          recordKind: 'pagerduty.log_entry',
          externalId: result.externalId,
          reason: result.reason,
          payload: entry,
        });
        continue;
      }
      this.events.set(result.value.externalId, { event: result.value, payload: entry });
      // An included incident is its state now: newer than anything buffered.
      if (result.value.incident) {
        this.addIncident(result.value.incident);
      }
    }
  }

  private addIncident(record: PdIncident, reconciling = false): void {
    const result = mapIncident(record, this.severity);
    if (result.ok) {
      this.incidents.set(result.value.row.externalId, { incident: result.value, payload: record, reconciling });
    } else {
      this.rejected.push({
        recordKind: 'pagerduty.incident',
        externalId: result.externalId,
        reason: result.reason,
        payload: record,
      });
    }
  }

  /**
   * Entries of incidents we have never seen (created before the synced
   * history) are completed with a targeted fetch, outside any transaction.
   */
  async take(sourceId: number): Promise<{ units: PdWriteRecord[]; rejected: QuarantinedRecord[] }> {
    const events = [...this.events.values()];
    if (
      !this.usersListed &&
      (await this.namesUnknownUsers(
        sourceId,
        events.map(({ event }) => event)
      ))
    ) {
      this.add({ list: 'users', records: await this.listUsers() });
    }
    const users = [...this.users.values()];
    const incidents = [...this.incidents.values()];
    const rejected = this.rejected;
    this.users = new Map();
    this.incidents = new Map();
    this.events = new Map();
    this.rejected = [];

    const buffered = new Set(incidents.map(({ incident }) => incident.row.externalId));
    const outside = [...new Set(events.map(({ event }) => event.incidentExternalId))].filter((id) => !buffered.has(id));
    const known = await this.incidentIds(this.db, sourceId, outside);
    for (const id of outside.filter((id) => !known.has(id))) {
      const fetched = await this.fetchIncident(id);
      const incident = fetched ? mapIncident(fetched, this.severity) : undefined;
      if (fetched && incident?.ok) {
        incidents.push({ incident: incident.value, payload: fetched, reconciling: false });
      }
    }
    return {
      units: [
        ...users.map(({ user, payload }): PdWriteRecord => ({ type: 'user', user, payload })),
        ...incidents.map(({ incident, payload, reconciling }): PdWriteRecord => ({
          type: 'incident',
          incident,
          payload,
          reconciling,
        })),
        ...events.map(({ event, payload }): PdWriteRecord => ({
          type: 'event',
          event,
          payload,
          incidentId: known.get(event.incidentExternalId),
        })),
      ],
      rejected,
    };
  }

  async write(trx: Transaction<Database>, sourceId: number, records: PdWriteRecord[]): Promise<WriteResult> {
    const users: MappedUser[] = [];
    const incidents: MappedIncident[] = [];
    const reconciled: MappedIncident[] = [];
    const events: Array<Extract<PdWriteRecord, { type: 'event' }>> = [];
    for (const record of records) {
      if (record.type === 'user') {
        users.push(record.user);
      } else if (record.type === 'incident') {
        incidents.push(record.incident);
        if (record.reconciling) {
          reconciled.push(record.incident);
        }
      } else {
        events.push(record);
      }
    }
    const changes = await changesWithoutLogEntry(trx, sourceId, reconciled);
    await upsertUsers(trx, sourceId, users, 'users');
    const services = await upsertRefs(
      trx,
      'services',
      sourceId,
      nonNull(incidents.map((incident) => incident.service))
    );
    const teams = await upsertRefs(trx, 'teams', sourceId, nonNull(incidents.map((incident) => incident.team)));
    const upserted = await upsertIncidents(
      trx,
      sourceId,
      incidents.map((incident) => incident.row),
      services,
      teams
    );
    // Written apart from its incident (a batch split around a refused record): look it up.
    const unresolved = events.filter(
      (record) => record.incidentId === undefined && !upserted.has(record.event.incidentExternalId)
    );
    const found = await this.incidentIds(
      trx,
      sourceId,
      unresolved.map((record) => record.event.incidentExternalId)
    );
    const rejected: QuarantinedRecord[] = [];
    const rows: EventRow[] = [];
    const notifications: NotificationRow[] = [];
    for (const { event, payload, incidentId: known } of events) {
      const incidentId = known ?? upserted.get(event.incidentExternalId) ?? found.get(event.incidentExternalId);
      if (incidentId === undefined) {
        rejected.push({
          recordKind: 'pagerduty.log_entry',
          externalId: event.externalId,
          reason: `log entry refers to incident ${event.incidentExternalId}, which is not stored (PagerDuty did not return it, or it is quarantined)`,
          payload,
        });
        continue;
      }
      rows.push({ ...event, incidentId });
      if (event.notification) {
        notifications.push({
          ...event.notification,
          incidentId,
          externalId: event.externalId,
          notifiedAt: event.occurredAt,
        });
      }
    }
    await upsertEvents(trx, sourceId, rows);
    // Users named by the entries, before what refers to them: notifications and acknowledgements.
    await upsertUsers(trx, sourceId, entryUsers(events.map(({ event }) => event)), 'log_entries');
    await upsertNotifications(trx, sourceId, notifications);
    await refreshTimelineFields(trx, [...upserted.values(), ...rows.map((row) => row.incidentId)]);
    await recordReconciledChanges(trx, sourceId, changes, new Date(), this.logger);
    return { records: upserted.size, events: rows.length, rejected };
  }

  refused(record: PdWriteRecord, reason: string): QuarantinedRecord {
    if (record.type === 'user') {
      return { recordKind: 'pagerduty.user', externalId: record.user.externalId, reason, payload: record.payload };
    }
    return record.type === 'incident'
      ? {
          recordKind: 'pagerduty.incident',
          externalId: record.incident.row.externalId,
          reason,
          payload: record.payload,
        }
      : { recordKind: 'pagerduty.log_entry', externalId: record.event.externalId, reason, payload: record.payload };
  }

  private async listUsers(): Promise<PdUser[]> {
    const users: PdUser[] = [];
    for await (const page of this.client.users()) {
      users.push(...page);
    }
    return users;
  }

  private async namesUnknownUsers(sourceId: number, events: MappedEvent[]): Promise<boolean> {
    const named = [...new Set(entryUsers(events).map((user) => user.externalId))];
    if (named.length === 0) {
      return false;
    }
    const stored = await this.db
      .selectFrom('users')
      .select('external_id')
      .where('source_id', '=', sourceId)
      .where('external_id', '=', (eb) => eb.fn.any(eb.val(named)))
      .execute();
    return stored.length < named.length;
  }

  private async fetchIncident(id: string): Promise<PdIncident | undefined> {
    try {
      return await this.client.getIncident(id);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        return undefined;
      }
      throw error;
    }
  }

  private async incidentIds(
    db: Kysely<Database> | Transaction<Database>,
    sourceId: number,
    externalIds: string[]
  ): Promise<Map<string, number>> {
    const unique = [...new Set(externalIds)];
    if (unique.length === 0) {
      return new Map();
    }
    const rows = await db
      .selectFrom('incidents')
      .select(['id', 'external_id'])
      .where('source_id', '=', sourceId)
      .where('external_id', '=', (eb) => eb.fn.any(eb.val(unique)))
      .execute();
    return new Map(rows.map((row) => [row.external_id, row.id]));
  }
}

/** The users entries name: those notified, and users who acknowledged or resolved. */
function entryUsers(
  events: Array<Pick<MappedEvent, 'agent' | 'agentType' | 'agentId' | 'type' | 'notification'>>
): MappedUser[] {
  const users: MappedUser[] = [];
  for (const event of events) {
    if (event.notification) {
      users.push(event.notification.user);
    } else if (
      event.agentType === 'user' &&
      event.agentId &&
      (event.type === 'acknowledge' || event.type === 'resolve')
    ) {
      users.push({ externalId: event.agentId, name: event.agent ?? event.agentId, timeZone: null, htmlUrl: null });
    }
  }
  return users;
}

function nonNull<T>(values: Array<T | null>): T[] {
  return values.filter((value): value is T => value !== null);
}

/** The fields a reconciliation compares: what an incident can change without a log entry. */
const RECONCILED_FIELDS = ['priority', 'urgency', 'title', 'service', 'team', 'status'] as const;

/**
 * What re-read incidents show that their stored rows do not: the changes
 * the log entries never recorded (a priority set during the review). An
 * incident not stored yet is new, not changed.
 */
async function changesWithoutLogEntry(
  trx: Transaction<Database>,
  sourceId: number,
  incidents: readonly MappedIncident[]
): Promise<ReconciledChange[]> {
  if (incidents.length === 0) {
    return [];
  }
  const stored = await trx
    .selectFrom('incidents as i')
    .leftJoin('services as sv', 'sv.id', 'i.service_id')
    .leftJoin('teams as tm', 'tm.id', 'i.team_id')
    .select([
      'i.external_id',
      'i.priority_raw',
      'i.urgency',
      'i.title',
      'i.status',
      'sv.external_id as service_id',
      'sv.name as service',
      'tm.external_id as team_id',
      'tm.name as team',
    ])
    .where('i.source_id', '=', sourceId)
    .where(
      'i.external_id',
      'in',
      incidents.map((incident) => incident.row.externalId)
    )
    .execute();
  const byId = new Map(stored.map((row) => [row.external_id, row]));
  const changes: ReconciledChange[] = [];
  for (const { row, service, team } of incidents) {
    const before = byId.get(row.externalId);
    if (!before) {
      continue;
    }
    // [before, after, how each is shown]
    const compared: Record<(typeof RECONCILED_FIELDS)[number], [unknown, unknown, string | null, string | null]> = {
      priority: [before.priority_raw, row.priorityRaw, before.priority_raw, row.priorityRaw],
      urgency: [before.urgency, row.urgency, before.urgency, row.urgency],
      title: [before.title, row.title, before.title, row.title],
      service: [before.service_id, service?.externalId ?? null, before.service, service?.name ?? null],
      team: [before.team_id, team?.externalId ?? null, before.team, team?.name ?? null],
      status: [before.status, row.status, before.status, row.status],
    };
    for (const field of RECONCILED_FIELDS) {
      const [was, is, from, to] = compared[field];
      if (was !== is) {
        changes.push({ recordKind: 'incident', recordId: row.externalId, recordKey: row.externalId, field, from, to });
      }
    }
  }
  return changes;
}
