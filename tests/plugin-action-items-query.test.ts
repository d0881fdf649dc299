import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ACTION_ITEMS_PAGE_SIZE, ACTION_ITEMS_SIZE_SQL, ACTION_ITEMS_SQL } from '../plugin/src/data/queries.ts';
import { accountVariable, interpolateSqlVariables } from '../plugin/src/data/templateVariables.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { expandGrafanaMacros } from './support/grafana-postgres.ts';
import { MetricRows } from './support/metrics-rows.ts';
import { readerUrl } from './support/reader-role.ts';

// The Action items page's exact SQL, as the reader role: every open overdue
// item whatever its due date, then the others due in the range and those
// created in it without a due date, a page at a time, and their count.

let database: TestDatabase;
let reader: pg.Client;
const DAY = 86_400_000;
const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const dueDay = (ms: number) => iso(ms).slice(0, 10);

beforeAll(async () => {
  database = await createTestDatabase();
  const rows = await MetricRows.create(database.db);
  await rows.incidents([{ id: 'I1', created: iso(now - 20 * DAY), severity: 'SEV2' }]);
  await rows.actionItems([
    // Overdue for a year: listed although its due day is far outside the range.
    { id: 'OLD-OVERDUE', incident: 'I1', created: iso(now - 400 * DAY), due: dueDay(now - 365 * DAY) },
    { id: 'OVERDUE', incident: 'I1', created: iso(now - 10 * DAY), due: dueDay(now - 5 * DAY) },
    { id: 'DUE-SOON', incident: 'I1', created: iso(now - 3 * DAY), due: dueDay(now + 5 * DAY) },
    { id: 'UNDATED', incident: 'I1', created: iso(now - 2 * DAY), due: null },
    { id: 'UNDATED-BEFORE', incident: 'I1', created: iso(now - 60 * DAY), due: null },
    {
      id: 'DONE',
      incident: 'I1',
      created: iso(now - 9 * DAY),
      due: dueDay(now - 4 * DAY),
      completed: iso(now - 6 * DAY),
    },
  ]);
  reader = new pg.Client({ connectionString: await readerUrl(database.url) });
  await reader.connect();
});

afterAll(async () => {
  await reader?.end();
  await database?.destroy();
});

async function run<T>(text: string, includeDone: boolean, pageAfter = ''): Promise<T[]> {
  const variables = {
    timezone: { value: 'UTC' },
    include_done: { value: includeDone ? 'true' : 'false' },
    source: accountVariable(undefined),
    page_after: { value: pageAfter },
  };
  const sql = expandGrafanaMacros(interpolateSqlVariables(text, variables), {
    from: now - 30 * DAY,
    to: now + 30 * DAY,
  });
  return (await reader.query(sql)).rows;
}

interface PageRow {
  external_id: string;
  overdue: boolean;
  done: boolean;
  page_cursor: string;
}
const page = (includeDone: boolean, pageAfter?: string) => run<PageRow>(ACTION_ITEMS_SQL, includeDone, pageAfter);

describe('the Action items page query', () => {
  it('lists overdue items first, then those due in the range and those created in it without a due date', async () => {
    const rows = await page(false);
    expect(rows.map((row) => [row.external_id, row.overdue])).toEqual([
      ['OLD-OVERDUE', true],
      ['OVERDUE', true],
      ['DUE-SOON', false],
      ['UNDATED', false],
    ]);
  });

  it('adds the items done when asked', async () => {
    const rows = await page(true);
    expect(rows.filter((row) => row.done).map((row) => row.external_id)).toEqual(['DONE']);
    expect(rows.map((row) => row.external_id)).toContain('UNDATED');
  });

  it('counts the items and the overdue ones as the page lists them', async () => {
    for (const includeDone of [false, true]) {
      const [size] = await run<{ items: number; overdue: number }>(ACTION_ITEMS_SIZE_SQL, includeDone);
      const rows = await page(includeDone);
      expect(rows.length).toBeLessThan(ACTION_ITEMS_PAGE_SIZE);
      expect(size).toEqual({ items: rows.length, overdue: rows.filter((row) => row.overdue).length });
    }
  });

  it('starts a page after the page_cursor of a row, and refuses anything else', async () => {
    const all = await page(true);
    expect((await page(true, all[1]!.page_cursor)).map((row) => row.external_id)).toEqual(
      all.slice(2).map((row) => row.external_id)
    );
    await expect(page(true, "x' OR true --")).rejects.toMatchObject({ code: '22023' });
  });
});
