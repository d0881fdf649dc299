import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../collector/src/config.ts';
import type { Granularity } from '@incident-lens/common/report';
import { readReport } from '../collector/src/metrics/report-data.ts';
import { renderMarkdown } from '../collector/src/report/markdown.ts';
import { localDay, previousPeriodDay } from '../collector/src/report/periods.ts';
import { writeScheduledReport } from '../collector/src/serve/report-jobs.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

describe('the period a scheduled report covers (pure)', () => {
  it.each<[Granularity, string, string]>([
    ['day', '2026-11-22', '2026-11-21'],
    ['day', '2026-03-01', '2026-02-28'],
    ['day', '2028-03-01', '2028-02-29'],
    // Monday 06:00: the ISO week that just ended.
    ['week', '2026-11-23', '2026-11-22'],
    ['week', '2026-11-22', '2026-11-15'],
    ['week', '2026-11-27', '2026-11-22'],
    ['month', '2026-12-01', '2026-11-30'],
    ['month', '2027-01-15', '2026-12-31'],
  ])('a %s report run on %s covers the period of %s', (granularity, today, expected) => {
    expect(previousPeriodDay(granularity, today)).toBe(expected);
  });

  it.each([
    ['2026-11-22T23:30:00Z', 'Europe/Berlin', '2026-11-23'],
    ['2026-11-22T23:30:00Z', 'America/New_York', '2026-11-22'],
    ['2026-11-23T04:59:59Z', 'America/New_York', '2026-11-22'],
  ])('%s is on %s in %s', (instant, zone, day) => {
    expect(localDay(new Date(instant), zone)).toBe(day);
  });
});

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
