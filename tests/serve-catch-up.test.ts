import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missedReportJobs } from '../collector/src/serve/report-jobs.ts';
import { lastTickBefore } from '../collector/src/serve/scheduler.ts';
import { startServe } from '../collector/src/serve/serve.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { TEST_TOKEN, captureLogger, eventually, serveConfig } from './support/serve.ts';

const DAY = 86_400_000;

describe('lastTickBefore', () => {
  it.each([
    // Monthly at 06:00 on the 1st in Berlin (CET in November).
    ['0 6 1 * *', 'Europe/Berlin', '2026-11-30T15:00:00Z', 32, '2026-11-01T05:00:00.000Z'],
    // Exactly at the tick counts as passed.
    ['0 6 1 * *', 'UTC', '2026-12-01T06:00:00Z', 32, '2026-12-01T06:00:00.000Z'],
    // A half-hour zone: 06:00 in Kolkata is 00:30 UTC.
    ['0 6 * * *', 'Asia/Kolkata', '2026-11-30T15:00:00Z', 2, '2026-11-30T00:30:00.000Z'],
    // Monday 06:30 in New York, a week after summer time ended (EST, UTC-5).
    ['30 6 * * 1', 'America/New_York', '2026-11-11T12:00:00Z', 8, '2026-11-09T11:30:00.000Z'],
    // Monday 06:30 in New York in summer time (EDT, UTC-4).
    ['30 6 * * 1', 'America/New_York', '2026-10-27T12:00:00Z', 8, '2026-10-26T10:30:00.000Z'],
  ])('%s in %s before %s: %s', (expression, zone, before, horizonDays, expected) => {
    expect(lastTickBefore(expression, zone, new Date(before), horizonDays * DAY)?.toISOString()).toBe(expected);
  });

  it('is null when the expression does not fire within the horizon', () => {
    expect(lastTickBefore('0 6 1 * *', 'UTC', new Date('2026-12-01T05:59:59Z'), 20 * DAY)).toBeNull();
  });
});

describe('missedReportJobs', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-catch-up-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  const now = new Date('2026-11-30T15:00:00Z');
  const config = () => ({
    timezone: 'UTC',
    dataDir,
    schedule: { sync: '*/15 * * * *', dailyReport: '0 6 * * *', weeklyReport: '0 6 * * 1', monthlyReport: '0 6 1 * *' },
  });
  async function report(granularity: string, name: string, writtenAt: string): Promise<void> {
    const directory = path.join(dataDir, 'reports', granularity);
    await mkdir(directory, { recursive: true });
    await writeFile(path.join(directory, name), '{}');
    await utimes(path.join(directory, name), new Date(writtenAt), new Date(writtenAt));
  }

  it('names a job whose last tick came after its newest report, and no job that never wrote one', async () => {
    // Daily: written Friday 27th, ticks on the 28th, 29th and 30th passed.
    await report('day', '2026-11-26.json', '2026-11-27T06:00:04Z');
    // Weekly: written at Monday 30th's tick.
    await report('week', '2026-W48.json', '2026-11-30T06:00:09Z');
    // An older weekly file does not hide the newer one.
    await report('week', '2026-W47.json', '2026-11-23T06:00:09Z');
    expect(await missedReportJobs(config(), ['dailyReport', 'weeklyReport', 'monthlyReport'], now)).toEqual([
      {
        name: 'dailyReport',
        tick: new Date('2026-11-30T06:00:00Z'),
        lastWritten: new Date('2026-11-27T06:00:04Z'),
      },
    ]);
  });

  it('ignores what is not a JSON report, and a job not asked about', async () => {
    await report('month', '2026-10.md', '2026-10-01T06:00:00Z');
    expect(await missedReportJobs(config(), ['monthlyReport', 'weeklyReport'], now)).toEqual([]);
    await report('month', '2026-09.json', '2026-10-01T06:00:02Z');
    expect((await missedReportJobs(config(), ['monthlyReport'], now)).map((job) => job.name)).toEqual([
      'monthlyReport',
    ]);
  });
});

describe('serve catches up a report job that missed its tick', () => {
  let database: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-catch-up-serve-'));
  });
  afterAll(async () => {
    await database.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startWith(runs: string[]) {
    const captured = captureLogger('debug');
    // The daily job's last tick was five minutes ago, its next is a day away; the sync never runs.
    const tick = new Date(Date.now() - 5 * 60_000);
    const config = {
      ...serveConfig(
        { INCIDENT_LENS_DATA_DIR: dataDir, PAGERDUTY_TOKEN: TEST_TOKEN, PAGERDUTY_API_URL: 'http://127.0.0.1:9' },
        {
          sync: '0 0 1 1 *',
          dailyReport: `${tick.getUTCMinutes()} ${tick.getUTCHours()} * * *`,
          weeklyReport: '0 6 * * 1',
          monthlyReport: '0 6 1 * *',
        }
      ),
      timezone: 'UTC',
    };
    const serve = await startServe(database.db, config, captured.logger, {
      host: '127.0.0.1',
      port: 0,
      syncAtStart: false,
      reportJobs: {
        dailyReport: async () => {
          runs.push('dailyReport');
        },
        weeklyReport: async () => {
          runs.push('weeklyReport');
        },
      },
    });
    try {
      await eventually(
        async () => (captured.text().includes('report jobs checked for missed ticks') ? true : undefined),
        10_000,
        'the check for missed report ticks'
      );
    } finally {
      await serve.stop();
    }
    return captured.text();
  }

  it('runs the daily job once at start when its newest report is older than its last tick', async () => {
    const directory = path.join(dataDir, 'reports', 'day');
    await mkdir(directory, { recursive: true });
    await writeFile(path.join(directory, '2026-11-28.json'), '{}');
    const stale = new Date(Date.now() - 3 * DAY);
    await utimes(path.join(directory, '2026-11-28.json'), stale, stale);
    await mkdir(path.join(dataDir, 'reports', 'week'), { recursive: true });
    await writeFile(path.join(dataDir, 'reports', 'week', '2026-W48.json'), '{}');
    // Written after the weekly job's last tick, by this process's clock (the file system's may differ).
    await utimes(path.join(dataDir, 'reports', 'week', '2026-W48.json'), new Date(), new Date());

    const runs: string[] = [];
    const log = await startWith(runs);
    expect(runs).toEqual(['dailyReport']);
    expect(log).toContain('report job missed its last tick; running it now');
  });

  it('runs nothing at start when every job wrote after its last tick', async () => {
    await utimes(path.join(dataDir, 'reports', 'day', '2026-11-28.json'), new Date(), new Date());
    const runs: string[] = [];
    const log = await startWith(runs);
    expect(runs).toEqual([]);
    expect(log).not.toContain('missed its last tick');
  });
});
