import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

// The parsing rules themselves are tested beside collector/src/dates.ts.

describe.concurrent('the command line refuses a malformed date with exit 2', () => {
  let database: TestDatabase;
  let directory: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-dates-'));
  });
  afterAll(async () => {
    await database?.destroy();
    if (directory) {
      await rm(directory, { recursive: true, force: true });
    }
  });

  async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
    return runCli(args, {
      DATABASE_URL: database.url,
      LOG_LEVEL: 'warn',
      PAGERDUTY_TOKEN: 'unused',
      PAGERDUTY_API_URL: 'http://127.0.0.1:9',
      ...env,
    });
  }

  it.each([
    [['sync', '--since', '2026-02-30'], '2026-02-30'],
    [['sync', '--since', '2026-13'], '2026-13'],
    [['sync', '--since', '2026-01-01 junk'], '2026-01-01 junk'],
    [['report', '--period', 'day', '--date', '2026-02-30'], '2026-02-30'],
    [['report', '--period', 'month', '--date', '2026-13'], '2026-13'],
    [['report', '--period', 'day', '--date', '2026-01-01 junk'], '2026-01-01 junk'],
    [['report', '--period', 'month', '--date', '2026-10', '--as-of', '2026-02-30T00:00:00Z'], '2026-02-30T00:00:00Z'],
    [['report', '--period', 'month', '--date', '2026-10', '--as-of', '2026-01-01 junk'], '2026-01-01 junk'],
  ])('%j exits 2 naming %s', async (args, value) => {
    const result = await cli(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(value);
  });

  it.each(['2026-02-30', '2026-13', '2026-01-01 junk'])(
    'pagerduty.since: %j in the YAML file exits 2 naming it',
    async (since) => {
      const file = path.join(directory, `since-${since.replace(/\W/g, '_')}.yaml`);
      await writeFile(file, `pagerduty:\n  since: ${since}\n`);
      const result = await cli(['sync'], { INCIDENT_LENS_CONFIG: file });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('pagerduty.since');
      expect(result.stderr).toContain(since);
    }
  );
});
