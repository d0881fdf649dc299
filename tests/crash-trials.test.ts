import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import {
  type FakeJira,
  type FakePagerDuty,
  generateJiraHistory,
  generatePagerDutyHistory,
  startFakeJira,
  startFakePagerDuty,
} from '@incident-lens/simulators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './support/cli.ts';
import { loadConfig } from '../collector/src/config.ts';
import { createLogger } from '../collector/src/logger.ts';
import { runSync, selectSources } from '../collector/src/sync/run-sync.ts';
import { SYNC_LOCK_CLASS } from '../collector/src/sync/source-lock.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { TEST_TOKEN, eventually } from './support/serve.ts';
import { dumpTables } from './support/table-dump.ts';

/**
 * The real `incident-lens sync` (PagerDuty, then Jira, against the simulated
 * servers with faults injected) killed with SIGKILL at seeded random
 * moments, then run again: every time the database must end equal, row by
 * row and link by link, to the one an uninterrupted run fills.
 */

const SEED = Number(process.env.CRASH_SEED ?? 90210);
const TRIALS = 20;
const JIRA_EMAIL = 'crash@example.com';
const JIRA_TOKEN = 'jira-crash-token-7c1d';
const END = new Date(Date.now() - 86_400_000);
const START = new Date(END.getTime() - 45 * 86_400_000);
/** Bookkeeping of runs, not data: when they ran and where they stopped differs by design. */
const BOOKKEEPING = ['sync_runs', 'sync_checkpoints', 'schema_migrations', 'schema_definitions', 'webhook_events'];

let pagerDuty: FakePagerDuty;
let jira: FakeJira;
let configDir: string;

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function env(databaseUrl: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    DATABASE_URL: databaseUrl,
    PAGERDUTY_TOKEN: TEST_TOKEN,
    PAGERDUTY_API_URL: pagerDuty.url,
    PAGERDUTY_REQUESTS_PER_MINUTE: '1000000',
    JIRA_BASE_URL: jira.url,
    JIRA_EMAIL,
    JIRA_API_TOKEN: JIRA_TOKEN,
    INCIDENT_LENS_CONFIG: path.join(configDir, 'incident-lens.yaml'),
    LOG_LEVEL: 'warn',
  };
}

/**
 * `incident-lens sync` in its own process; with `killAfterMs`, SIGKILLed that
 * long after its first sync run was recorded (start-up is not what is tried).
 */
async function sync(
  database: TestDatabase,
  killAfterMs?: number
): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; stderr: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'sync'], { env: env(database.url), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  );
  if (killAfterMs !== undefined) {
    let done = false;
    void exited.then(() => (done = true));
    while (!done && !(await database.db.selectFrom('sync_runs').select('id').executeTakeFirst())) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    if (!done) {
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      child.kill('SIGKILL');
    }
  }
  return { ...(await exited), ms: performance.now() - started, stderr };
}

/** The same sync, in this process: the re-run after a kill. */
async function syncInProcess(database: TestDatabase): Promise<void> {
  const config = loadConfig(env(database.url));
  await runSync(database.db, selectSources(config, 'all'), { mode: 'incremental' }, createLogger('error'));
}

function injectFaults(draw: () => number): void {
  pagerDuty.setFaults({
    seed: Math.floor(draw() * 1e9),
    serverErrorRate: 0.04,
    dropRate: 0.02,
    truncateRate: 0.02,
    slowRate: 0.3,
    slowMs: 40,
  });
  jira.failNext(1 + Math.floor(draw() * 2), draw() < 0.5 ? 500 : 503, { after: Math.floor(draw() * 12) });
}

beforeAll(async () => {
  const pagerDutyHistory = generatePagerDutyHistory({ seed: 5, start: START, end: END, incidents: 60 });
  pagerDuty = await startFakePagerDuty({ history: pagerDutyHistory, token: TEST_TOKEN, rateLimitPerMinute: 1_000_000 });
  const site = generateJiraHistory({
    seed: 5,
    end: END,
    pagerduty: { incidents: pagerDutyHistory.expectedFacts(), subdomain: pagerDutyHistory.subdomain },
    jiraOnlyIncidents: 4,
  });
  jira = await startFakeJira({ history: site, email: JIRA_EMAIL, apiToken: JIRA_TOKEN, maxSearchPage: 10 });
  configDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-crash-'));
  const since = START.toISOString().slice(0, 10);
  await writeFile(
    path.join(configDir, 'incident-lens.yaml'),
    `pagerduty:\n  since: "${since}"\njira:\n  since: "${since}"\n`
  );
});

afterAll(async () => {
  await pagerDuty?.stop();
  await jira?.stop();
  if (configDir) {
    await rm(configDir, { recursive: true, force: true });
  }
});

describe('sync killed with SIGKILL at random points', () => {
  it(`ends, after a re-run, with exactly the database of an uninterrupted run (${TRIALS} trials)`, async () => {
    const reference = await createTestDatabase();
    try {
      const clean = await sync(reference);
      expect(clean.code, clean.stderr).toBe(0);
      const expected = await dumpTables(reference.db, BOOKKEEPING);
      expect(expected.incidents!.length).toBeGreaterThanOrEqual(60);
      expect(expected.incident_events!.length).toBeGreaterThan(100);
      expect(expected.postmortems!.length + expected.action_items!.length).toBeGreaterThan(0);
      // How long the two sources' runs took, from the first start to the last finish: the span the kills are drawn from.
      const span = await sql<{ ms: number }>`
        SELECT extract(epoch FROM max(finished_at) - min(started_at)) * 1000 AS ms FROM sync_runs`.execute(
        reference.db
      );
      const syncMs = Math.max(200, Math.round(Number(span.rows[0]!.ms) * 1.3));

      const draw = random(SEED);
      const plans = Array.from({ length: TRIALS }, (_, index) => ({
        index,
        killAfterMs: Math.round(draw() * syncMs),
        faultSeed: Math.floor(draw() * 1e9),
      }));
      const lines: string[] = [];
      const cutShort = new Map<string, number>();
      const runTrial = async (plan: (typeof plans)[number]) => {
        const database = await createTestDatabase();
        try {
          injectFaults(random(plan.faultSeed));
          const killed = await sync(database, plan.killAfterMs);
          const runsAtKill = await database.db
            .selectFrom('sync_runs')
            .innerJoin('sources', 'sources.id', 'sync_runs.source_id')
            .select(['sources.kind', 'sync_runs.outcome'])
            .execute();
          const incidentsAtKill = Number(
            (
              await database.db
                .selectFrom('incidents')
                .select((eb) => eb.fn.countAll<number>().as('n'))
                .executeTakeFirstOrThrow()
            ).n
          );
          const inside = runsAtKill.filter((run) => run.outcome === 'running').map((run) => run.kind);
          for (const kind of inside) {
            cutShort.set(kind, (cutShort.get(kind) ?? 0) + 1);
          }

          await syncInProcess(database);
          const actual = await dumpTables(database.db, BOOKKEEPING);
          for (const table of Object.keys(expected)) {
            expect(
              actual[table],
              `trial ${plan.index + 1} (kill ${plan.killAfterMs} ms into the sync), table ${table}`
            ).toEqual(expected[table]);
          }
          // The run the kill cut short no longer claims to be running.
          expect(
            await database.db.selectFrom('sync_runs').select('id').where('outcome', '=', 'running').execute()
          ).toEqual([]);
          lines[plan.index] =
            `  trial ${String(plan.index + 1).padStart(2)}: kill ${String(plan.killAfterMs).padStart(5)} ms into the sync → ` +
            (killed.signal === 'SIGKILL'
              ? `killed inside the ${inside.join(' and ') || 'gap between runs'} sync with ${incidentsAtKill} incidents stored`
              : `the sync finished first (exit ${killed.code})`);
        } finally {
          await database.destroy();
        }
      };
      // Two trials at a time: each has its own database; the simulated servers serve both.
      for (let next = 0; next < plans.length; next += 2) {
        await Promise.all(plans.slice(next, next + 2).map(runTrial));
      }

      console.log(
        [
          `crash trials (seed ${SEED}): ${TRIALS} SIGKILLs of incident-lens sync (PagerDuty then Jira, faults injected), drawn over ${syncMs} ms of sync`,
          ...lines,
          `cut short inside a run: pagerduty ${cutShort.get('pagerduty') ?? 0}, jira ${cutShort.get('jira') ?? 0}; every database ended equal, row by row, to the clean run's`,
        ].join('\n')
      );
      // The kills must land inside both sources' syncs, not only between them.
      expect(cutShort.get('pagerduty') ?? 0).toBeGreaterThan(0);
      expect(cutShort.get('jira') ?? 0).toBeGreaterThan(0);
    } finally {
      await reference.destroy();
    }
  }, 600_000);

  it('stops a sync whose lock connection is lost instead of letting it run unlocked', async () => {
    const database = await createTestDatabase();
    try {
      pagerDuty.setFaults({ slowRate: 1, slowMs: 500 });
      const running = sync(database);
      // The lock is taken before the first request; the slow answers keep the sync going meanwhile.
      const holder = await eventually(
        async () => {
          const row = await sql<{ pid: number }>`
          SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = ${SYNC_LOCK_CLASS}::bigint::oid AND objsubid = 2
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(database.db);
          return row.rows[0]?.pid;
        },
        60_000,
        'the sync to take its lock'
      );
      await sql`SELECT pg_terminate_backend(${holder})`.execute(database.db);
      const result = await running;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        'the database connection holding the pagerduty sync lock was lost; the sync stopped rather than run unlocked'
      );
      const runs = await database.db.selectFrom('sync_runs').select('outcome').execute();
      expect(runs.map((run) => run.outcome)).toEqual(['interrupted']);
    } finally {
      pagerDuty.setFaults(undefined);
      await database.destroy();
    }
  }, 120_000);
});
