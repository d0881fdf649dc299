import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../errors.ts';
import { JobScheduler, assertCronExpression, type ScheduledJob } from './scheduler.ts';
import { captureLogger } from '../../../tests/support/serve.ts';

const MINUTE = 60_000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A job that records the (fake) time of each run. */
function recordingJob(name: string, expression: string, runs: Record<string, string[]>): ScheduledJob {
  runs[name] = [];
  return {
    name,
    expression,
    run: async () => {
      runs[name]!.push(new Date().toISOString());
    },
  };
}

describe('JobScheduler with fake timers', () => {
  it('runs each job at the ticks of its expression, in the configured time zone', async () => {
    // Sunday 29 November 2026, 05:58 in New York (UTC-5).
    vi.setSystemTime(new Date('2026-11-29T10:58:00Z'));
    const runs: Record<string, string[]> = {};
    const scheduler = new JobScheduler(
      [
        recordingJob('sync', '*/30 * * * *', runs),
        recordingJob('dailyReport', '0 6 * * *', runs),
        recordingJob('weeklyReport', '0 6 * * 1', runs),
        recordingJob('monthlyReport', '0 6 1 * *', runs),
      ],
      { timezone: 'America/New_York', logger: captureLogger().logger }
    );
    scheduler.start();
    // Until Tuesday 1 December, 06:05 in New York.
    await vi.advanceTimersByTimeAsync(2 * 24 * 60 * MINUTE + 7 * MINUTE);
    await scheduler.stop();

    expect(runs.dailyReport).toEqual([
      '2026-11-29T11:00:00.000Z',
      '2026-11-30T11:00:00.000Z',
      '2026-12-01T11:00:00.000Z',
    ]);
    expect(runs.weeklyReport).toEqual(['2026-11-30T11:00:00.000Z']);
    expect(runs.monthlyReport).toEqual(['2026-12-01T11:00:00.000Z']);
    // Every half hour from 06:00 on the 29th to 06:00 on the 1st: 2 days x 48 + 1.
    expect(runs.sync).toHaveLength(97);
    expect(runs.sync![0]).toBe('2026-11-29T11:00:00.000Z');
    expect(runs.sync!.at(-1)).toBe('2026-12-01T11:00:00.000Z');
  });

  it('reads expressions in local time across a daylight-saving change', async () => {
    // Europe/Berlin leaves summer time on Sunday 25 October 2026 at 03:00 CEST.
    vi.setSystemTime(new Date('2026-10-24T00:00:00Z'));
    const runs: Record<string, string[]> = {};
    const scheduler = new JobScheduler([recordingJob('dailyReport', '0 6 * * *', runs)], {
      timezone: 'Europe/Berlin',
      logger: captureLogger().logger,
    });
    scheduler.start();
    await vi.advanceTimersByTimeAsync(3 * 24 * 60 * MINUTE);
    await scheduler.stop();
    // 06:00 local: 04:00Z in summer time, 05:00Z after the change.
    expect(runs.dailyReport).toEqual([
      '2026-10-24T04:00:00.000Z',
      '2026-10-25T05:00:00.000Z',
      '2026-10-26T05:00:00.000Z',
    ]);
  });

  it('skips and logs a tick that comes while the previous run is still going, and never stacks runs', async () => {
    vi.setSystemTime(new Date('2026-11-22T09:00:30Z'));
    const capture = captureLogger();
    const skipped: string[] = [];
    let started = 0;
    let concurrent = 0;
    let maxConcurrent = 0;
    let finishRun: () => void = () => undefined;
    const scheduler = new JobScheduler(
      [
        {
          name: 'sync',
          expression: '* * * * *',
          run: async () => {
            started++;
            concurrent++;
            maxConcurrent = Math.max(maxConcurrent, concurrent);
            await new Promise<void>((resolve) => (finishRun = resolve));
            concurrent--;
          },
        },
      ],
      { timezone: 'UTC', logger: capture.logger, onSkipped: (job) => skipped.push(job) }
    );
    scheduler.start();

    await vi.advanceTimersByTimeAsync(30_000); // 09:01: starts
    expect(started).toBe(1);
    await vi.advanceTimersByTimeAsync(2 * MINUTE); // 09:02 and 09:03: still running
    expect(started).toBe(1);
    expect(skipped).toEqual(['sync', 'sync']);
    expect(scheduler.isRunning('sync')).toBe(true);

    finishRun();
    await vi.advanceTimersByTimeAsync(MINUTE); // 09:04: free again
    expect(started).toBe(2);
    expect(maxConcurrent).toBe(1);

    const skipLines = capture
      .entries()
      .filter((entry) => entry.msg === 'job still running at its next tick; this run is skipped');
    expect(skipLines).toHaveLength(2);
    expect(skipLines[0]).toMatchObject({ level: 'warn', job: 'sync', runningSince: '2026-11-22T09:01:00.000Z' });

    finishRun();
    await scheduler.stop();
  });

  it('a manual trigger obeys the same rule, and a failing run frees the job for the next tick', async () => {
    vi.setSystemTime(new Date('2026-11-22T09:00:30Z'));
    const capture = captureLogger();
    let runs = 0;
    const scheduler = new JobScheduler(
      [
        {
          name: 'sync',
          expression: '* * * * *',
          run: async () => {
            runs++;
            await new Promise((resolve) => setTimeout(resolve, 10_000));
            throw new Error('PagerDuty answered HTTP 500');
          },
        },
      ],
      { timezone: 'UTC', logger: capture.logger }
    );
    scheduler.start();
    expect(scheduler.trigger('sync')).toBe('started');
    expect(scheduler.trigger('sync')).toBe('skipped');
    await vi.advanceTimersByTimeAsync(30_000); // 09:01: the failed run is over
    expect(runs).toBe(2);
    expect(capture.entries().some((entry) => entry.level === 'error' && String(entry.msg).includes('HTTP 500'))).toBe(
      true
    );
    await vi.advanceTimersByTimeAsync(10_000);
    await scheduler.stop();
    expect(scheduler.trigger('sync')).toBe('skipped');
  });

  it.each([
    ['*/5 * * * *', '2026-11-22T09:00:00Z', 5 * MINUTE],
    ['*/2 * * * * *', '2026-11-22T09:00:00Z', 2000],
    ['0 * * * *', '2026-11-22T09:30:00Z', 60 * MINUTE],
    // Office hours on weekdays, seen on a Friday afternoon: Friday 17:00 to Monday 09:00 is the longest gap.
    ['0 9-17 * * 1-5', '2026-11-27T15:30:00Z', 64 * 60 * MINUTE],
  ])('the interval of %s seen at %s is %d ms', (expression, now, expected) => {
    vi.setSystemTime(new Date(now));
    const scheduler = new JobScheduler([{ name: 'sync', expression, run: async () => undefined }], {
      timezone: 'UTC',
      logger: captureLogger().logger,
    });
    scheduler.start();
    try {
      expect(scheduler.intervalMs('sync')).toBe(expected);
    } finally {
      void scheduler.stop();
    }
  });
});

describe('assertCronExpression', () => {
  it.each(['*/5 * * * *', '0 6 * * 1', '*/10 * * * * *'])('accepts %s', (expression) => {
    expect(() => assertCronExpression('schedule.sync', expression)).not.toThrow();
  });

  it.each([
    ['every five minutes', /schedule\.sync is not a valid cron expression: 'every five minutes'/],
    ['61 * * * *', /schedule\.sync is not a valid cron expression: '61 \* \* \* \*'/],
  ])('refuses %s with a message naming the key', (expression, message) => {
    expect(() => assertCronExpression('schedule.sync', expression)).toThrow(UsageError);
    expect(() => assertCronExpression('schedule.sync', expression)).toThrow(message);
  });
});
