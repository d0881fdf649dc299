import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import type { Logger } from '../logger.ts';
import type { Database } from './schema.ts';

export const SQL_DIR = fileURLToPath(new URL('../../../sql/', import.meta.url));

// Any constant works; it only has to be the same in every process.
const MIGRATION_LOCK_KEY = 0x1e1c_1de7;

export interface Migration {
  version: number;
  name: string;
  text: string;
  checksum: string;
}

/** `sql/NNN_name.sql`, in numeric order; a gap or a duplicate number is an error. */
export async function loadMigrations(directory = SQL_DIR): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => /^\d+_.+\.sql$/.test(file)).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const version = Number(file.split('_', 1)[0]);
    const text = await readFile(path.join(directory, file), 'utf8');
    migrations.push({ version, name: file, text, checksum: createHash('sha256').update(text).digest('hex') });
  }
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`migrations must be numbered 1, 2, 3...: ${migration.name} is number ${index + 1}`);
    }
  });
  return migrations;
}

/**
 * Applies pending migrations in order, each in its own transaction, and
 * records them. An advisory lock keeps two processes from migrating at once.
 * A recorded migration whose file has changed is refused: migrations are
 * append-only.
 */
export async function migrate(db: Kysely<Database>, logger: Logger): Promise<number> {
  const migrations = await loadMigrations();
  return db.connection().execute(async (connection) => {
    await sql`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(connection);
    try {
      await sql`
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version    integer PRIMARY KEY,
          name       text NOT NULL,
          checksum   text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`.execute(connection);
      const applied = await connection.selectFrom('schema_migrations').select(['version', 'name', 'checksum']).execute();
      const appliedByVersion = new Map(applied.map((row) => [row.version, row]));
      let count = 0;
      for (const migration of migrations) {
        const recorded = appliedByVersion.get(migration.version);
        if (recorded) {
          if (recorded.checksum !== migration.checksum) {
            throw new Error(
              `migration ${migration.name} was changed after it was applied; add a new migration instead`,
            );
          }
          continue;
        }
        await connection.transaction().execute(async (trx) => {
          await sql.raw(migration.text).execute(trx);
          await trx
            .insertInto('schema_migrations')
            .values({ version: migration.version, name: migration.name, checksum: migration.checksum })
            .execute();
        });
        logger.info({ migration: migration.name }, 'migration applied');
        count += 1;
      }
      const newest = Math.max(0, ...applied.map((row) => row.version));
      if (newest > migrations.length) {
        throw new Error(
          `the database has migration ${newest} but this version of incident-lens knows only ${migrations.length}; upgrade incident-lens`,
        );
      }
      return count;
    } finally {
      await sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(connection);
    }
  });
}

/** True when every known migration is recorded (used by readiness checks). */
export async function migrationsApplied(db: Kysely<Database>): Promise<boolean> {
  const migrations = await loadMigrations();
  const exists = await sql<{ exists: boolean }>`SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`.execute(db);
  if (!exists.rows[0]?.exists) return false;
  const row = await db.selectFrom('schema_migrations').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirst();
  return Number(row?.count ?? 0) >= migrations.length;
}
