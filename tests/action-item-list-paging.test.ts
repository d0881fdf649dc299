import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pagedListDatabase, walkPages, type PagedListDatabase } from './support/paged-lists.ts';

// The Action items page's list by keyset (lens.action_item_list,
// sql/lens/80_grafana.sql): walked page by page it is the unpaged list, in
// its order (overdue first, then by deadline, undated last, id breaking
// ties), for any page size, with and without done items, for one account;
// it is the list the page showed before it paged; and lens.action_item_list_size
// counts what the walk finds. Items share due days in threes, so pages end
// inside a run of equal deadlines.

// October and November 2026 in Berlin, as of 2026-11-10.
const RANGE_START = '2026-09-30T22:00:00Z';
const RANGE_END = '2026-11-30T23:00:00Z';
const AS_OF = '2026-11-10T00:00:00Z';
const TZ = 'Europe/Berlin';
const RANGE = `'${RANGE_START}', '${RANGE_END}', '${AS_OF}', '${TZ}'`;

let database: PagedListDatabase;
let owner: pg.Client;
let reader: pg.Client;

beforeAll(async () => {
  database = await pagedListDatabase();
  ({ owner, reader } = database);
  await owner.query(`
    INSERT INTO incidents (source_id, external_id, number, title, status, severity, created_at, html_url)
    SELECT s.id, 'P' || g, g, 'Incident ' || g, 'resolved', 'SEV2', timestamptz '2026-08-01T00:00:00Z' + g * interval '1 day',
           'https://pd.example.test/incidents/P' || g
    FROM generate_series(1, 60) g
    JOIN sources s ON s.name = CASE WHEN g % 3 = 0 THEN 'pd-b' ELSE 'pd-a' END`);
  // 400 items, inserted last first so that ids run against due days: three to each due day
  // from 08-20 to 12-31 (overdue long before the range, due in it before and after as_of,
  // after the range), one in five without a due date (created from 09-10 on, around the range);
  // one in three done (on either side of as_of), the rest open; one in seven of no incident
  // (Jira's account); the last few created after as_of.
  await owner.query(`
    INSERT INTO action_items (source_id, external_id, incident_id, title, status, status_category, owner, due_date,
                              created_at, completed_at, html_url)
    SELECT (SELECT id FROM sources WHERE name = 'jira'), 'A-' || g,
           CASE WHEN g % 7 <> 0 THEN (SELECT i.id FROM incidents i WHERE i.external_id = 'P' || (1 + g % 60)) END,
           'Action ' || g, CASE WHEN g % 3 = 0 THEN 'Done' ELSE 'To Do' END,
           CASE WHEN g % 3 = 0 THEN 'done' ELSE 'new' END, 'ada',
           CASE WHEN g % 5 <> 0 THEN date '2026-08-20' + g / 3 END,
           CASE WHEN g > 395 THEN timestamptz '2026-11-12T00:00:00Z'
                WHEN g % 5 = 0 THEN timestamptz '2026-09-10T00:00:00Z' + g * interval '7 hours'
                ELSE timestamptz '2026-08-01T00:00:00Z' + g * interval '5 hours' END,
           CASE WHEN g % 3 = 0 THEN timestamptz '2026-10-01T00:00:00Z' + g * interval '5 hours' END,
           'https://acme.atlassian.net/browse/A-' || g
    FROM generate_series(400, 1, -1) g`);
});

afterAll(async () => {
  await database?.close();
});

interface Row {
  external_id: string;
  due_date: string | null;
  deadline: Date | null;
  is_overdue: boolean;
  is_done: boolean;
  page_cursor: string;
}

interface Options {
  includeDone: boolean;
  account?: string | null;
}

const LIST = `SELECT external_id, due_date::text AS due_date, deadline, is_overdue, is_done, page_cursor
              FROM lens.action_item_list(${RANGE}, account => $1, include_done => $2`;

async function unpaged({ includeDone, account = null }: Options): Promise<Row[]> {
  return (await reader.query<Row>(`${LIST})`, [account, includeDone])).rows;
}

/** Every page of `size` rows, each starting after the last row of the one before. */
function pages({ includeDone, account = null }: Options, size: number): Promise<Row[][]> {
  return walkPages(
    size,
    async (after) =>
      (await reader.query<Row>(`${LIST}, page_size => $3, page_after => $4)`, [account, includeDone, size, after])).rows
  );
}

async function size({ includeDone, account = null }: Options): Promise<{ items: number; overdue: number }> {
  const result = await reader.query<{ items: string; overdue: string }>(
    `SELECT items, overdue FROM lens.action_item_list_size(${RANGE}, account => $1, include_done => $2)`,
    [account, includeDone]
  );
  expect(result.rows).toHaveLength(1);
  return { items: Number(result.rows[0]!.items), overdue: Number(result.rows[0]!.overdue) };
}

const part = (row: Row) => (row.is_overdue ? 1 : row.deadline === null ? 3 : 2);

describe.each([false, true])('the action item list with include_done %s, page by page', (includeDone) => {
  it('adds up to the unpaged list, in its order, for any page size, pages ending inside runs of equal deadlines', async () => {
    const all = await unpaged({ includeDone });
    expect(all.length).toBeGreaterThan(60);
    for (const pageSize of [1, 7, 50, 1000]) {
      const paged = await pages({ includeDone }, pageSize);
      expect(paged.flat()).toEqual(all);
      expect(paged.slice(0, -1).every((page) => page.length === pageSize)).toBe(true);
    }
    const paged = await pages({ includeDone }, 7);
    const boundaries = paged.slice(0, -1).map((page, index) => [page.at(-1)!, paged[index + 1]![0]!] as const);
    expect(
      boundaries.some(([last, next]) => last.deadline !== null && last.deadline.getTime() === next.deadline?.getTime())
    ).toBe(true);
    // A page also holds the end of one part and the start of the next.
    expect(paged.some((page) => new Set(page.map(part)).size > 1)).toBe(true);
  });

  it('lists the overdue items first, then by deadline, the undated last, each row once', async () => {
    const all = await unpaged({ includeDone });
    const key = (row: Row) => [part(row), row.deadline?.getTime() ?? 0] as const;
    for (let index = 1; index < all.length; index++) {
      const [previousPart, previousDeadline] = key(all[index - 1]!);
      const [thisPart, thisDeadline] = key(all[index]!);
      expect(previousPart < thisPart || (previousPart === thisPart && previousDeadline <= thisDeadline)).toBe(true);
    }
    expect(new Set(all.map((row) => row.page_cursor)).size).toBe(all.length);
    expect(new Set(all.map((row) => row.external_id)).size).toBe(all.length);
    // Every part is there: overdue items due before the range, items due in it, undated ones.
    expect(all.some((row) => row.is_overdue && row.due_date! < '2026-10-01')).toBe(true);
    expect(all.some((row) => !row.is_overdue && row.due_date !== null)).toBe(true);
    expect(all.some((row) => row.due_date === null)).toBe(true);
    expect(all.some((row) => row.is_done)).toBe(includeDone);
  });

  it('is the list the page showed before it paged: every open overdue item, then lens.action_item_facts without them', async () => {
    const before = await reader.query<{ external_id: string }>(`
      SELECT external_id FROM (
        SELECT o.external_id, true AS overdue, o.deadline, o.action_item_id AS id FROM lens.open_overdue_action_items('${AS_OF}', '${TZ}') o
        UNION ALL
        SELECT f.external_id, false, f.deadline, f.action_item_id
        FROM lens.action_item_facts(${RANGE}, include_done => ${includeDone}, include_overdue => false) f) x
      ORDER BY overdue DESC, deadline NULLS LAST, id`);
    expect((await unpaged({ includeDone })).map((row) => row.external_id)).toEqual(
      before.rows.map((row) => row.external_id)
    );
  });

  it("pages one account's items, the same as its unpaged list", async () => {
    const all = await unpaged({ includeDone });
    const accountB = await unpaged({ includeDone, account: 'pd-b' });
    expect(accountB.length).toBeGreaterThan(7);
    expect(accountB.length).toBeLessThan(all.length);
    expect(all).toEqual(expect.arrayContaining(accountB));
    expect((await pages({ includeDone, account: 'pd-b' }, 7)).flat()).toEqual(accountB);
  });

  it('is as long as lens.action_item_list_size says, with as many overdue, for every account', async () => {
    for (const account of [null, 'pd-a', 'pd-b', 'jira']) {
      const walked = (await pages({ includeDone, account }, 50)).flat();
      expect(await size({ includeDone, account })).toEqual({
        items: walked.length,
        overdue: walked.filter((row) => row.is_overdue).length,
      });
    }
  });
});

describe('the action item list', () => {
  it('starts at the range when the cursor of a row due lies before it', async () => {
    const [first] = await pages({ includeDone: true }, 1000);
    const dueFrom = first!.findIndex((row) => part(row) === 2);
    const page = (
      await reader.query<Row>(`${LIST}, page_size => 10, page_after => $3)`, [
        null,
        true,
        'due:2020-01-01T00:00:00.000000Z/1',
      ])
    ).rows;
    expect(page).toEqual(first!.slice(dueFrom, dueFrom + 10));
  });

  it('refuses a page_after that is no page_cursor, naming the list', async () => {
    for (const cursor of [
      'yesterday',
      '2026-10-05T09:00:00.000000Z/7',
      'overdue:2026-13-45T00:00:00Z/7',
      'due:2026-10-05T09:00:00Z/x',
      'due:',
      'undated:x',
      'undated:2026-10-05T09:00:00Z/7',
      'x'.repeat(500),
    ]) {
      await expect(
        reader.query(`${LIST}, page_size => 10, page_after => $3)`, [null, false, cursor])
      ).rejects.toMatchObject({
        code: '22023',
        message: expect.stringMatching(/^page_after must be the page_cursor of a row of lens\.action_item_list: got '/),
      });
    }
  });
});
