import pg from 'pg';
import { expect } from 'vitest';
import { createTestDatabase } from './database.ts';
import { readerUrl } from './reader-role.ts';

export interface PagedListDatabase {
  /** As the owner role: to fill the database. */
  owner: pg.Client;
  /** As incident_lens_reader: to page the lists as Grafana does. */
  reader: pg.Client;
  /** Ends both connections and drops the database. */
  close(): Promise<void>;
}

/**
 * A fresh database for the paged-list tests, with the three accounts they
 * spread their rows over: 'pd-a' and 'pd-b' of PagerDuty and 'jira'.
 */
export async function pagedListDatabase(): Promise<PagedListDatabase> {
  const database = await createTestDatabase();
  const owner = new pg.Client({ connectionString: database.url });
  await owner.connect();
  await owner.query(`
    INSERT INTO sources (name, kind, base_url)
    VALUES ('pd-a', 'pagerduty', 'https://a.example.test'), ('pd-b', 'pagerduty', 'https://b.example.test'),
           ('jira', 'jira', 'https://acme.atlassian.net')`);
  const reader = new pg.Client({ connectionString: await readerUrl(database.url) });
  await reader.connect();
  return {
    owner,
    reader,
    close: async () => {
      await owner.end();
      await reader.end();
      await database.destroy();
    },
  };
}

/**
 * Every page of `size` rows of a list paged by keyset, each asked for after
 * the last row's `page_cursor` of the one before ('' for the first), until
 * an empty page.
 */
export async function walkPages<Row extends { page_cursor: string }>(
  size: number,
  page: (after: string) => Promise<Row[]>
): Promise<Row[][]> {
  const result: Row[][] = [];
  let after = '';
  for (;;) {
    const rows = await page(after);
    if (rows.length === 0) {
      return result;
    }
    expect(rows.length).toBeLessThanOrEqual(size);
    // A cursor that does not move on would page forever.
    expect(result.length).toBeLessThan(1000);
    result.push(rows);
    after = rows.at(-1)!.page_cursor;
  }
}
