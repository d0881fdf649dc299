import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../collector/src/config.ts';
import { readReport } from '../collector/src/metrics/report-data.ts';
import { renderMarkdown } from '../collector/src/report/markdown.ts';
import { writeScheduledReport } from '../collector/src/serve/report-jobs.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

describe('writeScheduledReport', () => {
  let database: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-reports-'));
  });
  afterAll(async () => {
    await database.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  const sla = loadConfig({}, '/nonexistent-incident-lens-cwd').sla;

  it('writes the report of last week under the data directory, named by ISO week, in JSON, Markdown and HTML', async () => {
    // Monday 23 November 2026, 06:00 in Berlin.
    const now = new Date('2026-11-23T05:00:00Z');
    const files = await writeScheduledReport(database.db, { timezone: 'Europe/Berlin', dataDir, sla }, 'week', now);

    const base = path.join(dataDir, 'reports', 'week', '2026-W47');
    expect(files).toEqual([`${base}.json`, `${base}.md`, `${base}.html`]);
    expect((await readdir(path.join(dataDir, 'reports', 'week'))).sort()).toEqual([
      '2026-W47.html',
      '2026-W47.json',
      '2026-W47.md',
    ]);
    const written = JSON.parse(await readFile(`${base}.json`, 'utf8'));
    expect(written.period).toMatchObject({
      granularity: 'week',
      start: '2026-11-16T00:00:00+01:00',
      end: '2026-11-23T00:00:00+01:00',
      timezone: 'Europe/Berlin',
    });
    const expected = await readReport(database.db, {
      granularity: 'week',
      date: '2026-11-22',
      timezone: 'Europe/Berlin',
      asOf: now,
    });
    expect(written).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(await readFile(`${base}.md`, 'utf8')).toBe(renderMarkdown(expected));
    expect(await readFile(`${base}.html`, 'utf8')).toMatch(/^<!doctype html>/i);
  });

  it('writes last month on the 1st', async () => {
    const [file] = await writeScheduledReport(
      database.db,
      { timezone: 'UTC', dataDir, sla },
      'month',
      new Date('2026-12-01T06:00:00Z')
    );
    expect(path.relative(dataDir, file!)).toBe(path.join('reports', 'month', '2026-11.json'));
    expect(JSON.parse(await readFile(file!, 'utf8')).period).toMatchObject({
      granularity: 'month',
      start: '2026-11-01T00:00:00+00:00',
    });
  });
});
