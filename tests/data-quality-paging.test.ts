import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pagedListDatabase, walkPages, type PagedListDatabase } from './support/paged-lists.ts';

// The Data quality page's two long lists by keyset (sql/lens/82_data_quality.sql):
// walked page by page they are the unpaged list, in its order, for any page
// size, with the account filter, and each is the list its count in
// lens.data_quality counts. Rows share creation instants in threes and fours,
// so pages end inside a run of equal instants.

// October 2026 in Berlin, as of 2026-11-10.
const RANGE_START = '2026-09-30T22:00:00Z';
const RANGE_END = '2026-10-31T23:00:00Z';
const AS_OF = '2026-11-10T00:00:00Z';
const TZ = 'Europe/Berlin';

let database: PagedListDatabase;
let owner: pg.Client;
let reader: pg.Client;

beforeAll(async () => {
  database = await pagedListDatabase();
  ({ owner, reader } = database);
  // 240 incidents from 09-28, three to each instant ten hours apart (into November): a
  // quarter in pd-b, four in five without severity, some of those merged. Inserted
  // newest first, so that the ids of equal instants do not follow the instants.
  await owner.query(`
    INSERT INTO incidents (source_id, external_id, number, title, status, severity, created_at, merged, html_url)
    SELECT s.id, 'P' || g, g, 'Incident ' || g, 'triggered',
           CASE WHEN g % 5 = 0 THEN 'SEV3' ELSE 'UNKNOWN' END,
           timestamptz '2026-09-28T00:00:00Z' + (g / 3) * interval '10 hours', g % 11 = 0,
           'https://pd.example.test/incidents/P' || g
    FROM generate_series(240, 1, -1) g
    JOIN sources s ON s.name = CASE WHEN g % 4 = 0 THEN 'pd-b' ELSE 'pd-a' END`);
  // 300 action items from 09-20, four to each instant nine hours apart: a third without
  // an owner (some blank), a quarter without a due date, the others due from 09-26 to
  // 11-04; each of an incident (so of its account), one in seven of none (Jira's).
  await owner.query(`
    INSERT INTO action_items (source_id, external_id, incident_id, title, status, status_category, owner, due_date,
                              created_at, html_url)
    SELECT (SELECT id FROM sources WHERE name = 'jira'), 'A-' || g,
           CASE WHEN g % 7 <> 0 THEN (SELECT i.id FROM incidents i WHERE i.external_id = 'P' || (1 + g % 240)) END,
           'Action ' || g, 'To Do', 'new',
           CASE WHEN g % 3 = 0 THEN NULL WHEN g % 10 = 1 THEN '  ' ELSE 'ada' END,
           CASE WHEN g % 4 <> 1 THEN date '2026-10-01' + (g % 40 - 5) END,
           timestamptz '2026-09-20T00:00:00Z' + (g / 4) * interval '9 hours',
           'https://acme.atlassian.net/browse/A-' || g
    FROM generate_series(300, 1, -1) g`);
});

afterAll(async () => {
  await database?.close();
});

interface Row {
  external_id: string;
  created_at: Date;
  without_owner?: boolean;
  without_due_date?: boolean;
  page_cursor: string;
}

const LISTS = {
  incidents: (paging: string) =>
    `SELECT * FROM lens.incidents_without_severity('${RANGE_START}', '${RANGE_END}', '${AS_OF}', account => $1${paging})`,
  actionItems: (paging: string) =>
    `SELECT * FROM lens.action_items_without_owner_or_due_date('${RANGE_START}', '${RANGE_END}', '${AS_OF}', '${TZ}',
       account => $1${paging})`,
};
type List = keyof typeof LISTS;

async function unpaged(list: List, account: string | null = null): Promise<Row[]> {
  return (await reader.query<Row>(LISTS[list](''), [account])).rows;
}

/** Every page of `size` rows, each starting after the last row of the one before. */
function pages(list: List, size: number, account: string | null = null): Promise<Row[][]> {
  return walkPages(
    size,
    async (after) =>
      (await reader.query<Row>(LISTS[list](', page_size => $2, page_after => $3'), [account, size, after])).rows
  );
}

/** Whether some page ends between two rows created at the same instant. */
function splitsEqualInstants(paged: Row[][]): boolean {
  return paged
    .slice(0, -1)
    .some((page, index) => page.at(-1)!.created_at.getTime() === paged[index + 1]![0]!.created_at.getTime());
}

async function figures(account: string | null): Promise<Record<string, number>> {
  const result = await reader.query<{ figures: Record<string, number> }>(
    `SELECT lens.data_quality('${RANGE_START}', '${RANGE_END}', '${AS_OF}', '${TZ}', account => $1) AS figures`,
    [account]
  );
  return result.rows[0]!.figures;
}

describe.each(['incidents', 'actionItems'] as const)('the data quality list %s, page by page', (list) => {
  it('adds up to the unpaged list, in its order, for any page size', async () => {
    const all = await unpaged(list);
    expect(all.length).toBeGreaterThan(100);
    for (const size of [1, 7, 50, 1000]) {
      const paged = await pages(list, size);
      expect(paged.flat()).toEqual(all);
      expect(paged.slice(0, -1).every((page) => page.length === size)).toBe(true);
    }
    expect(splitsEqualInstants(await pages(list, 7))).toBe(true);
  });

  it('is oldest first, each instant once per row', async () => {
    const all = await unpaged(list);
    const instants = all.map((row) => row.created_at.getTime());
    expect(instants).toEqual([...instants].sort((a, b) => a - b));
    expect(new Set(all.map((row) => row.page_cursor)).size).toBe(all.length);
  });

  it("pages one account's rows, the same as its unpaged list", async () => {
    const all = await unpaged(list);
    const accountB = await unpaged(list, 'pd-b');
    expect(accountB.length).toBeGreaterThan(7);
    expect(accountB.length).toBeLessThan(all.length);
    expect(all).toEqual(expect.arrayContaining(accountB));
    expect((await pages(list, 7, 'pd-b')).flat()).toEqual(accountB);
  });

  it('holds what its counts in lens.data_quality count, for every account', async () => {
    for (const account of [null, 'pd-a', 'pd-b', 'jira']) {
      const rows = await unpaged(list, account);
      const counts = await figures(account);
      if (list === 'incidents') {
        expect(rows.length).toBe(counts.withoutSeverity);
      } else {
        expect(rows.filter((row) => row.without_owner).length).toBe(counts.actionItemsWithoutOwner);
        expect(rows.filter((row) => row.without_due_date).length).toBe(counts.actionItemsWithoutDueDate);
      }
    }
  });

  it('starts at the range when the cursor lies before it', async () => {
    const [first] = await pages(list, 10);
    const page = (
      await reader.query<Row>(LISTS[list](', page_size => 10, page_after => $2'), [
        null,
        '2020-01-01T00:00:00.000000Z/1',
      ])
    ).rows;
    expect(page).toEqual(first);
  });

  it('refuses a page_after that is no page_cursor, naming the list', async () => {
    const name = list === 'incidents' ? 'incidents_without_severity' : 'action_items_without_owner_or_due_date';
    for (const cursor of ['yesterday', '2026-13-45T00:00:00Z/7', '2026-10-05T09:00:00Z/x', 'x'.repeat(500)]) {
      await expect(
        reader.query(LISTS[list](', page_size => 10, page_after => $2'), [null, cursor])
      ).rejects.toMatchObject({
        code: '22023',
        message: expect.stringMatching(
          new RegExp(`^page_after must be the page_cursor of a row of lens\\.${name}: got '`)
        ),
      });
    }
  });
});

describe('the action items list', () => {
  it('is the items lens.placed_action_items places in the range without an owner or a due date', async () => {
    const placed = await owner.query<{ external_id: string }>(
      `SELECT a.external_id
       FROM lens.placed_action_items('${RANGE_START}', '${RANGE_END}', '${AS_OF}', '${TZ}') p
       JOIN action_items a ON a.id = p.action_item_id
       WHERE p.without_owner OR p.due_date IS NULL
       ORDER BY p.created_at, p.action_item_id`
    );
    const listed = await unpaged('actionItems');
    expect(listed.map((row) => row.external_id)).toEqual(placed.rows.map((row) => row.external_id));
    // Both kinds of placement are in it: due in October without an owner, and created in it without a due date.
    expect(listed.some((row) => row.without_owner && !row.without_due_date)).toBe(true);
    expect(listed.some((row) => row.without_due_date)).toBe(true);
  });
});
