import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshClosedPeriods } from '../collector/src/db/closed-periods.ts';
import { SQL_DIR, loadDefinitions, loadMigrations, migrate } from '../collector/src/db/migrate.ts';
import { createLogger } from '../collector/src/logger.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';

// Numbered migrations are applied once; the definitions of sql/lens are
// applied again, as a whole, whenever one of them changes.

const logger = createLogger('warn');
let sqlCopy: string;

beforeAll(async () => {
  sqlCopy = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-sql-'));
  await cp(SQL_DIR, sqlCopy, { recursive: true });
});

afterAll(async () => {
  await rm(sqlCopy, { recursive: true, force: true });
});

async function edit(file: string, from: string, to: string): Promise<void> {
  const target = path.join(sqlCopy, file);
  const text = await readFile(target, 'utf8');
  expect(text).toContain(from);
  await writeFile(target, text.replace(from, to));
}

describe('migrate', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase({ migrated: false });
  });

  afterAll(async () => {
    await database?.destroy();
  });

  it('applies every migration and definition to a new database, then nothing', async () => {
    const [migrations, definitions] = await Promise.all([
      loadMigrations(sqlCopy),
      loadDefinitions(path.join(sqlCopy, 'lens')),
    ]);
    const first = await migrate(database.db, logger, sqlCopy);
    expect(first.migrations).toEqual(migrations.map((file) => file.name));
    expect(first.definitions).toEqual(definitions.map((file) => file.name));
    expect(first.changedDefinitions).toEqual(first.definitions);

    const second = await migrate(database.db, logger, sqlCopy);
    expect(second).toEqual({ migrations: [], definitions: [], changedDefinitions: [] });
  });

  it('re-applies the definitions when one file changes, and drops the figures cached by the old ones', async () => {
    const now = new Date();
    await loadIncidentFixtures(database.url, { now, incidents: 60 });
    // The closed previous month, cached as the collector caches it after a sync.
    const month = sql`date_trunc('month', now(), 'UTC') - interval '1 month', date_trunc('month', now(), 'UTC'), now(), 'UTC', 'month', ARRAY['total']`;
    const businessHours = async () =>
      (
        await sql<{
          business_hours: number;
          incidents: number;
        }>`SELECT business_hours, incidents FROM lens.metrics(${month})`.execute(database.db)
      ).rows[0]!;
    const before = await businessHours();
    expect(before.incidents).toBeGreaterThan(0);
    expect(await refreshClosedPeriods(database.db, { timezone: 'UTC' })).toBeGreaterThan(0);
    const cached = await sql<{ count: number }>`SELECT count(*) AS count FROM lens.period_rollup`.execute(database.db);
    expect(cached.rows[0]!.count).toBeGreaterThan(0);

    // A changed formula: every hour of a weekday becomes business hours.
    await edit(
      'lens/40_figures.sql',
      "r.local_created::time >= time '08:00' AND r.local_created::time < time '18:00'",
      'true'
    );
    const outcome = await migrate(database.db, logger, sqlCopy);
    expect(outcome.migrations).toEqual([]);
    expect(outcome.changedDefinitions).toEqual(['40_figures.sql']);
    expect(outcome.definitions).toContain('99_grants.sql');

    const emptied = await sql<{ count: number }>`SELECT count(*) AS count FROM lens.period_rollup`.execute(database.db);
    expect(emptied.rows[0]!.count).toBe(0);
    const weekdays = await sql<{ count: number }>`
      SELECT count(*) AS count FROM incidents
      WHERE NOT merged AND created_at >= date_trunc('month', now(), 'UTC') - interval '1 month'
        AND created_at < date_trunc('month', now(), 'UTC') AND extract(isodow FROM created_at AT TIME ZONE 'UTC') <= 5`.execute(
      database.db
    );
    const after = await businessHours();
    expect(after.business_hours).toBe(weekdays.rows[0]!.count);
    expect(after.business_hours).not.toBe(before.business_hours);

    // The facts were rebuilt and the triggers bound again.
    const facts = await sql<{ facts: number; incidents: number; triggers: number }>`
      SELECT (SELECT count(*) FROM lens.incident_fact) AS facts, (SELECT count(*) FROM incidents) AS incidents,
             (SELECT count(*) FROM pg_trigger WHERE tgfoid = 'lens.on_incidents_changed'::regproc) AS triggers`.execute(
      database.db
    );
    expect(facts.rows[0]).toEqual({
      facts: facts.rows[0]!.incidents,
      incidents: facts.rows[0]!.incidents,
      triggers: 4,
    });
  });

  it('grants the reader role again after re-applying', async () => {
    const privileges = await sql<{ metrics: boolean; policy: boolean; refresh: boolean }>`
      SELECT has_function_privilege('incident_lens_reader', 'lens.metrics(timestamptz, timestamptz, timestamptz, text, text, text[], text, boolean)', 'EXECUTE') AS metrics,
             has_table_privilege('incident_lens_reader', 'lens.sla_policy', 'SELECT') AS policy,
             has_function_privilege('incident_lens_reader', 'lens.refresh_incident_facts(bigint[])', 'EXECUTE') AS refresh`.execute(
      database.db
    );
    expect(privileges.rows[0]).toEqual({ metrics: true, policy: true, refresh: false });
  });

  it('refuses to drop an object outside sql/lens that depends on a definition', async () => {
    await sql`CREATE VIEW public.uses_lens AS SELECT lens.seconds_between(now(), now() - interval '1 minute') AS s`.execute(
      database.db
    );
    await edit('lens/10_basics.sql', 'The difference of two instants', 'The difference between two instants');
    await expect(migrate(database.db, logger, sqlCopy)).rejects.toThrow(/view uses_lens depend/);
    await sql`DROP VIEW public.uses_lens`.execute(database.db);
    expect((await migrate(database.db, logger, sqlCopy)).changedDefinitions).toEqual(['10_basics.sql']);
  });

  it('refuses a migration edited after it was applied', async () => {
    await edit('007_published_reports.sql', '-- Monthly reports', '-- Reports');
    await expect(migrate(database.db, logger, sqlCopy)).rejects.toThrow(
      /007_published_reports.sql was changed after it was applied/
    );
  });
});
