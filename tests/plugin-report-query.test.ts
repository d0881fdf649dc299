import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { buildReport, type ReportJson } from '../collector/src/metrics/report-data.ts';
import { REPORT_SQL } from '../plugin/src/data/queries.ts';
import { interpolateSqlVariables } from '../plugin/src/data/templateVariables.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { expandGrafanaMacros } from './support/grafana-postgres.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';
import { readerUrl } from './support/reader-role.ts';

// The Reports page builds the report JSON in one SQL query from the same lens
// functions the CLI's buildReport reads. Every field the page has must equal
// the CLI's, for any period, zone and as-of instant.

let database: TestDatabase;
let reader: pg.Client;
const now = new Date();

beforeAll(async () => {
  database = await createTestDatabase();
  await loadIncidentFixtures(database.url, { now, incidents: 120, seed: 11 });
  reader = new pg.Client({ connectionString: await readerUrl(database.url) });
  await reader.connect();
});

afterAll(async () => {
  await reader?.end();
  await database?.destroy();
});

async function pageReport(granularity: string, date: string, timezone: string, asOf: Date): Promise<Record<string, unknown>> {
  const variables = {
    granularity: { value: granularity },
    date: { value: date },
    timezone: { value: timezone },
    as_of: { value: asOf.toISOString() },
  };
  const sql = expandGrafanaMacros(interpolateSqlVariables(REPORT_SQL, variables), { from: 0, to: 0 });
  const { rows } = await reader.query<{ report: string }>(sql);
  return JSON.parse(rows[0]!.report) as Record<string, unknown>;
}

function sharedFields(cli: ReportJson, page: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(page).map((key) => [key, cli[key as keyof ReportJson]]));
}

describe('the Reports page query', () => {
  const day = (daysAgo: number) => new Date(now.getTime() - daysAgo * 86_400_000).toISOString().slice(0, 10);
  it.each([
    ['month', day(35), 'Europe/Berlin', 0],
    ['month', day(5), 'UTC', 0],
    ['week', day(20), 'America/New_York', 3],
    ['day', day(2), 'Asia/Kolkata', 0],
    ['month', day(65), 'Australia/Sydney', 40],
  ])('%s containing %s in %s, as of %i days ago, equals incident-lens report', async (granularity, date, timezone, asOfDaysAgo) => {
    const asOf = new Date(Math.floor((now.getTime() - asOfDaysAgo * 86_400_000) / 1000) * 1000);
    const page = await pageReport(granularity, date, timezone, asOf);
    const cli = await buildReport(database.db, { granularity: granularity as 'day' | 'week' | 'month', date, timezone, asOf });
    expect(Object.keys(page).sort()).toEqual(
      ['actionItems', 'bySeverity', 'escalationRate', 'incidents', 'mtta', 'mttr', 'period', 'postmortems', 'repeatRate', 'repeatRootCauses', 'sla'].sort()
    );
    expect(page).toEqual(sharedFields(cli, page));
  });
});
