import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';
import { tableChecksums } from './support/table-checksums.ts';

// `report` writes nothing: not the schema, not the configured policy, not the
// figures cache. The writing commands (here `migrate`) store the policy.

const AS_OF = '2026-11-20T12:00:00Z';

let database: TestDatabase;
let configPath: string;
let readOnlyUrl: string;
const readOnlyRole = `report_only_${randomBytes(4).toString('hex')}`;

async function cli(args: string[], url: string) {
  return runCli(args, { ...process.env, DATABASE_URL: url, INCIDENT_LENS_CONFIG: configPath, LOG_LEVEL: 'warn' });
}

beforeAll(async () => {
  database = await createTestDatabase();
  await loadIncidentFixtures(database.url, { now: new Date(AS_OF), incidents: 80 });
  // A role that may read every table and nothing more.
  await sql.raw(`CREATE ROLE ${readOnlyRole} LOGIN PASSWORD 'read-only-in-tests'`).execute(database.db);
  await sql.raw(`GRANT USAGE ON SCHEMA public, lens TO ${readOnlyRole}`).execute(database.db);
  await sql.raw(`GRANT SELECT ON ALL TABLES IN SCHEMA public, lens TO ${readOnlyRole}`).execute(database.db);
  const url = new URL(database.url);
  url.username = readOnlyRole;
  url.password = 'read-only-in-tests';
  readOnlyUrl = url.toString();

  const directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-read-only-'));
  configPath = path.join(directory, 'incident-lens.yaml');
  // A policy other than the stored default.
  await writeFile(
    configPath,
    'timezone: Europe/Berlin\nrepeatWindowDays: 30\nsla:\n  SEV1: { ack: 10m, resolve: 2h, postmortem: 48h }\n'
  );
});

afterAll(async () => {
  await sql.raw(`DROP OWNED BY ${readOnlyRole}; DROP ROLE ${readOnlyRole}`).execute(database.db);
  await database?.destroy();
});

const report = [
  'report',
  '--period',
  'month',
  '--date',
  '2026-10',
  '--tz',
  'Europe/Berlin',
  '--as-of',
  AS_OF,
  '--format',
  'json',
];

describe('read-only commands', () => {
  it('report runs as a role that may only read, changes no table, and warns that the configured policy is not stored', async () => {
    const before = await tableChecksums(database.db);
    const result = await cli(report, readOnlyUrl);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).period.label).toBe('2026-10');
    expect(result.stderr).toContain('the configured SLA policy differs from the stored one');
    expect(result.stderr).toContain('SEV1 acknowledge target: configured 600 s, stored 900 s');
    expect(result.stderr).toContain('repeat window: configured 30 days, stored 90 days');
    expect(await tableChecksums(database.db)).toEqual(before);
  });

  it('report as the owner changes no table either: its transactions are read-only', async () => {
    await sql`DELETE FROM lens.period_rollup`.execute(database.db);
    const before = await tableChecksums(database.db);
    const result = await cli(report, database.url);
    expect(result.code).toBe(0);
    expect(await tableChecksums(database.db)).toEqual(before);
  });

  it('migrate stores the configured policy, after which report no longer warns', async () => {
    const migrated = await cli(['migrate'], database.url);
    expect(migrated.code).toBe(0);
    const stored = await sql<{
      ack_target_seconds: number;
    }>`SELECT ack_target_seconds FROM sla_policy WHERE severity = 'SEV1'`.execute(database.db);
    expect(stored.rows[0]!.ack_target_seconds).toBe(600);
    const result = await cli(report, readOnlyUrl);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('report refuses a database whose schema is not current, and creates nothing', async () => {
    const bare = await createTestDatabase({ migrated: false });
    try {
      const result = await cli(report, bare.url);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('the database schema is not current: run `incident-lens migrate` first');
      const tables = await sql<{
        count: number;
      }>`SELECT count(*) AS count FROM pg_class WHERE relnamespace = 'public'::regnamespace`.execute(bare.db);
      expect(tables.rows[0]!.count).toBe(0);
    } finally {
      await bare.destroy();
    }
  });
});
