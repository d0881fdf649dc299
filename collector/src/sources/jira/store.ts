import { sql, type ColumnType, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Logger } from '../../logger.ts';
import { recordReconciledChanges, type ReconciledChange } from '../../sync/reconciled-changes.ts';
import { PAGERDUTY_KIND } from '../pagerduty/kind.ts';
import type { ActionItemRow, JiraIssueFacts, JiraIssueKind, PostmortemRow } from './mapper.ts';

/**
 * Jira's writes: post-mortems, action items, the issue facts of
 * sql/003_jira_issues.sql, the reconciliation with what the site still has
 * (sql/011_jira_reconciliation.sql), and the link resolution that runs over
 * all of them. One statement per batch, idempotent on (source, issue id):
 * an issue moved to another project keeps its id and gets a new key.
 */

type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface JiraIssuesTable {
  source_id: number;
  issue_key: string;
  kind: JiraIssueKind;
  issue_id: string;
  linked_keys: string[];
  pagerduty_incident_ids: string[];
  root_cause_key: string | null;
  html_url: string;
  created_at: Timestamp;
  source_updated_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  synced_at: ColumnType<Date, Date | string | undefined, Date | string>;
  deleted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  unmatched_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

type Db = Kysely<Database> | Transaction<Database>;

function withJiraTables(db: Db) {
  return db.withTables<{ jira_issues: JiraIssuesTable }>();
}

/** Rows in key order, so that concurrent writers lock them in the same order. */
function byKey<T>(rows: T[], key: (row: T) => string): T[] {
  const unique = new Map(rows.map((row) => [key(row), row]));
  return [...unique.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export async function upsertIssueFacts(db: Db, sourceId: number, facts: JiraIssueFacts[]): Promise<void> {
  if (facts.length === 0) {
    return;
  }
  await withJiraTables(db)
    .insertInto('jira_issues')
    .values(
      byKey(facts, (fact) => `${fact.issueId}\u0000${fact.kind}`).map((fact) => ({
        source_id: sourceId,
        issue_key: fact.issueKey,
        kind: fact.kind,
        issue_id: fact.issueId,
        linked_keys: fact.linkedKeys,
        pagerduty_incident_ids: fact.pagerdutyIncidentIds,
        root_cause_key: fact.rootCauseKey,
        html_url: fact.htmlUrl,
        created_at: fact.createdAt,
        source_updated_at: fact.updatedAt,
      }))
    )
    .onConflict((oc) =>
      // The search of its kind found it: it is neither deleted nor unmatched.
      oc.columns(['source_id', 'issue_id', 'kind']).doUpdateSet((eb) => ({
        issue_key: eb.ref('excluded.issue_key'),
        linked_keys: eb.ref('excluded.linked_keys'),
        pagerduty_incident_ids: eb.ref('excluded.pagerduty_incident_ids'),
        root_cause_key: eb.ref('excluded.root_cause_key'),
        html_url: eb.ref('excluded.html_url'),
        created_at: eb.ref('excluded.created_at'),
        source_updated_at: eb.ref('excluded.source_updated_at'),
        synced_at: sql`now()`,
        deleted_at: null,
        unmatched_at: null,
      }))
    )
    .execute();
}

/** An issue whose key changed (a move to another project): same id, new key. */
export interface IssueMove {
  issueId: string;
  from: string;
  to: string;
}

/**
 * Gives the stored rows of moved issues their new key before the issues
 * are written again: the incident, post-mortem and action item rows, the
 * issue facts, their pages' URLs and every other issue's links that named
 * the old key. Returns the moves it applied.
 */
export async function applyIssueMoves(
  db: Db,
  sourceId: number,
  issues: ReadonlyArray<{ issueId: string; issueKey: string }>
): Promise<IssueMove[]> {
  if (issues.length === 0) {
    return [];
  }
  const { rows } = await sql<{ issue_id: string; from_key: string; to_key: string }>`
    SELECT DISTINCT j.issue_id, j.issue_key AS from_key, seen.key AS to_key
    FROM unnest(${issues.map((issue) => issue.issueId)}::text[], ${issues.map((issue) => issue.issueKey)}::text[])
         AS seen(id, key)
    JOIN jira_issues AS j ON j.source_id = ${sourceId} AND j.issue_id = seen.id AND j.issue_key <> seen.key
    ORDER BY j.issue_id`.execute(db);
  if (rows.length === 0) {
    return [];
  }
  const from = rows.map((row) => row.from_key);
  const to = rows.map((row) => row.to_key);
  // Keys are [A-Z][A-Z0-9_]*-digits: nothing in them is special to a regular expression.
  const renamed = (table: 'incidents' | 'postmortems' | 'action_items') => sql`
    UPDATE ${sql.table(table)} AS t
    SET external_id = m.to_key, html_url = regexp_replace(t.html_url, '/browse/' || m.from_key || '$', '/browse/' || m.to_key)
    FROM unnest(${from}::text[], ${to}::text[]) AS m(from_key, to_key)
    WHERE t.source_id = ${sourceId} AND t.external_id = m.from_key`;
  await renamed('incidents').execute(db);
  await renamed('postmortems').execute(db);
  await renamed('action_items').execute(db);
  await sql`
    UPDATE jira_issues AS j
    SET issue_key = m.to_key, html_url = regexp_replace(j.html_url, '/browse/' || m.from_key || '$', '/browse/' || m.to_key)
    FROM unnest(${from}::text[], ${to}::text[]) AS m(from_key, to_key)
    WHERE j.source_id = ${sourceId} AND j.issue_key = m.from_key`.execute(db);
  await sql`
    UPDATE jira_issues AS j
    SET linked_keys = ARRAY(
      SELECT coalesce(m.to_key, linked.key)
      FROM unnest(j.linked_keys) WITH ORDINALITY AS linked(key, position)
      LEFT JOIN unnest(${from}::text[], ${to}::text[]) AS m(from_key, to_key) ON m.from_key = linked.key
      ORDER BY linked.position)
    WHERE j.source_id = ${sourceId} AND j.linked_keys && ${from}::text[]`.execute(db);
  return rows.map((row) => ({ issueId: row.issue_id, from: row.from_key, to: row.to_key }));
}

/** A stored issue of one kind, as the reconciliation compares it with the site. */
export interface StoredIssue {
  issueId: string;
  issueKey: string;
  kind: JiraIssueKind;
  /** Deleted or unmatched: it counts nowhere until the site lists it again. */
  removed: boolean;
}

/**
 * The issues of an account that its searches, bounded by `since` on
 * `updated`, should still find: an issue last updated before the bound was
 * never going to be found again, so its absence proves nothing.
 */
export async function storedIssues(db: Db, sourceId: number, since: Date): Promise<StoredIssue[]> {
  const rows = await withJiraTables(db)
    .selectFrom('jira_issues')
    .select(['issue_id', 'issue_key', 'kind', 'deleted_at', 'unmatched_at'])
    .where('source_id', '=', sourceId)
    .where((eb) => eb.or([eb('source_updated_at', 'is', null), eb('source_updated_at', '>=', since)]))
    .execute();
  return rows.map((row) => ({
    issueId: row.issue_id,
    issueKey: row.issue_key,
    kind: row.kind,
    removed: row.deleted_at !== null || row.unmatched_at !== null,
  }));
}

/** What comparing the stored issues with the site found. */
export interface SiteComparison {
  /** Issue ids the site answered 404 for. */
  deleted: string[];
  /** Issues the site still has that the search of their kind no longer finds, with their current key. */
  unmatched: Array<{ issueId: string; kind: JiraIssueKind; issueKey: string }>;
  /** Issues marked deleted or unmatched that the search of their kind finds again. */
  found: Array<{ issueId: string; kind: JiraIssueKind }>;
}

/**
 * Applies a comparison in the sync's closing transaction: marks what the
 * site deleted and what no longer matches its kind's search (with the
 * instant it was found), clears the marks of what is found again, applies
 * the moves the site reported, and records and logs each change. Marks already set
 * keep their instant, so running it again changes nothing.
 */
export async function applySiteComparison(
  trx: Transaction<Database>,
  sourceId: number,
  comparison: SiteComparison,
  foundAt: Date,
  logger: Logger
): Promise<ReconciledChange[]> {
  const moves = await applyIssueMoves(trx, sourceId, comparison.unmatched);
  const changes: ReconciledChange[] = [];
  for (const move of moves) {
    const kinds = await withJiraTables(trx)
      .selectFrom('jira_issues')
      .select('kind')
      .where('source_id', '=', sourceId)
      .where('issue_id', '=', move.issueId)
      .execute();
    for (const { kind } of kinds) {
      changes.push({
        recordKind: kind,
        recordId: move.issueId,
        recordKey: move.to,
        field: 'key',
        from: move.from,
        to: move.to,
      });
    }
  }
  const tables = withJiraTables(trx);
  if (comparison.deleted.length > 0) {
    const rows = await tables
      .updateTable('jira_issues')
      .set({ deleted_at: foundAt })
      .where('source_id', '=', sourceId)
      .where('issue_id', 'in', comparison.deleted)
      .where('deleted_at', 'is', null)
      .returning(['issue_id', 'issue_key', 'kind'])
      .execute();
    for (const row of rows) {
      changes.push({
        recordKind: row.kind,
        recordId: row.issue_id,
        recordKey: row.issue_key,
        field: 'deleted',
        from: null,
        to: foundAt.toISOString(),
      });
    }
  }
  for (const issue of comparison.unmatched) {
    const row = await tables
      .updateTable('jira_issues')
      .set({ unmatched_at: foundAt })
      .where('source_id', '=', sourceId)
      .where('issue_id', '=', issue.issueId)
      .where('kind', '=', issue.kind)
      .where('unmatched_at', 'is', null)
      .returning(['issue_key'])
      .executeTakeFirst();
    if (row) {
      changes.push({
        recordKind: issue.kind,
        recordId: issue.issueId,
        recordKey: row.issue_key,
        field: 'kind',
        from: issue.kind,
        to: null,
      });
    }
  }
  for (const issue of comparison.found) {
    const row = await tables
      .updateTable('jira_issues')
      .set({ deleted_at: null, unmatched_at: null })
      .where('source_id', '=', sourceId)
      .where('issue_id', '=', issue.issueId)
      .where('kind', '=', issue.kind)
      .where((eb) => eb.or([eb('deleted_at', 'is not', null), eb('unmatched_at', 'is not', null)]))
      .returning(['issue_key'])
      .executeTakeFirst();
    if (row) {
      changes.push({
        recordKind: issue.kind,
        recordId: issue.issueId,
        recordKey: row.issue_key,
        field: 'kind',
        from: null,
        to: issue.kind,
      });
    }
  }
  await recordReconciledChanges(trx, sourceId, changes, foundAt, logger);
  return changes;
}

/** Links (postmortem_incidents) are left to resolveJiraLinks. */
export async function upsertPostmortems(db: Db, sourceId: number, rows: PostmortemRow[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await db
    .insertInto('postmortems')
    .values(
      byKey(rows, (row) => row.externalId).map((row) => ({
        source_id: sourceId,
        external_id: row.externalId,
        title: row.title,
        status: row.status,
        status_category: row.statusCategory,
        created_at: row.createdAt,
        completed_at: row.completedAt,
        root_cause_key: row.rootCauseKey,
        html_url: row.htmlUrl,
        source_updated_at: row.sourceUpdatedAt,
      }))
    )
    .onConflict((oc) =>
      oc.columns(['source_id', 'external_id']).doUpdateSet((eb) => ({
        title: eb.ref('excluded.title'),
        status: eb.ref('excluded.status'),
        status_category: eb.ref('excluded.status_category'),
        created_at: eb.ref('excluded.created_at'),
        completed_at: eb.ref('excluded.completed_at'),
        root_cause_key: eb.ref('excluded.root_cause_key'),
        html_url: eb.ref('excluded.html_url'),
        source_updated_at: eb.ref('excluded.source_updated_at'),
        synced_at: sql`now()`,
      }))
    )
    .execute();
}

/** Links (incident_id, postmortem_id) are left to resolveJiraLinks. */
export async function upsertActionItems(db: Db, sourceId: number, rows: ActionItemRow[]): Promise<void> {
  if (rows.length === 0) {
    return;
  }
  await db
    .insertInto('action_items')
    .values(
      byKey(rows, (row) => row.externalId).map((row) => ({
        source_id: sourceId,
        external_id: row.externalId,
        title: row.title,
        status: row.status,
        status_category: row.statusCategory,
        owner: row.owner,
        due_date: row.dueDate,
        created_at: row.createdAt,
        completed_at: row.completedAt,
        html_url: row.htmlUrl,
        source_updated_at: row.sourceUpdatedAt,
      }))
    )
    .onConflict((oc) =>
      oc.columns(['source_id', 'external_id']).doUpdateSet((eb) => ({
        title: eb.ref('excluded.title'),
        status: eb.ref('excluded.status'),
        status_category: eb.ref('excluded.status_category'),
        owner: eb.ref('excluded.owner'),
        due_date: eb.ref('excluded.due_date'),
        created_at: eb.ref('excluded.created_at'),
        completed_at: eb.ref('excluded.completed_at'),
        html_url: eb.ref('excluded.html_url'),
        source_updated_at: eb.ref('excluded.source_updated_at'),
        synced_at: sql`now()`,
      }))
    )
    .execute();
}

/** Which of these PagerDuty incident ids are stored, from any PagerDuty account. */
export async function knownPagerDutyIncidents(db: Db, ids: Iterable<string>): Promise<Set<string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) {
    return new Set();
  }
  const rows = await db
    .selectFrom('incidents')
    .innerJoin('sources', 'sources.id', 'incidents.source_id')
    .select('incidents.external_id')
    .where('sources.kind', '=', PAGERDUTY_KIND)
    .where('incidents.external_id', 'in', unique)
    .execute();
  return new Set(rows.map((row) => row.external_id));
}

/**
 * Derives every Jira link from the stored facts, for all Jira sites at once;
 * running it twice changes nothing. Run it in one transaction:
 *
 * 1. Each Jira incident ticket stands for the PagerDuty incident it refers
 *    to (the earliest, unmerged first), else for its own incident row.
 * 2. A post-mortem belongs to every incident it names: those of its linked
 *    tickets (issue link, parent or sub-task, either direction) and the
 *    PagerDuty incidents it refers to (postmortem_incidents).
 * 3. An action item belongs to a linked post-mortem (the earliest), and to
 *    the incident of a linked ticket, else the first incident of that
 *    post-mortem (merged ones last), else a PagerDuty incident it refers to.
 * 4. Ticket rows now claimed by a PagerDuty incident are deleted: one
 *    incident is never counted twice.
 * 5. Every incident gets its ticket (key, URL) and root cause: the latest
 *    post-mortem's, else the ticket's (docs/metrics.md §8).
 *
 * First, an issue deleted from the site or no longer found by its kind's
 * search marks its row removed (it leaves every figure), and is no ticket,
 * post-mortem or link target; a deleted issue's own links are gone too.
 */
export async function resolveJiraLinks(trx: Transaction<Database>): Promise<void> {
  for (const [table, kind] of [
    ['incidents', 'incident'],
    ['postmortems', 'postmortem'],
    ['action_items', 'action_item'],
  ] as const) {
    await sql`
      UPDATE ${sql.table(table)} AS t
      SET removed_at = j.removed_at
      FROM (SELECT source_id, issue_key, coalesce(deleted_at, unmatched_at) AS removed_at
            FROM jira_issues WHERE kind = ${kind}) AS j
      WHERE t.source_id = j.source_id AND t.external_id = j.issue_key
        AND t.removed_at IS DISTINCT FROM j.removed_at`.execute(trx);
  }

  await sql`
    CREATE TEMP TABLE jira_ticket_target ON COMMIT DROP AS
    SELECT t.source_id, t.issue_key, t.created_at, t.html_url, t.root_cause_key,
           coalesce(pd.id, own.id) AS incident_id,
           pd.id IS NOT NULL AS claimed
    FROM jira_issues AS t
    LEFT JOIN LATERAL (
      SELECT i.id
      FROM incidents AS i
      JOIN sources AS s ON s.id = i.source_id AND s.kind = ${PAGERDUTY_KIND}
      WHERE i.external_id = ANY(t.pagerduty_incident_ids)
      ORDER BY i.merged, i.created_at, i.id
      LIMIT 1
    ) AS pd ON true
    LEFT JOIN incidents AS own ON own.source_id = t.source_id AND own.external_id = t.issue_key
    WHERE t.kind = 'incident' AND t.deleted_at IS NULL AND t.unmatched_at IS NULL`.execute(trx);

  // Links are symmetric: whichever side lists the other is enough.
  await sql`
    CREATE TEMP TABLE jira_edge ON COMMIT DROP AS
    SELECT source_id, issue_key AS from_key, unnest(linked_keys) AS to_key FROM jira_issues WHERE deleted_at IS NULL
    UNION
    SELECT source_id, unnest(linked_keys), issue_key FROM jira_issues WHERE deleted_at IS NULL`.execute(trx);
  await sql`CREATE INDEX ON jira_edge (source_id, from_key)`.execute(trx);
  await sql`ANALYZE jira_ticket_target`.execute(trx);
  await sql`ANALYZE jira_edge`.execute(trx);

  // Every incident a post-mortem names, each once: the incidents of its
  // linked tickets and the PagerDuty incidents it refers to.
  await sql`
    CREATE TEMP TABLE jira_postmortem_link ON COMMIT DROP AS
    SELECT pm.id AS postmortem_id, named.incident_id
    FROM jira_issues AS p
    JOIN postmortems AS pm ON pm.source_id = p.source_id AND pm.external_id = p.issue_key
    CROSS JOIN LATERAL (
      SELECT tt.incident_id
      FROM jira_edge AS e
      JOIN jira_ticket_target AS tt ON tt.source_id = e.source_id AND tt.issue_key = e.to_key
      WHERE e.source_id = p.source_id AND e.from_key = p.issue_key AND tt.incident_id IS NOT NULL
      UNION
      SELECT i.id
      FROM incidents AS i
      JOIN sources AS s ON s.id = i.source_id AND s.kind = ${PAGERDUTY_KIND}
      WHERE i.external_id = ANY(p.pagerduty_incident_ids)
    ) AS named
    WHERE p.kind = 'postmortem'`.execute(trx);

  // A Jira post-mortem's links are exactly what it names now: an incident it
  // stopped naming loses its link, and a re-run adds nothing.
  await sql`
    DELETE FROM postmortem_incidents AS l
    USING jira_issues AS p
    JOIN postmortems AS pm ON pm.source_id = p.source_id AND pm.external_id = p.issue_key
    WHERE p.kind = 'postmortem' AND l.postmortem_id = pm.id
      AND NOT EXISTS (
        SELECT 1 FROM jira_postmortem_link AS k WHERE k.postmortem_id = l.postmortem_id AND k.incident_id = l.incident_id
      )`.execute(trx);
  await sql`
    INSERT INTO postmortem_incidents (postmortem_id, incident_id)
    SELECT postmortem_id, incident_id FROM jira_postmortem_link
    ORDER BY postmortem_id, incident_id
    ON CONFLICT DO NOTHING`.execute(trx);

  await sql`
    UPDATE action_items AS ai
    SET postmortem_id = target.postmortem_id, incident_id = target.incident_id
    FROM (
      SELECT a.source_id, a.issue_key, pm.id AS postmortem_id,
             coalesce(
               (SELECT tt.incident_id
                FROM jira_edge AS e
                JOIN jira_ticket_target AS tt ON tt.source_id = e.source_id AND tt.issue_key = e.to_key
                JOIN incidents AS inc ON inc.id = tt.incident_id
                WHERE e.source_id = a.source_id AND e.from_key = a.issue_key
                ORDER BY inc.created_at, inc.id
                LIMIT 1),
               pm.incident_id,
               (SELECT i.id
                FROM incidents AS i
                JOIN sources AS s ON s.id = i.source_id AND s.kind = ${PAGERDUTY_KIND}
                WHERE i.external_id = ANY(a.pagerduty_incident_ids)
                ORDER BY i.merged, i.created_at, i.id
                LIMIT 1)
             ) AS incident_id
      FROM jira_issues AS a
      LEFT JOIN LATERAL (
        SELECT p.id,
               (SELECT l.incident_id
                FROM postmortem_incidents AS l
                JOIN incidents AS inc ON inc.id = l.incident_id
                WHERE l.postmortem_id = p.id
                ORDER BY inc.merged, inc.created_at, inc.id
                LIMIT 1) AS incident_id
        FROM jira_edge AS e
        JOIN postmortems AS p ON p.source_id = e.source_id AND p.external_id = e.to_key AND p.removed_at IS NULL
        WHERE e.source_id = a.source_id AND e.from_key = a.issue_key
        ORDER BY p.created_at, p.id
        LIMIT 1
      ) AS pm ON true
      WHERE a.kind = 'action_item'
    ) AS target
    WHERE ai.source_id = target.source_id AND ai.external_id = target.issue_key
      AND (ai.postmortem_id, ai.incident_id) IS DISTINCT FROM (target.postmortem_id, target.incident_id)`.execute(trx);

  // Nothing points at a claimed ticket's own row any more (the updates above
  // moved every link to the PagerDuty incident); its events go with it.
  await sql`
    DELETE FROM incidents AS i
    USING jira_ticket_target AS tt
    WHERE tt.claimed AND i.source_id = tt.source_id AND i.external_id = tt.issue_key`.execute(trx);

  await sql`
    WITH ticket AS (
      SELECT DISTINCT ON (incident_id) incident_id, issue_key, html_url
      FROM jira_ticket_target
      WHERE incident_id IS NOT NULL
      ORDER BY incident_id, created_at, issue_key
    ), ticket_cause AS (
      SELECT DISTINCT ON (incident_id) incident_id, root_cause_key
      FROM jira_ticket_target
      WHERE incident_id IS NOT NULL AND root_cause_key IS NOT NULL
      ORDER BY incident_id, created_at, issue_key
    ), postmortem_cause AS (
      SELECT DISTINCT ON (l.incident_id) l.incident_id, p.root_cause_key
      FROM postmortem_incidents AS l
      JOIN postmortems AS p ON p.id = l.postmortem_id
      WHERE p.root_cause_key IS NOT NULL AND p.removed_at IS NULL
      ORDER BY l.incident_id, p.created_at DESC, p.id DESC
    ), derived AS (
      SELECT i.id, t.issue_key, t.html_url, coalesce(pc.root_cause_key, tc.root_cause_key) AS root_cause_key
      FROM incidents AS i
      LEFT JOIN ticket AS t ON t.incident_id = i.id
      LEFT JOIN ticket_cause AS tc ON tc.incident_id = i.id
      LEFT JOIN postmortem_cause AS pc ON pc.incident_id = i.id
    )
    UPDATE incidents AS i
    SET jira_issue_key = d.issue_key, jira_url = d.html_url, root_cause_key = d.root_cause_key
    FROM derived AS d
    WHERE i.id = d.id
      AND (i.jira_issue_key, i.jira_url, i.root_cause_key) IS DISTINCT FROM (d.issue_key, d.html_url, d.root_cause_key)`.execute(
    trx
  );
}
