import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { loadConfig } from '../collector/src/config.ts';
import { readReport } from '../collector/src/metrics/report-data.ts';
import { publishReport } from '../collector/src/report/published.ts';
import { renderReport } from '../collector/src/report/render-report.ts';
import { REPORT_SQL } from '../plugin/src/data/queries.ts';
import { parseReport } from '../plugin/src/data/report.ts';
import { accountVariable, interpolateSqlVariables } from '../plugin/src/data/templateVariables.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { expandGrafanaMacros } from './support/grafana-postgres.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';
import { readerUrl } from './support/reader-role.ts';

// The Reports page and `incident-lens report --format json` show one value:
// what lens.report returns. The page's exact SQL, run as the reader role in
// read-only transactions, must give the CLI's JSON to the last bit, for any
// period, zone and as-of instant, whichever of the two asks first.

let database: TestDatabase;
let reader: pg.Client;
const now = new Date();
const config = loadConfig({}, '/nonexistent');

beforeAll(async () => {
  database = await createTestDatabase();
  await loadIncidentFixtures(database.url, { now, incidents: 160, seed: 11 });
  // One period published long ago (as serve does when a month closes): both must show what changed since.
  const early = {
    granularity: 'month',
    date: day(65),
    timezone: 'Australia/Sydney',
    asOf: new Date(now.getTime() - 60 * 86_400_000),
  } as const;
  await publishReport(database.db, await readReport(database.db, early));
  reader = new pg.Client({ connectionString: await readerUrl(database.url) });
  await reader.connect();
  await reader.query('SET default_transaction_read_only = on');
  // A client asking for fewer float digits (PostgreSQL's old default) still gets every bit.
  await reader.query('SET extra_float_digits = 0');
});

afterAll(async () => {
  await reader?.end();
  await database?.destroy();
});

async function pageReport(
  granularity: string,
  date: string,
  timezone: string,
  asOf: Date,
  source?: string
): Promise<unknown> {
  const variables = {
    granularity: { value: granularity },
    date: { value: date },
    timezone: { value: timezone },
    as_of: { value: asOf.toISOString() },
    source: accountVariable(source),
  };
  const sql = expandGrafanaMacros(interpolateSqlVariables(REPORT_SQL, variables), { from: 0, to: 0 });
  const { rows } = await reader.query<{ report: string }>(sql);
  expect(rows).toHaveLength(1);
  return parseReport(rows[0]!.report);
}

async function cliReport(
  granularity: 'day' | 'week' | 'month',
  date: string,
  timezone: string,
  asOf: Date,
  source?: string
): Promise<unknown> {
  return JSON.parse(
    await renderReport(database.db, config, { granularity, date, timezone, asOf, format: 'json', source })
  );
}

const day = (daysAgo: number) => new Date(now.getTime() - daysAgo * 86_400_000).toISOString().slice(0, 10);

describe('the Reports page query', () => {
  it.each([
    ['month', day(35), 'Europe/Berlin', 0, 'page'],
    ['month', day(35), 'Europe/Berlin', 0, 'cli'],
    ['month', day(5), 'UTC', 0, 'cli'],
    ['month', day(5), 'UTC', 0.5, 'page'],
    ['week', day(20), 'America/New_York', 3, 'page'],
    ['week', day(3), 'Pacific/Chatham', 1, 'cli'],
    ['day', day(2), 'Asia/Kolkata', 0, 'cli'],
    ['day', day(0), 'Europe/London', 0.25, 'page'],
    ['month', day(65), 'Australia/Sydney', 40, 'page'],
    ['month', day(65), 'America/Los_Angeles', 10, 'cli'],
  ] as const)(
    '%s containing %s in %s, as of %f days ago (%s first), equals incident-lens report --format json',
    async (granularity, date, timezone, asOfDaysAgo, first) => {
      // Milliseconds too: the instant must reach both as the same value.
      const asOf = new Date(Math.floor(now.getTime() - asOfDaysAgo * 86_400_000));
      const [page, cli] =
        first === 'page'
          ? [await pageReport(granularity, date, timezone, asOf), await cliReport(granularity, date, timezone, asOf)]
          : [
              await cliReport(granularity, date, timezone, asOf),
              await pageReport(granularity, date, timezone, asOf),
            ].reverse();
      expect(cli).toMatchObject({ period: { granularity, timezone, asOf: asOf.toISOString().replace('.000Z', 'Z') } });
      expect(
        (cli as { incidents: { total: number } }).incidents.total + (cli as { trend: unknown[] }).trend.length
      ).toBeGreaterThan(0);
      expect(page).toStrictEqual(cli);
    }
  );

  it('shows the revisions of a published period as the CLI does', async () => {
    const asOf = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const cli = await cliReport('month', day(65), 'Australia/Sydney', asOf);
    expect(cli).toHaveProperty('published.revisions');
    expect(await pageReport('month', day(65), 'Australia/Sydney', asOf)).toStrictEqual(cli);
  });

  it('passes the account picker to lens.report as --source does', async () => {
    const asOf = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const cli = await cliReport('month', day(35), 'Europe/Berlin', asOf, 'Acme PagerDuty');
    expect(cli).toMatchObject({ source: { name: 'Acme PagerDuty', kind: 'pagerduty' } });
    expect(await pageReport('month', day(35), 'Europe/Berlin', asOf, 'Acme PagerDuty')).toStrictEqual(cli);
    // The fixtures' incidents all come from PagerDuty: the Jira site has none of them.
    const jira = (await pageReport('month', day(35), 'Europe/Berlin', asOf, 'Acme Jira')) as {
      incidents: { total: number };
    };
    expect(jira.incidents.total).toBe(0);
    expect((cli as { incidents: { total: number } }).incidents.total).toBeGreaterThan(0);
  });
});
