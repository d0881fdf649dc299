import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import type { ReportJson } from '@incident-lens/common/report';
import { listPeriodIncidents, readReport, type ReportRequest } from '../collector/src/metrics/report-data.ts';
import { renderReport } from '../collector/src/report/render-report.ts';
import { loadConfig } from '../collector/src/config.ts';
import { UsageError } from '../collector/src/errors.ts';
import { interpolateSqlVariables, type SqlVariable } from '../plugin/src/data/templateVariables.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { expandGrafanaMacros, queryToFrame } from './support/grafana-postgres.ts';
import { endPool, readerUrl } from './support/reader-role.ts';
import { syncSimulatedPagerDuty } from './support/simulated-history.ts';

/**
 * Two PagerDuty accounts (pd-eu, pd-us) and one Jira site (jira-payments)
 * that holds the post-mortems and action items of both and one incident of
 * its own. The figures below are worked out by hand from these rows with the
 * rules of docs/metrics.md (§13 for which account a row counts under).
 *
 * October 2026, UTC, default policy (SEV1 ack 15m / resolve 1h / post-mortem
 * 48h, SEV2 30m / 4h / 7d, SEV3 2h / 24h, SEV4 24h / 7d), repeat window 90 days.
 *
 *   E1 pd-eu SEV1 10-05 10:00 ack +600 s  resolved +3000 s  cause bad-deploy, post-mortem done 10-06
 *   U1 pd-us SEV2 10-08 08:00 ack +300 s  resolved +3600 s  cause bad-deploy, no post-mortem
 *   E2 pd-eu SEV2 10-12 09:00 ack +2400 s resolved +10800 s cause bad-deploy, no post-mortem
 *   J1 jira-payments SEV3 10-15 11:00 ack +1800 s resolved +7200 s
 *   E3 pd-eu SEV3 10-20 14:00 never acked, resolved +3600 s
 *   U2 pd-us SEV4 10-25 20:00 ack +3600 s resolved +43200 s
 *
 * Action items (all held by jira-payments): A1 on E1 due 10-10 done 10-09;
 * A2 on E1's post-mortem due 10-20 open; A3 on U1 due 10-18 done 10-25;
 * A4 on no incident due 10-22 open.
 */

const AS_OF = new Date('2026-11-10T00:00:00Z');
const OCTOBER: ReportRequest = { granularity: 'month', date: '2026-10', timezone: 'UTC', asOf: AS_OF };

let database: TestDatabase;
let reader: pg.Pool;

async function loadAccounts(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    const source = async (name: string, kind: string, baseUrl: string) =>
      (
        await client.query<{ id: number }>(
          'INSERT INTO sources (name, kind, base_url) VALUES ($1, $2, $3) RETURNING id',
          [name, kind, baseUrl]
        )
      ).rows[0]!.id;
    const eu = await source('pd-eu', 'pagerduty', 'https://api.pagerduty.com');
    const us = await source('pd-us', 'pagerduty', 'https://api.pagerduty.com');
    const jira = await source('jira-payments', 'jira', 'https://payments.atlassian.net');
    const incident = async (
      sourceId: number,
      id: string,
      severity: string,
      created: string,
      ackSeconds: number | null,
      resolveSeconds: number,
      cause: string | null
    ) => {
      const createdAt = new Date(created);
      const after = (seconds: number | null) =>
        seconds === null ? null : new Date(createdAt.getTime() + seconds * 1000).toISOString();
      return (
        await client.query<{ id: string }>(
          `INSERT INTO incidents (source_id, external_id, title, status, severity, created_at, acknowledged_at,
                                  resolved_at, root_cause_key)
           VALUES ($1, $2, $3, 'resolved', $4, $5, $6, $7, $8) RETURNING id`,
          [sourceId, id, `Incident ${id}`, severity, created, after(ackSeconds), after(resolveSeconds), cause]
        )
      ).rows[0]!.id;
    };
    const e1 = await incident(eu, 'E1', 'SEV1', '2026-10-05T10:00:00Z', 600, 3000, 'bad-deploy');
    const u1 = await incident(us, 'U1', 'SEV2', '2026-10-08T08:00:00Z', 300, 3600, 'bad-deploy');
    await incident(eu, 'E2', 'SEV2', '2026-10-12T09:00:00Z', 2400, 10800, 'bad-deploy');
    await incident(jira, 'J1', 'SEV3', '2026-10-15T11:00:00Z', 1800, 7200, null);
    await incident(eu, 'E3', 'SEV3', '2026-10-20T14:00:00Z', null, 3600, null);
    await incident(us, 'U2', 'SEV4', '2026-10-25T20:00:00Z', 3600, 43200, null);
    const postmortem = (
      await client.query<{ id: string }>(
        `INSERT INTO postmortems (source_id, external_id, title, status, status_category, created_at, completed_at)
         VALUES ($1, 'PAY-1', 'E1 review', 'Done', 'done', '2026-10-05T12:00:00Z', '2026-10-06T09:00:00Z')
         RETURNING id`,
        [jira]
      )
    ).rows[0]!.id;
    await client.query('INSERT INTO postmortem_incidents (postmortem_id, incident_id) VALUES ($1, $2)', [
      postmortem,
      e1,
    ]);
    const item = (
      key: string,
      incidentId: string | null,
      postmortemId: string | null,
      due: string,
      done: string | null
    ) =>
      client.query(
        `INSERT INTO action_items (source_id, external_id, incident_id, postmortem_id, title, status, status_category,
                                   owner, due_date, created_at, completed_at)
         VALUES ($1, $2, $3, $4, $2, $5, $6, 'Ada', $7, '2026-10-01T00:00:00Z', $8)`,
        [jira, key, incidentId, postmortemId, done ? 'Done' : 'To Do', done ? 'done' : 'new', due, done]
      );
    await item('PAY-10', e1, null, '2026-10-10', '2026-10-09T12:00:00Z');
    await item('PAY-11', null, postmortem, '2026-10-20', null);
    await item('PAY-12', u1, null, '2026-10-18', '2026-10-25T12:00:00Z');
    await item('PAY-13', null, null, '2026-10-22', null);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  await loadAccounts(database.url);
  reader = new pg.Pool({ connectionString: await readerUrl(database.url), max: 2 });
});

afterAll(async () => {
  if (reader) {
    await endPool(reader);
  }
  await database?.destroy();
});

const report = (source?: string) => readReport(database.db, { ...OCTOBER, source });

describe('report --source', () => {
  it('gives pd-eu its own incidents, post-mortems, action items and repeats', async () => {
    const eu = await report('pd-eu');
    expect(eu.source).toEqual({ name: 'pd-eu', kind: 'pagerduty' });
    expect(eu.incidents).toMatchObject({ total: 3, open: 0, bySeverity: { SEV1: 1, SEV2: 1, SEV3: 1, SEV4: 0 } });
    expect(eu.mtta).toMatchObject({ count: 2, unacknowledged: 1, meanSeconds: 1500 });
    expect(eu.mttr).toMatchObject({ count: 3, meanSeconds: 5800 });
    // E3's first response is its resolution, within SEV3's 2 h: met.
    expect(eu.sla.ack).toEqual({ met: 2, breached: 1, pending: 0, compliance: 2 / 3 });
    expect(eu.sla.resolve).toEqual({ met: 3, breached: 0, pending: 0, compliance: 1 });
    expect(eu.postmortems).toEqual({ required: 2, completed: 1, completedOnTime: 1, overdue: 1 });
    // E2 repeats E1; U1 (another account) sits between them and does not count.
    expect(eu.repeatRootCauses).toEqual([{ rootCause: 'bad-deploy', count: 2, repeats: 1, incidents: ['E1', 'E2'] }]);
    expect(eu.repeatRate).toBe(0.5);
    // A1 on E1, A2 on E1's post-mortem: held by the Jira site, counted under the incident's account.
    expect(eu.actionItems).toMatchObject({ total: 2, completed: 1, completedOnTime: 1, open: 1, overdue: 1 });
    expect(eu.actionItems.openOverdueTotal).toBe(1);
    expect(eu.overdueActionItems.map((item) => item.externalId)).toEqual(['PAY-11']);
  });

  it('gives pd-us and the Jira site theirs', async () => {
    const us = await report('pd-us');
    expect(us.source).toEqual({ name: 'pd-us', kind: 'pagerduty' });
    expect(us.incidents).toMatchObject({ total: 2, bySeverity: { SEV1: 0, SEV2: 1, SEV3: 0, SEV4: 1 } });
    expect(us.mtta).toMatchObject({ count: 2, unacknowledged: 0, meanSeconds: 1950 });
    expect(us.mttr).toMatchObject({ count: 2, meanSeconds: 23400 });
    expect(us.sla.ack).toEqual({ met: 2, breached: 0, pending: 0, compliance: 1 });
    expect(us.postmortems).toEqual({ required: 1, completed: 0, completedOnTime: 0, overdue: 1 });
    // U1 is the first bad-deploy of pd-us: no repeat.
    expect(us.repeatRootCauses).toEqual([]);
    expect(us.repeatRate).toBe(0);
    expect(us.actionItems).toMatchObject({ total: 1, completed: 1, completedOnTime: 0, open: 0, overdue: 0 });
    expect(us.actionItems.openOverdueTotal).toBe(0);

    const jira = await report('jira-payments');
    expect(jira.source).toEqual({ name: 'jira-payments', kind: 'jira' });
    expect(jira.incidents.total).toBe(1);
    expect(jira.mtta).toMatchObject({ count: 1, meanSeconds: 1800 });
    // Only the item linked to no incident stays with the site that holds it.
    expect(jira.actionItems).toMatchObject({ total: 1, completed: 0, open: 1, overdue: 1 });
    expect(jira.overdueActionItems.map((item) => item.externalId)).toEqual(['PAY-13']);
  });

  it('leaves the report of every account as it was: one history, repeats across accounts', async () => {
    const all = await report();
    expect(all.source).toBeNull();
    expect(all.incidents.total).toBe(6);
    expect(all.mtta).toMatchObject({ count: 5, unacknowledged: 1, meanSeconds: (600 + 300 + 2400 + 1800 + 3600) / 5 });
    // U1 repeats E1 and E2 repeats U1 when the accounts are one history.
    expect(all.repeatRootCauses).toEqual([
      { rootCause: 'bad-deploy', count: 3, repeats: 2, incidents: ['E1', 'U1', 'E2'] },
    ]);
    expect(all.actionItems).toMatchObject({ total: 4, completed: 2, completedOnTime: 1, open: 2, overdue: 2 });
    // Each incident and item counts under exactly one account.
    const parts = await Promise.all(['pd-eu', 'pd-us', 'jira-payments'].map((name) => report(name)));
    const sum = (pick: (part: ReportJson) => number) => parts.reduce((total, part) => total + pick(part), 0);
    expect(sum((part) => part.incidents.total)).toBe(all.incidents.total);
    expect(sum((part) => part.actionItems.total)).toBe(all.actionItems.total);
    expect(sum((part) => part.actionItems.openOverdueTotal)).toBe(all.actionItems.openOverdueTotal);
    expect(sum((part) => part.postmortems.required)).toBe(all.postmortems.required);
    // The call without an account is the call of before.
    const { rows } = await sql<{ report: ReportJson }>`
      SELECT lens.report('month', date '2026-10-01', ${AS_OF}, 'UTC') AS report`.execute(database.db);
    expect(rows[0]!.report).toEqual(all);
  });

  it('never reads the cached figures of every account for one account', async () => {
    const { rows } = await sql<{ written: number }>`
      SELECT lens.refresh_closed_periods('UTC', ${AS_OF}) AS written`.execute(database.db);
    expect(rows[0]!.written).toBeGreaterThan(0);
    const cached = await sql<{ n: number }>`
      SELECT count(*)::integer AS n FROM lens.period_rollup WHERE granularity = 'month'
        AND period_start = '2026-10-01T00:00:00Z'`.execute(database.db);
    expect(cached.rows[0]!.n).toBe(1);
    expect((await report('pd-eu')).incidents.total).toBe(3);
    expect((await report()).incidents.total).toBe(6);
  });

  it('restricts the CSV rows and says which account each incident came from', async () => {
    const rows = await listPeriodIncidents(database.db, { ...OCTOBER, source: 'pd-us' });
    expect(rows.map((row) => row.externalId)).toEqual(['U1', 'U2']);
    const text = await renderReport(database.db, loadConfig({}, '/nonexistent'), {
      ...OCTOBER,
      format: 'csv',
      source: 'pd-us',
    });
    expect(
      text
        .trim()
        .split('\r\n')
        .slice(1)
        .map((line) => line.split(',')[0])
    ).toEqual(['U1', 'U2']);
  });

  it('refuses an unknown name, listing the known ones, and --published with --source', async () => {
    await expect(report('pd-apac')).rejects.toThrow(UsageError);
    await expect(report('pd-apac')).rejects.toThrow(
      "--source: unknown source 'pd-apac': the accounts are jira-payments, pd-eu, pd-us"
    );
    // The SQL refuses it too, even for a period without incidents.
    await expect(
      sql`SELECT lens.report('month', date '2020-01-01', ${AS_OF}, 'UTC', 12, 100, 'pd-apac')`.execute(database.db)
    ).rejects.toThrow("unknown source 'pd-apac'");
    await expect(
      renderReport(database.db, loadConfig({}, '/nonexistent'), {
        ...OCTOBER,
        format: 'json',
        published: true,
        source: 'pd-eu',
      })
    ).rejects.toThrow(/--published .* --source/);
  });
});

describe('dashboards with the source variable set to one account', () => {
  const dashboard = (file: string) =>
    JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../provisioning/dashboards', file), 'utf8')) as {
      templating: { list: Array<{ name: string; query?: string; allValue?: string; includeAll?: boolean }> };
      panels: Array<{ title: string; targets?: Array<{ rawSql: string }> }>;
    };
  const range = { from: Date.parse('2026-10-01T00:00:00Z'), to: Date.parse('2026-11-01T00:00:00Z') };

  async function panelValue(file: string, title: string, source: string): Promise<unknown> {
    const board = dashboard(file);
    const variable = board.templating.list.find((candidate) => candidate.name === 'source')!;
    const variables: Record<string, SqlVariable> = {
      timezone: { value: 'UTC' },
      source: { value: source, includeAll: variable.includeAll, allValue: variable.allValue },
    };
    const panel = board.panels.find((candidate) => candidate.title === title)!;
    const client = await reader.connect();
    try {
      const frame = await queryToFrame(
        client,
        expandGrafanaMacros(interpolateSqlVariables(panel.targets![0]!.rawSql, variables), range),
        'A'
      );
      return frame.data.values[0]![0];
    } finally {
      client.release();
    }
  }

  it('lists the accounts in the variable, as the reader', async () => {
    const variable = dashboard('incident-overview.json').templating.list.find(
      (candidate) => candidate.name === 'source'
    );
    const { rows } = await reader.query<{ name: string }>(variable!.query!);
    expect(rows.map((row) => row.name)).toEqual(['jira-payments', 'pd-eu', 'pd-us']);
  });

  it('counts one account on the overview and the follow-through dashboards, all of them on All', async () => {
    expect(await panelValue('incident-overview.json', 'Incidents', 'pd-eu')).toBe(3);
    expect(await panelValue('incident-overview.json', 'Incidents', 'pd-us')).toBe(2);
    expect(await panelValue('incident-overview.json', 'Incidents', '$__all')).toBe(6);
    expect(await panelValue('incident-overview.json', 'MTTA (mean)', 'pd-us')).toBe(1950);
    expect(await panelValue('action-items-follow-through.json', 'Open overdue action items', 'pd-eu')).toBe(1);
    expect(await panelValue('action-items-follow-through.json', 'Open overdue action items', 'jira-payments')).toBe(1);
    expect(await panelValue('action-items-follow-through.json', 'Open overdue action items', '$__all')).toBe(2);
  });
});

describe('incident-lens report --source, the command', () => {
  // Each test runs the command twice, and a loaded machine takes 20 s for one run: 180 s each.
  const cli = (args: string[]) =>
    runCli(args, { ...process.env, DATABASE_URL: database.url, INCIDENT_LENS_CONFIG: '', LOG_LEVEL: 'warn' });
  const october = ['report', '--period', 'month', '--date', '2026-10', '--tz', 'UTC', '--as-of', AS_OF.toISOString()];

  it("prints one account's report and says so in Markdown", async () => {
    const json = await cli([...october, '--source', 'pd-eu']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(await report('pd-eu'));
    const markdown = await cli([...october, '--source', 'pd-us', '--format', 'md']);
    expect(markdown.stdout).toContain('account pd-us (pagerduty) only.');
  }, 180_000);

  it('exits 2 with one line for an unknown account and for --published with --source', async () => {
    const unknown = await cli([...october, '--source', 'pd-apac']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toContain("unknown source 'pd-apac': the accounts are jira-payments, pd-eu, pd-us");
    const published = await cli([...october, '--source', 'pd-eu', '--published']);
    expect(published.code).toBe(2);
    expect(published.stderr).toContain('--published');
  }, 180_000);
});

describe('two simulated PagerDuty accounts synced into one database', () => {
  const start = new Date('2026-08-01T00:00:00Z');
  const end = new Date('2026-11-15T00:00:00Z');
  const request = { granularity: 'month', date: '2026-10', timezone: 'Europe/Berlin', asOf: end } as const;
  let both: TestDatabase;
  let alone: TestDatabase;

  beforeAll(async () => {
    [both, alone] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    await syncSimulatedPagerDuty(both.db, { seed: 61, start, end, incidents: 150, accountName: 'pd-eu' });
    await syncSimulatedPagerDuty(both.db, { seed: 62, start, end, incidents: 150, accountName: 'pd-us' });
    await syncSimulatedPagerDuty(alone.db, { seed: 62, start, end, incidents: 150, accountName: 'pd-us' });
    // Closed periods cached as the collector does after a sync: the per-account report must not read them.
    await sql`SELECT lens.refresh_closed_periods('Europe/Berlin', ${end})`.execute(both.db);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([both?.destroy(), alone?.destroy()]);
  });

  it('gives one account the report of a database that holds only that account', async () => {
    const restricted = await readReport(both.db, { ...request, source: 'pd-us' });
    const only = await readReport(alone.db, request);
    expect(only.incidents.total).toBeGreaterThan(10);
    expect(only.onCall.interruptions.total).toBeGreaterThan(0);
    // Every section: figures, trend, previous period, repeats, on-call, noise, data quality; only the
    // database ids of services and teams (byService/byTeam keys) differ between the two databases.
    const withoutIds = (report: ReportJson) => ({
      ...report,
      byService: report.byService.map(({ key: _key, ...rest }) => rest),
      byTeam: report.byTeam.map(({ key: _key, ...rest }) => rest),
    });
    expect(withoutIds({ ...restricted, source: null })).toEqual(withoutIds(only));
    expect(restricted.source).toEqual({ name: 'pd-us', kind: 'pagerduty' });
  });

  it('adds the accounts up to the report of both', async () => {
    const [eu, us, all] = await Promise.all([
      readReport(both.db, { ...request, source: 'pd-eu' }),
      readReport(both.db, { ...request, source: 'pd-us' }),
      readReport(both.db, request),
    ]);
    expect(eu.incidents.total + us.incidents.total).toBe(all.incidents.total);
    expect(eu.mtta.count + us.mtta.count).toBe(all.mtta.count);
    expect(eu.sla.ack.breached + us.sla.ack.breached).toBe(all.sla.ack.breached);
    expect(eu.onCall.interruptions.total + us.onCall.interruptions.total).toBe(all.onCall.interruptions.total);
    expect(eu.noise.autoResolved + us.noise.autoResolved).toBe(all.noise.autoResolved);
  });
});
