import pg from 'pg';
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
