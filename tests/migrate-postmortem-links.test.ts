import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQL_DIR, loadMigrations, migrate } from '../collector/src/db/migrate.ts';
import { createLogger } from '../collector/src/logger.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

// The postmortem_incidents migration moves each post-mortem's one incident into
// the link table: a database that synced before it keeps every link.

const logger = createLogger('warn');
let before: string;
let linksMigration: string;
let database: TestDatabase;

beforeAll(async () => {
  // The schema as it was before the link table, with only the basic definitions (the others read the new table).
  before = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-sql-before-links-'));
  await mkdir(path.join(before, 'lens'));
  await cp(path.join(SQL_DIR, 'lens', '10_basics.sql'), path.join(before, 'lens', '10_basics.sql'));
  const migrations = await loadMigrations(SQL_DIR);
  linksMigration = migrations.find((migration) => migration.name.endsWith('_postmortem_incidents.sql'))!.name;
  for (const migration of migrations) {
    if (migration.name < linksMigration) {
      await cp(path.join(SQL_DIR, migration.name), path.join(before, migration.name));
    }
  }
  database = await createTestDatabase({ migrated: false });
});

afterAll(async () => {
  await database?.destroy();
  await rm(before, { recursive: true, force: true });
});

describe('the postmortem_incidents migration', () => {
  it('links every stored post-mortem to the incident it had, and the figures still see it', async () => {
    const { db } = database;
    await migrate(db, logger, before);
    await sql`
      INSERT INTO sources (id, kind, base_url, name) VALUES
        (1, 'pagerduty', 'https://api.pagerduty.com', 'pagerduty'), (2, 'jira', 'https://acme.atlassian.net', 'jira')`.execute(
      db
    );
    await sql`
      INSERT INTO incidents (id, source_id, external_id, title, status, severity, created_at, resolved_at) VALUES
        (1, 1, 'QMIG0001', 'one', 'resolved', 'SEV1', '2026-03-01T08:00:00Z', '2026-03-01T10:00:00Z'),
        (2, 1, 'QMIG0002', 'two', 'resolved', 'SEV1', '2026-03-02T08:00:00Z', '2026-03-02T10:00:00Z')`.execute(db);
    await sql`
      INSERT INTO postmortems (id, source_id, external_id, incident_id, title, status, status_category, created_at, completed_at) VALUES
        (10, 2, 'PM-1', 1, 'pm one', 'Done', 'done', '2026-03-01T12:00:00Z', '2026-03-02T09:00:00Z'),
        (11, 2, 'PM-2', NULL, 'draft', 'To Do', 'new', '2026-03-02T12:00:00Z', NULL)`.execute(db);

    const outcome = await migrate(db, logger);
    expect(outcome.migrations).toContain(linksMigration);
    const links = await sql`SELECT postmortem_id::int, incident_id::int FROM postmortem_incidents`.execute(db);
    expect(links.rows).toEqual([{ postmortem_id: 10, incident_id: 1 }]);
    const columns = await sql`
      SELECT column_name FROM information_schema.columns
      WHERE table_name = 'postmortems' AND column_name = 'incident_id'`.execute(db);
    expect(columns.rows).toEqual([]);
    const facts = await sql`
      SELECT incident_id::int, postmortem_completed_at FROM lens.incident_fact ORDER BY incident_id`.execute(db);
    expect(facts.rows).toEqual([
      { incident_id: 1, postmortem_completed_at: new Date('2026-03-02T09:00:00Z') },
      { incident_id: 2, postmortem_completed_at: null },
    ]);
  });
});
