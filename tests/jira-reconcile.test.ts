import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import {
  type FakeJira,
  type FakeJiraRequest,
  generateJiraHistory,
  generatePagerDutyHistory,
  type JiraSiteHistory,
  startFakeJira,
} from '@incident-lens/simulators';
import type { ReconciledRecord } from '@incident-lens/common/report';
import { readReport } from '../collector/src/metrics/report-data.ts';
import { publishReport } from '../collector/src/report/published.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const EMAIL = 'collector@acme.example';
const TOKEN = 'jira-token-reconcile-0123';
const DAY = 86_400_000;

// The site's history ends now: the CLI's sync has no pinned clock.
const NOW = Date.now();
const START = new Date(Math.floor((NOW - 150 * DAY) / DAY) * DAY);
const AS_OF = new Date(NOW + 3_600_000).toISOString();

let incremental: TestDatabase;
let history: JiraSiteHistory;
let server: FakeJira;
let configPath: string;

async function cli(database: TestDatabase, args: string[]) {
  return runCli(args, {
    DATABASE_URL: database.url,
    INCIDENT_LENS_CONFIG: configPath,
    JIRA_BASE_URL: server.url,
    JIRA_EMAIL: EMAIL,
    JIRA_API_TOKEN: TOKEN,
    LOG_LEVEL: 'warn',
  });
}

async function sync(database: TestDatabase, ...args: string[]) {
  const result = await cli(database, ['sync', '--source', 'jira', ...args]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

interface ReportJson {
  actionItems: { total: number; open: number; overdue: number; openOverdueTotal: number };
  overdueActionItems: Array<{ externalId: string }>;
  published?: { reconciled: ReconciledRecord[] };
  [section: string]: unknown;
}

/** `report --format json` of the UTC month `month`, as of a fixed instant. */
async function monthReport(database: TestDatabase, month: string, ...extra: string[]): Promise<ReportJson> {
  const args = [
    'report',
    '--period',
    'month',
    '--date',
    month,
    '--tz',
    'UTC',
    '--as-of',
    AS_OF,
    '--format',
    'json',
    ...extra,
  ];
  const result = await cli(database, args);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ReportJson;
}

/** Every stored Jira issue with its marks, and each action item row: what a retried reconciliation must leave as it is. */
async function storedState(database: TestDatabase) {
  const issues = await sql<{
    issue_id: string;
    issue_key: string;
    kind: string;
    deleted_at: Date | null;
    unmatched_at: Date | null;
  }>`
    SELECT issue_id, issue_key, kind, deleted_at, unmatched_at FROM jira_issues ORDER BY issue_id, kind`.execute(
    database.db
  );
  const items = await database.db
    .selectFrom('action_items')
    .select(['external_id', 'removed_at', 'incident_id', 'postmortem_id'])
    .orderBy('external_id')
    .execute();
  const changes = await database.db.selectFrom('reconciliation_changes').select(['record_key', 'field']).execute();
  return { issues: issues.rows, items, changes: changes.length };
}

/** Open action items (labelled so, plain tasks rather than sub-tasks) due in `month`, the earliest due first. */
function openItemsDueIn(month: string): string[] {
  return [...history.expectedFacts().actionItems]
    .filter(([key, item]) => {
      const issue = history.issue(key);
      return (
        item.dueDate?.startsWith(month) &&
        !item.done &&
        issue.parentKey === null &&
        issue.labels.includes('action-item')
      );
    })
    .sort(([, a], [, b]) => a.dueDate!.localeCompare(b.dueDate!))
    .map(([key]) => key);
}

/**
 * The closed month with the most open action items due in it. The site's
 * history ends at the clock, so which month holds three of them depends on
 * when the test runs; it is chosen once the site is generated.
 */
let reportMonth: string;

function closedMonthWithMostOpenItems(): string {
  const months = new Set<string>();
  for (let at = START.getTime(); at < NOW; at += DAY) {
    months.add(new Date(at).toISOString().slice(0, 7));
  }
  months.delete(new Date(NOW).toISOString().slice(0, 7));
  return [...months].sort((a, b) => openItemsDueIn(b).length - openItemsDueIn(a).length || b.localeCompare(a))[0]!;
}

const isLaterIdSearchPage = (request: FakeJiraRequest) => {
  const body = request.body as { fields?: string[]; nextPageToken?: string } | undefined;
  return (
    request.path === '/rest/api/3/search/jql' &&
    body?.fields?.length === 1 &&
    body.fields[0] === 'id' &&
    body.nextPageToken !== undefined
  );
};

beforeAll(async () => {
  incremental = await createTestDatabase();
  const pagerduty = generatePagerDutyHistory({
    seed: 152,
    start: START,
    end: new Date(NOW - 3_600_000),
    incidents: 300,
  });
  history = generateJiraHistory({
    seed: 152,
    end: new Date(NOW - 3_600_000),
    pagerduty: { incidents: pagerduty.expectedFacts(), subdomain: pagerduty.subdomain },
  });
  reportMonth = closedMonthWithMostOpenItems();
  // Small id-only pages, so that a search can fail part-way.
  server = await startFakeJira({ history, email: EMAIL, apiToken: TOKEN, maxIdSearchPage: 40 });
  const directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-jira-reconcile-'));
  configPath = path.join(directory, 'incident-lens.yaml');
  await writeFile(configPath, `jira:\n  since: "${START.toISOString().slice(0, 10)}"\n`);
  await sync(incremental);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await incremental?.destroy();
});

describe('reconciling Jira with what the site still has', () => {
  it('shows an action item deleted, one relabelled and one moved to another project after the next incremental sync, as a full re-sync would', async () => {
    const [deleted, relabelled, moved] = openItemsDueIn(reportMonth);
    expect(moved, `the generated site has three open action items due in ${reportMonth}`).toBeDefined();
    const before = await monthReport(incremental, reportMonth);
    // Leadership received this month's report before the changes.
    const frozen = await readReport(incremental.db, {
      granularity: 'month',
      date: reportMonth,
      timezone: 'UTC',
      asOf: new Date(AS_OF),
    });
    expect(await publishReport(incremental.db, frozen)).toBe(true);
    const movedId = history.issue(moved!).id;
    const at = new Date(NOW - 60_000);

    history.deleteIssue(deleted!);
    history.edit(relabelled!, at, {
      labels: history.issue(relabelled!).labels.filter((label) => label !== 'action-item'),
    });
    const movedKey = history.moveIssue(moved!, 'INC', at);

    await sync(incremental);
    const after = await monthReport(incremental, reportMonth);

    const full = await createTestDatabase();
    try {
      await sync(full, '--full');
      // The fresh database never published the month: everything but the revision note agrees.
      expect({ ...after, published: undefined }).toEqual({
        ...(await monthReport(full, reportMonth)),
        published: undefined,
      });
    } finally {
      await full.destroy();
    }

    // The deleted and the relabelled items left; the moved one counts once, under its new key.
    expect(after.actionItems.total).toBe(before.actionItems.total - 2);
    expect(after.actionItems.open).toBe(before.actionItems.open - 2);
    const overdueKeys = after.overdueActionItems.map((item) => item.externalId);
    expect(overdueKeys).not.toContain(deleted);
    expect(overdueKeys).not.toContain(relabelled);
    expect(overdueKeys).not.toContain(moved);
    expect(after.actionItems.openOverdueTotal).toBe(before.actionItems.openOverdueTotal - 2);

    const rows = await incremental.db
      .selectFrom('action_items')
      .select(['external_id', 'removed_at', 'html_url'])
      .where('external_id', 'in', [deleted!, relabelled!, moved!, movedKey])
      .orderBy('external_id')
      .execute();
    expect(rows.map((row) => [row.external_id, row.removed_at !== null])).toEqual(
      [
        [deleted!, true],
        [relabelled!, true],
        [movedKey, false],
      ].sort(([a], [b]) => String(a).localeCompare(String(b)))
    );
    expect(rows.find((row) => row.external_id === movedKey)!.html_url).toMatch(new RegExp(`/browse/${movedKey}$`));
    const ids = await sql<{ issue_id: string; deleted: boolean; unmatched: boolean }>`
      SELECT issue_id, deleted_at IS NOT NULL AS deleted, unmatched_at IS NOT NULL AS unmatched
      FROM jira_issues WHERE kind = 'action_item' AND issue_key IN (${deleted!}, ${relabelled!}, ${movedKey})
      ORDER BY issue_key`.execute(incremental.db);
    expect(ids.rows).toHaveLength(3);
    expect(ids.rows.filter((row) => row.issue_id === movedId)).toEqual([
      { issue_id: movedId, deleted: false, unmatched: false },
    ]);
    expect(ids.rows.filter((row) => row.deleted)).toHaveLength(1);
    expect(ids.rows.filter((row) => row.unmatched)).toHaveLength(1);
    // The published report keeps what it showed; its revision note names each change.
    expect(await monthReport(incremental, reportMonth, '--published')).toEqual(JSON.parse(JSON.stringify(frozen)));
    expect(
      after.published!.reconciled.map(({ record, kind, field, from, to, source }) => ({
        record,
        kind,
        field,
        from,
        to,
        source,
      }))
    ).toEqual(
      expect.arrayContaining([
        { record: deleted, kind: 'action_item', field: 'deleted', from: null, to: expect.any(String), source: 'jira' },
        { record: relabelled, kind: 'action_item', field: 'kind', from: 'action_item', to: null, source: 'jira' },
        { record: movedKey, kind: 'action_item', field: 'key', from: moved, to: movedKey, source: 'jira' },
      ])
    );
    const markdown = await cli(incremental, [
      'report',
      '--period',
      'month',
      '--date',
      reportMonth,
      '--tz',
      'UTC',
      '--as-of',
      AS_OF,
      '--format',
      'md',
    ]);
    expect(markdown.stdout).toContain(`- ${deleted} (action item, jira) deleted, found `);
    expect(markdown.stdout).toContain(`- ${movedKey} (action item, jira) moved from ${moved}, found `);

    // Links that named the old key name the new one.
    const stale = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM jira_issues WHERE ${moved!} = ANY (linked_keys)`.execute(incremental.db);
    expect(stale.rows[0]!.n).toBe(0);
  }, 240_000);

  it('changes nothing when the reconciliation runs again', async () => {
    const before = await storedState(incremental);
    const report = await monthReport(incremental, reportMonth);
    await sync(incremental);
    expect(await storedState(incremental)).toEqual(before);
    expect(await monthReport(incremental, reportMonth)).toEqual(report);
  }, 120_000);

  it('deletes nothing when an id search fails part-way, and applies the deletion once it completes', async () => {
    const [gone] = openItemsDueIn(reportMonth);
    const before = await monthReport(incremental, reportMonth);
    const state = await storedState(incremental);
    history.deleteIssue(gone!);

    server.failNext(100, 503, { retryAfterSeconds: 0, when: isLaterIdSearchPage });
    const failed = await cli(incremental, ['sync', '--source', 'jira']);
    expect(failed.code).toBe(1);
    expect(server.requests.some((request) => isLaterIdSearchPage(request) && request.status === 503)).toBe(true);
    expect(await storedState(incremental)).toEqual(state);
    expect(await monthReport(incremental, reportMonth)).toEqual(before);

    server.failNext(0, 503);
    await sync(incremental);
    const after = await monthReport(incremental, reportMonth);
    expect(after.actionItems.total).toBe(before.actionItems.total - 1);
    const row = await incremental.db
      .selectFrom('action_items')
      .select('removed_at')
      .where('external_id', '=', gone!)
      .executeTakeFirstOrThrow();
    expect(row.removed_at).not.toBeNull();
  }, 180_000);
});
