import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { createKysely, ensureDatabase } from '../../collector/src/db/database.ts';
import { migrate } from '../../collector/src/db/migrate.ts';
import type { Database } from '../../collector/src/db/schema.ts';
import { createLogger } from '../../collector/src/logger.ts';

export interface TestDatabase {
  db: Kysely<Database>;
  /** Connection string of this database, for code under test that opens its own pool. */
  url: string;
  name: string;
  destroy(): Promise<void>;
}

/** A fresh, migrated database on the run's real PostgreSQL server. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject('postgresAdminUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  await ensureDatabase(adminUrl, name);
  const url = adminUrl.replace(/\/postgres$/, `/${name}`);
  const db = createKysely(url);
  if (options.migrated !== false) {
    await migrate(db, createLogger('warn'));
  }
  return {
    db,
    url,
    name,
    async destroy() {
      await db.destroy();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
