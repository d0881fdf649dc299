import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely } from '../collector/src/db/database.ts';
import type { Database } from '../collector/src/db/schema.ts';
import { generatePagerDutyHistory, startFakePagerDuty } from '@incident-lens/simulators';
import { InterruptedError } from '../collector/src/errors.ts';
import { startServe } from '../collector/src/serve/serve.ts';
import { runSync } from '../collector/src/sync/run-sync.ts';
import type { SourceAccount } from '../collector/src/sync/source.ts';
import { withSourceLock } from '../collector/src/sync/source-lock.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { TEST_TOKEN, captureLogger, eventually, fakePagerDutySources, serveConfig } from './support/serve.ts';

const HISTORY_START = new Date('2026-08-01T00:00:00Z');
const HISTORY_END = new Date('2026-11-01T00:00:00Z');

let database: TestDatabase;
/** A second pool on the same database: another process, as far as PostgreSQL can tell. */
let otherProcess: Kysely<Database>;

beforeAll(async () => {
  database = await createTestDatabase();
  otherProcess = createKysely(database.url, 4);
});
afterAll(async () => {
  await otherProcess.destroy();
  await database.destroy();
});

/** Three accounts: two of one kind behind one API URL, and one of another kind. */
const ACCOUNTS = {
  pagerduty: { name: 'pagerduty', kind: 'pagerduty', baseUrl: 'https://api.pagerduty.com' },
  'pd-eu': { name: 'pd-eu', kind: 'pagerduty', baseUrl: 'https://api.pagerduty.com' },
  jira: { name: 'jira', kind: 'jira', baseUrl: 'https://acme.atlassian.net' },
} satisfies Record<string, SourceAccount>;

/** Holds an account's lock from the "other process" until `release` is called. */
async function holdLock(name: keyof typeof ACCOUNTS) {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let acquired: () => void = () => undefined;
  const isHeld = new Promise<void>((resolve) => (acquired = resolve));
  const holding = withSourceLock(
    otherProcess,
    ACCOUNTS[name],
    { whenBusy: 'skip', logger: captureLogger().logger },
    async () => {
      acquired();
      await released;
    }
  );
  await isHeld;
  return { release: async () => (release(), await holding) };
}

describe('per-source advisory lock', () => {
  it('skips at once, naming the backend that holds the lock, when asked to skip', async () => {
    const holder = await holdLock('pagerduty');
    const capture = captureLogger();
    let ran = false;
    const result = await withSourceLock(
      database.db,
      ACCOUNTS.pagerduty,
      { whenBusy: 'skip', logger: capture.logger },
      async () => {
        ran = true;
      }
    );
    await holder.release();

    expect(ran).toBe(false);
    expect(result.acquired).toBe(false);
    expect(result.acquired === false && typeof result.holderPid === 'number').toBe(true);
    expect(capture.entries()).toContainEqual(
      expect.objectContaining({ source: 'pagerduty', msg: expect.stringContaining('skipping this run') })
    );
  });

  it('waits for the holder when asked to wait, and runs once it lets go', async () => {
    const holder = await holdLock('pagerduty');
    const capture = captureLogger();
    let releasedAt = 0;
    let startedAt = 0;
    const waiting = withSourceLock(
      database.db,
      ACCOUNTS.pagerduty,
      { whenBusy: 'wait', pollMs: 20, logger: capture.logger },
      async () => {
        startedAt = performance.now();
        return 'synced';
      }
    );
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(startedAt).toBe(0);
    releasedAt = performance.now();
    await holder.release();

    expect(await waiting).toEqual({ acquired: true, value: 'synced' });
    expect(startedAt).toBeGreaterThanOrEqual(releasedAt);
    expect(capture.entries()).toContainEqual(
      expect.objectContaining({ msg: expect.stringContaining('waiting for it') })
    );
  });

  it('stops waiting on SIGINT/SIGTERM (the abort signal)', async () => {
    const holder = await holdLock('pagerduty');
    const controller = new AbortController();
    const waiting = withSourceLock(
      database.db,
      ACCOUNTS.pagerduty,
      { whenBusy: 'wait', pollMs: 20, logger: captureLogger().logger, signal: controller.signal },
      async () => 'never'
    );
    setTimeout(() => controller.abort(), 60);
    await expect(waiting).rejects.toBeInstanceOf(InterruptedError);
    await holder.release();
  });

  it('locks each account separately, and releases the lock when the work fails', async () => {
    const holder = await holdLock('pagerduty');
    const logger = captureLogger().logger;
    expect(
      await withSourceLock(database.db, ACCOUNTS.jira, { whenBusy: 'skip', logger }, async () => 'jira ran')
    ).toEqual({
      acquired: true,
      value: 'jira ran',
    });
    // Another account of the same kind, behind the same API URL, has a lock of its own.
    expect(
      await withSourceLock(database.db, ACCOUNTS['pd-eu'], { whenBusy: 'skip', logger }, async () => 'pd-eu ran')
    ).toEqual({
      acquired: true,
      value: 'pd-eu ran',
    });
    await holder.release();

    await expect(
      withSourceLock(database.db, ACCOUNTS.pagerduty, { whenBusy: 'skip', logger }, async () => {
        throw new Error('PagerDuty refused');
      })
    ).rejects.toThrow('PagerDuty refused');
    const after = await withSourceLock(
      otherProcess,
      ACCOUNTS.pagerduty,
      { whenBusy: 'skip', logger },
      async () => 'free'
    );
    expect(after).toEqual({ acquired: true, value: 'free' });
  });

  it('a manual sync waits for the process that holds the lock; a scheduled one skips the source', async () => {
    const history = generatePagerDutyHistory({ seed: 11, start: HISTORY_START, end: HISTORY_END, incidents: 30 });
    const server = await startFakePagerDuty({ history, token: TEST_TOKEN, rateLimitPerMinute: 1_000_000 });
    try {
      const sources = [fakePagerDutySources(server, HISTORY_START)(ACCOUNTS.pagerduty, {})];
      const holder = await holdLock('pagerduty');
      const logger = captureLogger().logger;
      expect(await runSync(database.db, sources, { mode: 'incremental' }, logger, 'skip')).toEqual([]);

      const manual = runSync(database.db, sources, { mode: 'incremental' }, logger, 'wait');
      await new Promise((resolve) => setTimeout(resolve, 100));
      await holder.release();
      const [summary] = await manual;
      expect(summary).toMatchObject({ source: 'pagerduty', recordsUpserted: 30 });
    } finally {
      await server.stop();
    }
  });
});

describe('two serve processes against one database and one PagerDuty', () => {
  it('store every incident exactly once, and never hold the lock at the same time', async () => {
    const scratch = await createTestDatabase();
    // Slow answers stretch the first sync over several one-second ticks, so the two collide.
    const history = generatePagerDutyHistory({ seed: 12, start: HISTORY_START, end: HISTORY_END, incidents: 500 });
    const server = await startFakePagerDuty({
      history,
      token: TEST_TOKEN,
      rateLimitPerMinute: 1_000_000,
      faults: { slowRate: 1, slowMs: 25 },
    });
    const config = serveConfig({ PAGERDUTY_TOKEN: TEST_TOKEN, PAGERDUTY_API_URL: server.url }, { sync: '* * * * * *' });
    const pools = [createKysely(scratch.url, 6), createKysely(scratch.url, 6)];
    const logs = [captureLogger(), captureLogger()];
    const instances = await Promise.all(
      pools.map((db, index) =>
        startServe(db, config, logs[index]!.logger, {
          host: '127.0.0.1',
          port: 0,
          createSync: fakePagerDutySources(server, HISTORY_START),
        })
      )
    );
    try {
      // The full sync, then at least one incremental sync after it.
      await eventually(
        async () => {
          const row = await scratch.db
            .selectFrom('sync_runs')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('outcome', '=', 'succeeded')
            .executeTakeFirstOrThrow();
          return Number(row.n) >= 3 ? true : undefined;
        },
        30_000,
        'three successful syncs',
        100
      );
    } finally {
      await Promise.all(instances.map((instance) => instance.stop()));
      await Promise.all(pools.map((pool) => pool.destroy()));
      await server.stop();
    }

    try {
      const incidents = await scratch.db.selectFrom('incidents').select('external_id').execute();
      expect(incidents).toHaveLength(history.incidentCount);
      expect(new Set(incidents.map((row) => row.external_id)).size).toBe(history.incidentCount);
      const events = await scratch.db
        .selectFrom('incident_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      expect(Number(events.n)).toBe(history.logEntryCount);

      // The database's own clock: no two runs of the source overlap.
      const runs = await scratch.db
        .selectFrom('sync_runs')
        .select(['started_at', 'finished_at', 'outcome'])
        .orderBy('started_at')
        .execute();
      for (let index = 1; index < runs.length; index++) {
        expect(runs[index]!.started_at.getTime()).toBeGreaterThanOrEqual(runs[index - 1]!.finished_at!.getTime());
      }

      // The processes' logs: lock holdings of the two never overlap, and each one skipped at least once.
      const holdings = logs.map((capture) => lockIntervals(capture.entries()));
      expect(holdings[0]!.length + holdings[1]!.length).toBe(runs.length);
      for (const mine of holdings[0]!) {
        for (const theirs of holdings[1]!) {
          expect(mine.end <= theirs.start || theirs.end <= mine.start).toBe(true);
        }
      }
      const lockSkips = logs.map(
        (capture) =>
          capture.entries().filter((entry) => String(entry.msg).includes('holds the sync lock); skipping')).length
      );
      expect(lockSkips.reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
    } finally {
      await scratch.destroy();
    }
  }, 60_000);
});

/** [acquired, releasing] times from one process's log lines. */
function lockIntervals(entries: Array<Record<string, unknown>>): Array<{ start: number; end: number }> {
  const intervals: Array<{ start: number; end: number }> = [];
  let start: number | undefined;
  for (const entry of entries) {
    const time = Date.parse(String(entry.time));
    if (entry.msg === 'sync lock acquired') {
      start = time;
    }
    if (entry.msg === 'sync lock releasing' && start !== undefined) {
      intervals.push({ start, end: time });
      start = undefined;
    }
  }
  return intervals;
}
