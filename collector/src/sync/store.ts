import { createHash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, IncidentEventType, SyncMode, SyncOutcome } from '../db/schema.ts';
import type { Severity } from '../config.ts';
import { UsageError } from '../errors.ts';
import type { SourceAccount } from './source.ts';

/**
 * Writes shared by every source: one statement per batch, idempotent on the
 * natural key (source, external id) so a retried sync never duplicates a row.
 */

export type Db = Kysely<Database> | Transaction<Database>;

/**
 * Sync pages commit without waiting for the WAL flush. A crash can lose the
 * last few pages, checkpoint included, in one piece (commits stay atomic and
 * ordered), and the next sync re-reads them; in exchange a page costs no
 * fsync, which is most of its time on ordinary disks.
 */
export async function relaxDurability(trx: Transaction<Database>): Promise<void> {
  await sql`SET LOCAL synchronous_commit = off`.execute(trx);
}

/**
 * The account's row in `sources`, by its configured name. An account keeps
 * its row when its URL changes; a name once used by another kind is refused,
 * so one account's rows are never read as another kind's.
 */
export async function ensureSource(db: Db, account: SourceAccount): Promise<number> {
  const row = await db
    .insertInto('sources')
    .values({ kind: account.kind, base_url: account.baseUrl, name: account.name })
    .onConflict((oc) =>
      oc.column('name').doUpdateSet({ base_url: account.baseUrl }).where('sources.kind', '=', account.kind)
    )
    .returning('id')
    .executeTakeFirst();
  if (!row) {
    throw new UsageError(
      `the source name '${account.name}' already belongs to an account of another kind in this database: choose another name`
    );
  }
  return row.id;
}

export interface NamedRef {
  externalId: string;
  name: string;
  htmlUrl: string | null;
}

/** Upserts teams or services and returns their ids by external id. */
export async function upsertRefs(
  db: Db,
  table: 'teams' | 'services',
  sourceId: number,
  refs: Iterable<NamedRef>
): Promise<Map<string, number>> {
  const unique = new Map<string, NamedRef>();
  for (const ref of refs) {
    unique.set(ref.externalId, ref);
  }
  if (unique.size === 0) {
    return new Map();
  }
  const rows = await db
    .insertInto(table)
    .values(
      [...unique.values()].map((ref) => ({
        source_id: sourceId,
        external_id: ref.externalId,
        name: ref.name,
        html_url: ref.htmlUrl,
      }))
    )
    .onConflict((oc) =>
      oc.columns(['source_id', 'external_id']).doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        html_url: eb.ref('excluded.html_url'),
      }))
    )
    .returning(['id', 'external_id'])
    .execute();
  return new Map(rows.map((row) => [row.external_id, row.id]));
}

export interface IncidentRow {
  externalId: string;
  number: number | null;
  title: string;
  status: string;
  urgency: string | null;
  priorityRaw: string | null;
  severity: Severity;
  serviceExternalId: string | null;
  teamExternalId: string | null;
  createdAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  merged: boolean;
  htmlUrl: string | null;
  sourceUpdatedAt: string | null;
}

/**
 * Upserts a batch of incidents; returns internal ids by external id. Rows go
 * as one array per column through unnest(): one statement and a fixed
 * number of parameters whatever the batch size.
 */
export async function upsertIncidents(
  db: Db,
  sourceId: number,
  incidents: IncidentRow[],
  serviceIds: Map<string, number>,
  teamIds: Map<string, number>
): Promise<Map<string, number>> {
  // One row per key (ON CONFLICT may not touch a row twice), in key order so
  // that concurrent writers take row locks in the same order.
  const rows = [...new Map(incidents.map((incident) => [incident.externalId, incident])).values()].sort((a, b) =>
    a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0
  );
  if (rows.length === 0) {
    return new Map();
  }
  const column = <T>(pick: (row: IncidentRow) => T) => rows.map(pick);
  const result = await sql<{ id: number; external_id: string }>`
    INSERT INTO incidents AS i (
      source_id, external_id, number, title, status, urgency, priority_raw, severity, service_id, team_id,
      created_at, acknowledged_at, resolved_at, merged, html_url, source_updated_at)
    SELECT ${sourceId}, u.*
    FROM unnest(
      ${column((row) => row.externalId)}::text[], ${column((row) => row.number)}::int[],
      ${column((row) => row.title)}::text[], ${column((row) => row.status)}::text[],
      ${column((row) => row.urgency)}::text[], ${column((row) => row.priorityRaw)}::text[],
      ${column((row) => row.severity)}::text[],
      ${column((row) => (row.serviceExternalId ? (serviceIds.get(row.serviceExternalId) ?? null) : null))}::bigint[],
      ${column((row) => (row.teamExternalId ? (teamIds.get(row.teamExternalId) ?? null) : null))}::bigint[],
      ${column((row) => row.createdAt)}::timestamptz[], ${column((row) => row.acknowledgedAt)}::timestamptz[],
      ${column((row) => row.resolvedAt)}::timestamptz[], ${column((row) => row.merged)}::boolean[],
      ${column((row) => row.htmlUrl)}::text[], ${column((row) => row.sourceUpdatedAt)}::timestamptz[]) AS u
    ON CONFLICT (source_id, external_id) DO UPDATE SET
      number = excluded.number, title = excluded.title, status = excluded.status, urgency = excluded.urgency,
      priority_raw = excluded.priority_raw, severity = excluded.severity, service_id = excluded.service_id,
      team_id = excluded.team_id, created_at = excluded.created_at, acknowledged_at = excluded.acknowledged_at,
      resolved_at = excluded.resolved_at, merged = excluded.merged, html_url = excluded.html_url,
      source_updated_at = excluded.source_updated_at, synced_at = now()
    RETURNING i.id, i.external_id`.execute(db);
  return new Map(result.rows.map((row) => [row.external_id, Number(row.id)]));
}

export interface EventRow {
  incidentId: number;
  externalId: string;
  type: IncidentEventType;
  rawType: string;
  occurredAt: string;
  agent: string | null;
  summary: string | null;
  /** Who made the entry (user, service, integration...) and through which channel; PagerDuty only. */
  agentType?: string | null;
  agentId?: string | null;
  channelType?: string | null;
}

/**
 * Timeline entries are immutable at the source (a PagerDuty log entry or a
 * Jira changelog history never changes once written), so a re-read one is
 * skipped rather than rewritten.
 */
export async function upsertEvents(db: Db, sourceId: number, events: EventRow[]): Promise<void> {
  const rows = [...new Map(events.map((event) => [event.externalId, event])).values()];
  if (rows.length === 0) {
    return;
  }
  const column = <T>(pick: (row: EventRow) => T) => rows.map(pick);
  await sql`
    INSERT INTO incident_events AS e (source_id, incident_id, external_id, type, raw_type, occurred_at, agent, summary,
                                      agent_type, agent_id, channel_type)
    SELECT ${sourceId}, u.*
    FROM unnest(
      ${column((row) => row.incidentId)}::bigint[], ${column((row) => row.externalId)}::text[],
      ${column((row) => row.type)}::text[], ${column((row) => row.rawType)}::text[],
      ${column((row) => row.occurredAt)}::timestamptz[], ${column((row) => row.agent)}::text[],
      ${column((row) => row.summary)}::text[], ${column((row) => row.agentType ?? null)}::text[],
      ${column((row) => row.agentId ?? null)}::text[], ${column((row) => row.channelType ?? null)}::text[]) AS u
    -- Entries stored before agents were recorded get them on the next read.
    ON CONFLICT (source_id, external_id) DO UPDATE SET
      agent_type = excluded.agent_type, agent_id = excluded.agent_id, channel_type = excluded.channel_type
    WHERE e.agent_type IS NULL AND e.agent_id IS NULL AND e.channel_type IS NULL
      AND (excluded.agent_type, excluded.agent_id, excluded.channel_type) IS DISTINCT FROM (NULL, NULL, NULL)`.execute(
    db
  );
}

/**
 * Derives the timeline fields of docs/metrics.md §1 from every stored event
 * of the given incidents: the FIRST acknowledgement (a re-ack after an unack
 * does not move it) and the user who made it, the unack count, whether it was
 * ever escalated, and the last resolve and what made it (section 11) while
 * the incident is resolved. Incidents with no stored events keep the values
 * their record gave.
 */
export async function refreshTimelineFields(db: Db, incidentIds: Iterable<number>): Promise<void> {
  const ids = [...new Set(incidentIds)];
  if (ids.length === 0) {
    return;
  }
  await sql`
    UPDATE incidents AS i
    SET acknowledged_at = e.first_ack,
        acknowledged_by = e.first_ack_by,
        unack_count     = e.unacks,
        escalated       = e.escalations > 0,
        resolved_at     = CASE WHEN i.status = 'resolved'
                               THEN coalesce(e.last_resolve, i.resolved_at) END,
        resolved_by     = CASE WHEN i.status = 'resolved' THEN e.last_resolve_by END
    FROM (
      SELECT g.*,
             (SELECT u.id FROM users u
              WHERE g.first_ack_agent_type = 'user' AND u.source_id = g.source_id AND u.external_id = g.first_ack_agent_id) AS first_ack_by
      FROM (
        SELECT ev.incident_id, inc.source_id,
               min(ev.occurred_at) FILTER (WHERE ev.type = 'acknowledge' AND ev.occurred_at >= inc.created_at) AS first_ack,
               (array_agg(ev.agent_type ORDER BY ev.occurred_at, ev.external_id)
                  FILTER (WHERE ev.type = 'acknowledge' AND ev.occurred_at >= inc.created_at))[1] AS first_ack_agent_type,
               (array_agg(ev.agent_id ORDER BY ev.occurred_at, ev.external_id)
                  FILTER (WHERE ev.type = 'acknowledge' AND ev.occurred_at >= inc.created_at))[1] AS first_ack_agent_id,
               count(*) FILTER (WHERE ev.type = 'unacknowledge')::int AS unacks,
               count(*) FILTER (WHERE ev.type = 'escalate') AS escalations,
               max(ev.occurred_at) FILTER (WHERE ev.type = 'resolve' AND ev.occurred_at >= inc.created_at) AS last_resolve,
               (array_agg(CASE WHEN ev.channel_type = 'timeout' THEN 'timeout'
                               WHEN ev.agent_type IN ('user', 'service', 'integration') THEN ev.agent_type
                               WHEN ev.agent_type IS NOT NULL THEN 'other' END
                          ORDER BY ev.occurred_at DESC, ev.external_id DESC)
                  FILTER (WHERE ev.type = 'resolve' AND ev.occurred_at >= inc.created_at))[1] AS last_resolve_by
        FROM incident_events AS ev
        JOIN incidents AS inc ON inc.id = ev.incident_id
        WHERE ev.incident_id = ANY(${ids}::bigint[])
        GROUP BY ev.incident_id, inc.source_id
      ) AS g
    ) AS e
    WHERE i.id = e.incident_id
      -- An unchanged row is not rewritten: no dead tuple, no index churn.
      AND (i.acknowledged_at, i.acknowledged_by, i.unack_count, i.escalated, i.resolved_at, i.resolved_by) IS DISTINCT FROM
          (e.first_ack, e.first_ack_by, e.unacks, e.escalations > 0,
           CASE WHEN i.status = 'resolved' THEN coalesce(e.last_resolve, i.resolved_at) END,
           CASE WHEN i.status = 'resolved' THEN e.last_resolve_by END)`.execute(db);
}

export interface QuarantinedRecord {
  recordKind: string;
  externalId: string | null;
  reason: string;
  /** The record as received; stored verbatim as text. */
  payload: unknown;
}

/** Longest external id kept with a quarantined record; the payload keeps the whole record. */
const EXTERNAL_ID_MAX_CHARS = 200;

/** PostgreSQL text cannot hold NUL: it is kept visibly escaped. */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\\u0000') : text;
}

/**
 * Records the mapper could not use or PostgreSQL refused, kept with the
 * reason; a repeat sighting bumps a counter. Whatever a record holds, this
 * write succeeds, so a bad record can never stop a sync.
 */
export async function quarantine(
  db: Db,
  sourceId: number,
  syncRunId: number | null,
  records: QuarantinedRecord[]
): Promise<void> {
  if (records.length === 0) {
    return;
  }
  const unique = new Map<string, QuarantinedRecord & { text: string }>();
  for (const record of records) {
    const text = storable(
      typeof record.payload === 'string' ? record.payload : (JSON.stringify(record.payload) ?? 'undefined')
    );
    const reason = storable(record.reason);
    const hash = createHash('sha256').update(`${reason}\n${text}`).digest('hex');
    // The record may be here because PostgreSQL refused its id (too long, a NUL): keep a storable part of it.
    const externalId = record.externalId === null ? null : storable(record.externalId).slice(0, EXTERNAL_ID_MAX_CHARS);
    unique.set(hash, { ...record, externalId, reason, text });
  }
  await db
    .insertInto('ingest_errors')
    .values(
      [...unique.entries()].map(([hash, record]) => ({
        source_id: sourceId,
        sync_run_id: syncRunId,
        record_kind: record.recordKind,
        external_id: record.externalId,
        reason: record.reason,
        payload: record.text,
        payload_hash: hash,
      }))
    )
    .onConflict((oc) =>
      oc.columns(['source_id', 'record_kind', 'payload_hash']).doUpdateSet({
        last_seen_at: sql`now()`,
        seen_count: sql`ingest_errors.seen_count + 1`,
        sync_run_id: sql`excluded.sync_run_id`,
      })
    )
    .execute();
}

export async function readCheckpoint(db: Db, sourceId: number, stream: string): Promise<Date | undefined> {
  const row = await db
    .selectFrom('sync_checkpoints')
    .select('cursor_at')
    .where('source_id', '=', sourceId)
    .where('stream', '=', stream)
    .executeTakeFirst();
  return row?.cursor_at;
}

/** Moves a checkpoint forward only: a backfill never rewinds what incremental syncs rely on. */
export async function advanceCheckpoint(db: Db, sourceId: number, stream: string, cursorAt: Date): Promise<void> {
  await db
    .insertInto('sync_checkpoints')
    .values({ source_id: sourceId, stream, cursor_at: cursorAt })
    .onConflict((oc) =>
      oc.columns(['source_id', 'stream']).doUpdateSet({
        cursor_at: sql`greatest(sync_checkpoints.cursor_at, excluded.cursor_at)`,
        updated_at: sql`now()`,
      })
    )
    .execute();
}

export interface SyncCounts {
  requests: number;
  recordsUpserted: number;
  eventsUpserted: number;
  quarantined: number;
}

export async function startSyncRun(db: Db, sourceId: number, mode: SyncMode, windowStart: Date): Promise<number> {
  const row = await db
    .insertInto('sync_runs')
    .values({ source_id: sourceId, mode, window_start: windowStart })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function finishSyncRun(
  db: Db,
  runId: number,
  outcome: Exclude<SyncOutcome, 'running'>,
  counts: SyncCounts,
  windowEnd: Date | null,
  error: string | null
): Promise<void> {
  await db
    .updateTable('sync_runs')
    .set({
      outcome,
      finished_at: sql`now()`,
      window_end: windowEnd,
      requests: counts.requests,
      records_upserted: counts.recordsUpserted,
      events_upserted: counts.eventsUpserted,
      quarantined: counts.quarantined,
      error,
    })
    .where('id', '=', runId)
    .execute();
}
