import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Logger } from '../logger.ts';
import type { Database } from './schema.ts';

// The repository's sql/, three levels up from this module in collector/src/db/
// and from the compiled chunk in collector/dist/js/ (scripts/build.mjs keeps
// the depth).
export const SQL_DIR = fileURLToPath(new URL('../../../sql/', import.meta.url));
export const DEFINITIONS_DIR = path.join(SQL_DIR, 'lens');

// Any constant works; it only has to be the same in every process.
const MIGRATION_LOCK_KEY = 0x1e1c_1de7;

export interface SqlFile {
  /** The numeric prefix: the order of application. */
  order: number;
  name: string;
  text: string;
  checksum: string;
}

/** What one `migrate` changed, by file name, in the order applied. */
export interface MigrationOutcome {
  migrations: string[];
  /** Every file of sql/lens when any of them changed (they are applied as one set), else none. */
  definitions: string[];
  /** The files of sql/lens that were new or edited since the last application. */
  changedDefinitions: string[];
}

async function loadSqlFiles(directory: string): Promise<SqlFile[]> {
  const names = (await readdir(directory)).filter((file) => /^\d+_.+\.sql$/.test(file));
  const files = await Promise.all(
    names.map(async (name) => {
      const text = await readFile(path.join(directory, name), 'utf8');
      return {
        order: Number(name.split('_', 1)[0]),
        name,
        text,
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    })
  );
  return files.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

/** `sql/NNN_name.sql`, in numeric order; a gap or a duplicate number is an error. */
export async function loadMigrations(directory = SQL_DIR): Promise<SqlFile[]> {
  const migrations = await loadSqlFiles(directory);
  migrations.forEach((migration, index) => {
    if (migration.order !== index + 1) {
      throw new Error(`migrations must be numbered 1, 2, 3...: ${migration.name} is number ${index + 1}`);
    }
  });
  return migrations;
}

/** `sql/lens/NN_family.sql`, in the order of their prefixes, which must differ. */
export async function loadDefinitions(directory = DEFINITIONS_DIR): Promise<SqlFile[]> {
  const definitions = await loadSqlFiles(directory);
  definitions.forEach((definition, index) => {
    const previous = definitions[index - 1];
    if (previous && previous.order === definition.order) {
      throw new Error(`sql/lens files need distinct number prefixes: ${previous.name} and ${definition.name}`);
    }
  });
  return definitions;
}

/**
 * Brings the schema up to date under an advisory lock, so that two processes
 * never migrate at once. Numbered migrations (tables, indexes, stored types)
 * are append-only: a recorded one whose file changed is refused. The
 * functions and views of sql/lens are definitions: when any file there
 * changed, or a migration is pending, every function and view of the schema
 * lens is dropped and the whole directory applied again, after the pending
 * migrations and in the same transaction, so readers see either the old
 * schema or the new one. The last files of the directory rebuild the data
 * derived by the definitions and grant the reader role. `directory` holds
 * the migrations and, in lens/, the definitions.
 */
export async function migrate(db: Kysely<Database>, logger: Logger, directory = SQL_DIR): Promise<MigrationOutcome> {
  const [migrations, definitions] = await Promise.all([
    loadMigrations(directory),
    loadDefinitions(path.join(directory, 'lens')),
  ]);
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
      await sql`
        CREATE TABLE IF NOT EXISTS schema_definitions (
          name       text PRIMARY KEY,
          checksum   text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`.execute(connection);
      const applied = await connection
        .selectFrom('schema_migrations')
        .select(['version', 'name', 'checksum'])
        .execute();
      const newest = Math.max(0, ...applied.map((row) => row.version));
      if (newest > migrations.length) {
        throw new Error(
          `the database has migration ${newest} but this version of incident-lens knows only ${migrations.length}; upgrade incident-lens`
        );
      }
      const appliedByVersion = new Map(applied.map((row) => [row.version, row]));
      const pending = migrations.filter((migration) => {
        const recorded = appliedByVersion.get(migration.order);
        if (recorded && recorded.checksum !== migration.checksum) {
          throw new Error(`migration ${migration.name} was changed after it was applied; add a new migration instead`);
        }
        return !recorded;
      });
      const recordedDefinitions = await connection
        .selectFrom('schema_definitions')
        .select(['name', 'checksum'])
        .execute();
      const recordedChecksums = new Map(recordedDefinitions.map((row) => [row.name, row.checksum]));
      const changedDefinitions = definitions
        .filter((definition) => recordedChecksums.get(definition.name) !== definition.checksum)
        .map((definition) => definition.name);
      const removedDefinitions = recordedDefinitions.some((row) => !definitions.some((file) => file.name === row.name));

      if (pending.length === 0 && changedDefinitions.length === 0 && !removedDefinitions) {
        return { migrations: [], definitions: [], changedDefinitions: [] };
      }
      await connection.transaction().execute(async (trx) => {
        // Rebuilding the derived data of a large database takes minutes, longer than the pool's statement timeout.
        await sql`SET LOCAL statement_timeout = 0`.execute(trx);
        await dropDefinitions(trx);
        for (const migration of pending) {
          await sql.raw(migration.text).execute(trx);
          await trx
            .insertInto('schema_migrations')
            .values({ version: migration.order, name: migration.name, checksum: migration.checksum })
            .execute();
        }
        for (const definition of definitions) {
          try {
            await sql.raw(definition.text).execute(trx);
          } catch (error) {
            throw new Error(`sql/lens/${definition.name}: ${(error as Error).message}`, { cause: error });
          }
        }
        await trx.deleteFrom('schema_definitions').execute();
        await trx
          .insertInto('schema_definitions')
          .values(definitions.map((definition) => ({ name: definition.name, checksum: definition.checksum })))
          .execute();
      });
      for (const migration of pending) {
        logger.info({ migration: migration.name }, 'migration applied');
      }
      logger.info({ changed: changedDefinitions, files: definitions.length }, 'lens definitions applied');
      return {
        migrations: pending.map((migration) => migration.name),
        definitions: definitions.map((definition) => definition.name),
        changedDefinitions,
      };
    } finally {
      await sql`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(connection);
    }
  });
}

/**
 * Drops every function and view of the schema lens (and the triggers bound
 * to its functions), so that the definitions can be applied from scratch,
 * whatever they rename or remove. Anything else that depends on them would
 * be dropped silently by CASCADE, so it is refused instead.
 */
async function dropDefinitions(trx: Transaction<Database>): Promise<void> {
  const exists = await sql<{ exists: boolean }>`SELECT to_regnamespace('lens') IS NOT NULL AS exists`.execute(trx);
  if (!exists.rows[0]?.exists) {
    return;
  }
  const outside = await sql<{ dependent: string }>`
    WITH doomed AS (
      SELECT 'pg_proc'::regclass AS classid, p.oid AS objid FROM pg_proc p WHERE p.pronamespace = 'lens'::regnamespace
      UNION ALL
      SELECT 'pg_class'::regclass, c.oid FROM pg_class c WHERE c.relnamespace = 'lens'::regnamespace AND c.relkind IN ('v', 'm')
    )
    SELECT DISTINCT pg_describe_object(d.classid, d.objid, d.objsubid) AS dependent
    FROM pg_depend d JOIN doomed x ON x.classid = d.refclassid AND x.objid = d.refobjid
    WHERE d.deptype = 'n'
      AND d.classid <> 'pg_trigger'::regclass
      AND NOT EXISTS (SELECT 1 FROM doomed y WHERE y.classid = d.classid AND y.objid = d.objid)
      AND NOT EXISTS (SELECT 1 FROM pg_rewrite r JOIN doomed y ON y.classid = 'pg_class'::regclass AND y.objid = r.ev_class
                      WHERE d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid)
    ORDER BY 1`.execute(trx);
  if (outside.rows.length > 0) {
    throw new Error(
      `cannot re-apply sql/lens: ${outside.rows.map((row) => row.dependent).join(', ')} depend(s) on its functions or views; ` +
        'define them in sql/lens instead'
    );
  }
  // The names are taken before the first drop: a CASCADE may drop later ones,
  // whose oids would then no longer print as names.
  await sql`
    DO $$
    DECLARE
      statement text;
    BEGIN
      FOREACH statement IN ARRAY ARRAY(
        SELECT format('DROP VIEW IF EXISTS %s CASCADE', c.oid::regclass) FROM pg_class c
        WHERE c.relnamespace = 'lens'::regnamespace AND c.relkind = 'v'
        UNION ALL
        SELECT format('DROP MATERIALIZED VIEW IF EXISTS %s CASCADE', c.oid::regclass) FROM pg_class c
        WHERE c.relnamespace = 'lens'::regnamespace AND c.relkind = 'm'
        UNION ALL
        SELECT format('DROP ROUTINE IF EXISTS %s CASCADE', p.oid::regprocedure) FROM pg_proc p
        WHERE p.pronamespace = 'lens'::regnamespace AND p.prokind IN ('f', 'p'))
      LOOP
        EXECUTE statement;
      END LOOP;
    END $$`.execute(trx);
}

/** True when every known migration is recorded and sql/lens is applied as it is on disk (readiness checks). */
export async function migrationsApplied(db: Kysely<Database>): Promise<boolean> {
  const [migrations, definitions] = await Promise.all([loadMigrations(), loadDefinitions()]);
  const exists = await sql<{ exists: boolean }>`
    SELECT to_regclass('schema_migrations') IS NOT NULL AND to_regclass('schema_definitions') IS NOT NULL AS exists`.execute(
    db
  );
  if (!exists.rows[0]?.exists) {
    return false;
  }
  const row = await db
    .selectFrom('schema_migrations')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirst();
  if (Number(row?.count ?? 0) < migrations.length) {
    return false;
  }
  const recorded = await db.selectFrom('schema_definitions').select(['name', 'checksum']).execute();
  const recordedChecksums = new Map(recorded.map((entry) => [entry.name, entry.checksum]));
  return (
    recorded.length === definitions.length &&
    definitions.every((definition) => recordedChecksums.get(definition.name) === definition.checksum)
  );
}
