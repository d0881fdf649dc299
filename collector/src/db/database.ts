import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded.ts';
import { applyPolicy } from '../metrics/policy.ts';
import { migrate, migrationsApplied, type MigrationOutcome } from './migrate.ts';
import type { Database } from './schema.ts';

export type { Database };

// pg returns `date` columns as JS Dates at local midnight by default; a due
// date is a calendar day, so keep the text.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);
// int8 counts from count(*) fit comfortably in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

export interface DatabaseHandle {
  db: Kysely<Database>;
  url: string;
  /** What opening the database migrated. */
  migration: MigrationOutcome;
  /** Closes the pool and stops the embedded server if this handle started it. */
  close(): Promise<void>;
}

export const EMBEDDED_DATABASE = 'incident_lens';

/** A database that does not accept a connection within this is reported as unreachable, not waited on. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** No statement of the collector runs this long; one that does is stuck (a lock, a runaway plan) and is cancelled. */
export const STATEMENT_TIMEOUT_MS = 120_000;

export function createKysely(url: string, maxConnections = 10, logger?: Logger, readOnly = false): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: maxConnections,
    application_name: 'incident-lens',
    // Every transaction of a read-only command is READ ONLY: PostgreSQL refuses any write.
    ...(readOnly ? { options: '-c default_transaction_read_only=on' } : {}),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    // A connection whose peer vanished (a failover, a cut network) is found by TCP, not only at the next query.
    keepAlive: true,
  });
  // The server closing a connection (a restart, a failover, its own
  // shutdown) emits 'error' on the pool for an idle connection, and on the
  // client for one checked out between queries (a held advisory lock); either
  // ends the process if nobody listens. The pool drops such a connection and
  // opens another on the next query, so a long-running `serve` rides out a
  // database restart: the sync under way fails, the next one runs.
  const onConnectionError = (error: Error & { code?: string }) => {
    const shutdown = error.code === '57P01';
    logger?.[shutdown ? 'debug' : 'warn']({ code: error.code }, `database connection closed: ${error.message}`);
  };
  pool.on('connect', (client) => client.on('error', onConnectionError));
  // The pool re-emits an idle connection's error, which the listener above has logged.
  pool.on('error', () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * 'write' (migrate, sync, serve, demo): migrates and stores the configured
 * policy. 'read' (report): every transaction is read-only and nothing is
 * migrated or stored; a schema that is not current is refused.
 */
export type DatabaseAccess = 'write' | 'read';

const NO_MIGRATION: MigrationOutcome = { migrations: [], definitions: [], changedDefinitions: [] };

/**
 * Connects to DATABASE_URL, or starts the embedded PostgreSQL under the data
 * directory; for writing, then applies pending migrations and the policy.
 */
export async function openDatabase(config: Config, logger: Logger, access: DatabaseAccess): Promise<DatabaseHandle> {
  let embedded: EmbeddedServer | undefined;
  let url = config.databaseUrl;
  if (url === undefined) {
    embedded = await startEmbeddedPostgres(config.dataDir, logger);
    url = embedded.url(EMBEDDED_DATABASE);
    if (access === 'write') {
      await ensureDatabase(embedded.url('postgres'), EMBEDDED_DATABASE);
    }
  }
  const db = createKysely(url, 10, logger, access === 'read');
  let migration = NO_MIGRATION;
  try {
    if (access === 'write') {
      migration = await migrate(db, logger);
      // The SLA policy and repeat window of the YAML file are what the SQL metrics read.
      await applyPolicy(db, config);
    } else {
      await refuseOutdatedSchema(db);
    }
  } catch (error) {
    await db.destroy();
    await embedded?.stop();
    throw error;
  }
  return {
    db,
    url,
    migration,
    async close() {
      await db.destroy();
      await embedded?.stop();
    },
  };
}

async function refuseOutdatedSchema(db: Kysely<Database>): Promise<void> {
  let current: boolean;
  try {
    current = await migrationsApplied(db);
  } catch (error) {
    const code = (error as { code?: string }).code;
    // A role that may not read the bookkeeping tables cannot tell; its queries will.
    if (code === '42501') {
      return;
    }
    if (code !== '3D000') {
      throw error;
    }
    current = false;
  }
  if (!current) {
    throw new Error(
      'the database schema is not current: run `incident-lens migrate` first (a report changes nothing, not even the schema)'
    );
  }
}

/** CREATE DATABASE if missing (there is no IF NOT EXISTS for databases). */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    }
  } finally {
    await client.end();
  }
}
