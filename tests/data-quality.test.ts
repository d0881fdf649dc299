import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportJson } from '@incident-lens/common/report';
import { parseFileConfig } from '../collector/src/config.ts';
import { renderHtml } from '../collector/src/report/html.ts';
import { renderMarkdown } from '../collector/src/report/markdown.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { MetricRows } from './support/metrics-rows.ts';
import { readerUrl } from './support/reader-role.ts';

// Data quality (docs/metrics.md §12, sql/lens/82_data_quality.sql) on hand-built
// rows: October 2026 in UTC, as of 2026-11-10T00:00Z. Every expected row is
// explained beside the row that makes it.

const START = '2026-10-01T00:00:00Z';
const END = '2026-11-01T00:00:00Z';
const AS_OF = '2026-11-10T00:00:00Z';

let database: TestDatabase;
let reader: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  const rows = await MetricRows.create(database.db);
  // Policy: SEV1 post-mortem due 48 h after resolve, SEV2 7 days, SEV3/SEV4 none.
  await rows.incidents([
    // Post-mortem linked before its deadline: fine.
    { id: 'P1', severity: 'SEV1', created: '2026-10-02T10:00:00Z', resolved: '2026-10-02T11:00:00Z' },
    // Deadline 10-07 12:00, nothing linked: missing.
    { id: 'P2', severity: 'SEV1', created: '2026-10-05T10:00:00Z', resolved: '2026-10-05T12:00:00Z' },
    // Deadline 11-06 11:00, before as-of, nothing linked: missing.
    { id: 'P3', severity: 'SEV2', created: '2026-10-30T10:00:00Z', resolved: '2026-10-30T11:00:00Z' },
    // Deadline 11-12 11:00, after as-of: still pending, not missing.
    { id: 'P4', severity: 'SEV2', created: '2026-10-31T20:00:00Z', resolved: '2026-11-05T11:00:00Z' },
    // Merged duplicates are left out of everything.
    { id: 'P5', severity: 'SEV1', created: '2026-10-10T10:00:00Z', resolved: '2026-10-10T11:00:00Z', merged: true },
    { id: 'P7', severity: 'UNKNOWN', created: '2026-10-12T10:00:00Z', merged: true },
    // No severity: counted.
    { id: 'P6', severity: 'UNKNOWN', created: '2026-10-11T10:00:00Z' },
    // No severity, but in November.
    { id: 'P8', severity: 'UNKNOWN', created: '2026-11-02T10:00:00Z' },
    // Its post-mortem was created after as-of: as of then, missing (deadline 10-22 11:00).
    { id: 'P9', severity: 'SEV1', created: '2026-10-20T10:00:00Z', resolved: '2026-10-20T11:00:00Z' },
    // SEV3: no post-mortem required.
    { id: 'P10', severity: 'SEV3', created: '2026-10-21T10:00:00Z', resolved: '2026-10-21T11:00:00Z' },
  ]);
  await rows.postmortems([
    { id: 'PM-1', incident: 'P1', created: '2026-10-03T09:00:00Z' },
    { id: 'PM-9', incident: 'P9', created: '2026-11-11T09:00:00Z' },
  ]);
  await rows.actionItems([
    { id: 'A1', incident: 'P1', created: '2026-10-03T10:00:00Z', due: '2026-10-15', owner: 'ada' },
    // Due in October, no owner.
    { id: 'A2', incident: 'P1', created: '2026-10-03T10:00:00Z', due: '2026-10-20', owner: null },
    // No due date, created in October: placed in October, no due date.
    { id: 'A3', incident: 'P1', created: '2026-10-03T11:00:00Z', owner: 'bob' },
    // A blank owner is no owner; no due date either: in both lists.
    { id: 'A4', incident: 'P1', created: '2026-10-04T11:00:00Z', owner: '  ' },
    // Due in November / created in September without a due date: not October's.
    { id: 'A5', incident: 'P1', created: '2026-10-05T11:00:00Z', due: '2026-11-15', owner: null },
    { id: 'A6', created: '2026-09-28T11:00:00Z', owner: null },
  ]);
  const quarantined = (external: string, first: string, last: string) => ({
    source_id: rows.pagerdutyId,
    record_kind: 'incident',
    external_id: external,
    reason: `created_at is not a date: got 'yesterday' (${external})`,
    payload: '{}',
    payload_hash: external,
    first_seen_at: first,
    last_seen_at: last,
  });
  await database.db
    .insertInto('ingest_errors')
    .values([
      quarantined('Q1', '2026-11-08T00:00:00Z', '2026-11-09T00:00:00Z'),
      // Last seen more than 30 days before as-of.
      quarantined('Q2', '2026-10-01T00:00:00Z', '2026-10-05T00:00:00Z'),
      // First seen after as-of.
      quarantined('Q3', '2026-11-12T00:00:00Z', '2026-11-12T00:00:00Z'),
      quarantined('Q4', '2026-10-01T00:00:00Z', '2026-10-20T00:00:00Z'),
    ])
    .execute();
  const tickets: Array<[string, 'incident' | 'postmortem', string[], string]> = [
    ['INC-1', 'incident', ['P1'], '2026-10-02T12:00:00Z'],
    // Names P1 and an incident the database lacks.
    ['INC-2', 'incident', ['PX404', 'P1'], '2026-10-06T12:00:00Z'],
    // Created after as-of.
    ['INC-3', 'incident', ['PY500'], '2026-11-20T12:00:00Z'],
    // Not an incident ticket.
    ['PM-4', 'postmortem', ['PZ'], '2026-10-06T12:00:00Z'],
    ['INC-5', 'incident', [], '2026-10-06T12:00:00Z'],
  ];
  for (const [key, kind, ids, created] of tickets) {
    await sql`
      INSERT INTO jira_issues (source_id, issue_key, kind, issue_id, pagerduty_incident_ids, html_url, created_at)
      VALUES (${rows.jiraId}, ${key}, ${kind}, ${key}, ${ids}::text[], ${`https://acme.atlassian.net/browse/${key}`}, ${created})`.execute(
      database.db
    );
  }
  reader = new pg.Client({ connectionString: await readerUrl(database.url) });
  await reader.connect();
});

afterAll(async () => {
  await reader?.end();
  await database?.destroy();
});

/** Runs a lens query as incident_lens_reader, the role Grafana reads with. */
async function asReader<T>(text: string, values: unknown[]): Promise<T[]> {
  return (await reader.query(text, values)).rows as T[];
}

describe('data quality lists, as the reader role', () => {
  it('incidents without severity: the period, merged left out', async () => {
    const rows = await asReader<{ external_id: string }>('SELECT * FROM lens.incidents_without_severity($1, $2, $3)', [
      START,
      END,
      AS_OF,
    ]);
    expect(rows.map((row) => row.external_id)).toEqual(['P6']);
  });

  it('required post-mortems missing past their deadline, by deadline', async () => {
    const rows = await asReader<{ external_id: string; postmortem_deadline: Date }>(
      "SELECT * FROM lens.missing_postmortems($1, $2, $3, 'UTC')",
      [START, END, AS_OF]
    );
    expect(rows.map((row) => [row.external_id, row.postmortem_deadline.toISOString()])).toEqual([
      ['P2', '2026-10-07T12:00:00.000Z'],
      ['P9', '2026-10-22T11:00:00.000Z'],
      ['P3', '2026-11-06T11:00:00.000Z'],
    ]);
  });

  it('action items of the period without an owner or a due date', async () => {
    const rows = await asReader<{
      external_id: string;
      without_owner: boolean;
      without_due_date: boolean;
      incident_external_id: string | null;
    }>("SELECT * FROM lens.action_items_without_owner_or_due_date($1, $2, $3, 'UTC')", [START, END, AS_OF]);
    expect(
      rows.map((row) => [row.external_id, row.without_owner, row.without_due_date, row.incident_external_id])
    ).toEqual([
      ['A2', true, false, 'P1'],
      ['A3', false, true, 'P1'],
      ['A4', true, true, 'P1'],
    ]);
  });

  it('records quarantined in the 30 days up to as-of, with their reasons', async () => {
    const rows = await asReader<{ external_id: string; reason: string; source_kind: string }>(
      'SELECT * FROM lens.quarantined_records($1)',
      [AS_OF]
    );
    expect(rows.map((row) => [row.source_kind, row.external_id, row.reason])).toEqual([
      ['pagerduty', 'Q1', "created_at is not a date: got 'yesterday' (Q1)"],
      ['pagerduty', 'Q4', "created_at is not a date: got 'yesterday' (Q4)"],
    ]);
  });

  it('Jira incident tickets naming PagerDuty incidents the database does not hold', async () => {
    const rows = await asReader<{ issue_key: string; missing_incident_ids: string[] }>(
      'SELECT * FROM lens.unlinked_jira_tickets($1)',
      [AS_OF]
    );
    expect(rows.map((row) => [row.issue_key, row.missing_incident_ids])).toEqual([['INC-2', ['PX404']]]);
  });
});

describe('dataQuality in lens.report and the rendered reports', () => {
  const expected = {
    withoutSeverity: 1,
    postmortemMissing: 3,
    actionItemsWithoutOwner: 2,
    actionItemsWithoutDueDate: 2,
    quarantinedLast30Days: 2,
    unlinkedTickets: 1,
  };

  async function report(): Promise<ReportJson> {
    const result = await sql<{ report: ReportJson }>`
      SELECT lens.report('month', date '2026-10-15', ${AS_OF}::timestamptz, 'UTC') AS report`.execute(database.db);
    return result.rows[0]!.report;
  }

  it('carries the size of each list', async () => {
    expect((await report()).dataQuality).toEqual(expected);
  });

  it('Markdown and HTML say what the figures cannot see when anything is non-zero, and nothing when all is zero', async () => {
    const monthly = await report();
    const markdown = renderMarkdown(monthly);
    expect(markdown).toContain('## What these figures cannot see');
    expect(markdown).toContain('- 1 incident has no severity: no SLA target applies to them.');
    expect(markdown).toContain('- 3 required post-mortems are missing past the due date.');
    expect(markdown).toContain('- 1 Jira incident ticket names a PagerDuty incident the database does not hold.');
    const { sla: policy } = parseFileConfig({});
    const html = renderHtml(monthly, { policy });
    expect(html).toContain('<h2>What these figures cannot see</h2>');
    expect(html).toContain('<li>2 action items have no owner.</li>');

    const clean = {
      ...monthly,
      dataQuality: Object.fromEntries(
        Object.keys(expected).map((key) => [key, 0])
      ) as unknown as ReportJson['dataQuality'],
    };
    expect(renderMarkdown(clean)).not.toContain('What these figures cannot see');
    expect(renderHtml(clean, { policy })).not.toContain('What these figures cannot see');
  });
});
