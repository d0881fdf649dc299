import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';
import { walkPages } from './support/paged-lists.ts';
import { readerUrl } from './support/reader-role.ts';

// lens.incident_list by keyset, as the Incidents page and the overview's
// panel read it: the pages, one after another, are the whole list, in the
// same order, with the same filters, whatever the page size.

let database: TestDatabase;
let reader: pg.Client;

// One instant for every call, so that no outcome or timeline changes between two of them.
const NOW = new Date().toISOString();
const RANGE = `'${NOW}'::timestamptz - interval '120 days', '${NOW}', '${NOW}', 'UTC'`;

beforeAll(async () => {
  database = await createTestDatabase();
  await loadIncidentFixtures(database.url, { now: new Date(NOW), incidents: 150 });
  reader = new pg.Client({ connectionString: await readerUrl(database.url) });
  await reader.connect();
});

afterAll(async () => {
  await reader?.end();
  await database?.destroy();
});

interface Row {
  id: string;
  service: string | null;
  team: string | null;
  severity: string;
  status: string;
  merged: boolean;
  timeline: string | null;
  page_cursor: string;
}

async function list(extra = ''): Promise<Row[]> {
  return (await reader.query<Row>(`SELECT * FROM lens.incident_list(${RANGE}${extra})`)).rows;
}

/** Every page of `size` rows, each starting after the last row of the one before. */
function pages(size: number, filters = ''): Promise<Row[][]> {
  return walkPages(
    size,
    async (after) =>
      (
        await reader.query<Row>(
          `SELECT * FROM lens.incident_list(${RANGE}, page_size => $1, page_after => $2${filters})`,
          [size, after]
        )
      ).rows
  );
}

describe('lens.incident_list pages', () => {
  it('add up to the unpaged list, in its order, for any page size', async () => {
    const all = await list();
    expect(all.length).toBeGreaterThan(100);
    for (const size of [1, 7, 100, 1000]) {
      const paged = await pages(size);
      expect(paged.flat()).toEqual(all);
      expect(paged.slice(0, -1).every((page) => page.length === size)).toBe(true);
    }
  });

  it('filter before paging: every page is full and the filters match the unpaged list filtered', async () => {
    const all = await list();
    const team = all.find((row) => row.team !== null)!.team!;
    const wanted = all.filter((row) => !row.merged && row.team === team && ['SEV1', 'SEV2'].includes(row.severity));
    expect(wanted.length).toBeGreaterThan(3);
    const paged = await pages(
      3,
      `, teams => ARRAY['${team}'], severities => ARRAY['SEV1', 'SEV2'], services => ARRAY['__all'], include_merged => false`
    );
    expect(paged.flat()).toEqual(wanted);
    expect(paged.slice(0, -1).every((page) => page.length === 3)).toBe(true);
  });

  it('keeps the timelines and the SLA columns of the unpaged list', async () => {
    const all = await list();
    const [first] = await pages(25);
    expect(first).toEqual(all.slice(0, 25));
    expect(first!.some((row) => row.timeline !== null)).toBe(true);
  });

  it('refuses a page_after that is no page_cursor, saying so', async () => {
    for (const cursor of ['yesterday', '2026-13-45T00:00:00Z/7', '2026-10-05T09:00:00Z/x', 'x'.repeat(500)]) {
      await expect(
        reader.query(`SELECT * FROM lens.incident_list(${RANGE}, page_size => 10, page_after => $1)`, [cursor])
      ).rejects.toMatchObject({
        code: '22023',
        message: expect.stringMatching(/^page_after must be the page_cursor of a row of lens\.incident_list: got '/),
      });
    }
  });

  it('lists the services, teams and statuses of the range as filter choices', async () => {
    const all = await list();
    const options = (
      await reader.query<{ kind: string; value: string }>(
        `SELECT kind, value FROM lens.incident_filter_options('${NOW}'::timestamptz - interval '120 days', '${NOW}', '${NOW}')`
      )
    ).rows;
    const distinct = (values: Array<string | null>) => [...new Set(values.filter((value) => value !== null))].sort();
    expect(options.filter((row) => row.kind === 'service').map((row) => row.value)).toEqual(
      distinct(all.map((row) => row.service))
    );
    expect(options.filter((row) => row.kind === 'team').map((row) => row.value)).toEqual(
      distinct(all.map((row) => row.team))
    );
    expect(options.filter((row) => row.kind === 'status').map((row) => row.value)).toEqual(
      distinct(all.map((row) => row.status))
    );
  });
});
