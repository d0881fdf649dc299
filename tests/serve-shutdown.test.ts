import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './support/cli.ts';
import type { Database } from '../collector/src/db/schema.ts';
import {
  type FakePagerDuty,
  generatePagerDutyHistory,
  type PagerDutyHistory,
  startFakePagerDuty,
} from '@incident-lens/simulators';
import { PagerDutySync } from '../collector/src/sources/pagerduty/sync.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { TEST_TOKEN, TEST_WEBHOOK_SECRET, captureLogger, eventually } from './support/serve.ts';

const SINCE = '2026-01-01';
// Two 180-day windows from SINCE to now: the stop lands in the second, after a checkpoint.
const HISTORY_START = new Date('2026-03-01T00:00:00Z');
const HISTORY_END = new Date('2026-11-01T00:00:00Z');

interface ServeProcess {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let history: PagerDutyHistory;
let pagerDuty: FakePagerDuty;
let configDir: string;

beforeAll(async () => {
  history = generatePagerDutyHistory({ seed: 41, start: HISTORY_START, end: HISTORY_END, incidents: 1200 });
  pagerDuty = await startFakePagerDuty({ history, token: TEST_TOKEN, rateLimitPerMinute: 1_000_000 });
  configDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-serve-'));
  // Only the sync at start-up runs: the next tick is next new year.
  await writeFile(
    path.join(configDir, 'incident-lens.yaml'),
    `schedule:\n  sync: "0 0 1 1 *"\npagerduty:\n  since: "${SINCE}"\n`
  );
});
afterAll(async () => {
  await pagerDuty?.stop();
  if (configDir) {
    await rm(configDir, { recursive: true, force: true });
  }
});

/** `incident-lens serve` as a user runs it, in a child process. */
function startServeProcess(databaseUrl: string): ServeProcess {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: databaseUrl,
      PAGERDUTY_TOKEN: TEST_TOKEN,
      PAGERDUTY_API_URL: pagerDuty.url,
      PAGERDUTY_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      PAGERDUTY_REQUESTS_PER_MINUTE: '1000000',
      INCIDENT_LENS_CONFIG: path.join(configDir, 'incident-lens.yaml'),
      LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal }))
  );
  return { child, stderr: () => stderr, exited };
}

async function stopAndTime(serve: ServeProcess): Promise<{ code: number | null; ms: number }> {
  const started = performance.now();
  serve.child.kill('SIGTERM');
  const { code } = await serve.exited;
  return { code, ms: performance.now() - started };
}

async function latestRun(db: Kysely<Database>) {
  return db.selectFrom('sync_runs').select(['outcome', 'mode']).orderBy('id', 'desc').executeTakeFirst();
}

async function count(
  db: Kysely<Database>,
  table: 'incidents' | 'incident_events' | 'sync_checkpoints'
): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The synced content of a database, without ids and sync bookkeeping, in a stable order. */
async function content(db: Kysely<Database>) {
  const incidents = await db
    .selectFrom('incidents')
    .leftJoin('services', 'services.id', 'incidents.service_id')
    .leftJoin('teams', 'teams.id', 'incidents.team_id')
    .select([
      'incidents.external_id',
      'incidents.number',
      'incidents.title',
      'incidents.status',
      'incidents.urgency',
      'incidents.priority_raw',
      'incidents.severity',
      'incidents.created_at',
      'incidents.acknowledged_at',
      'incidents.resolved_at',
      'incidents.merged',
      'incidents.escalated',
      'incidents.unack_count',
      'incidents.source_updated_at',
      'services.external_id as service',
      'teams.external_id as team',
    ])
    .orderBy('incidents.external_id')
    .execute();
  const events = await db
    .selectFrom('incident_events')
    .innerJoin('incidents', 'incidents.id', 'incident_events.incident_id')
    .select([
      'incident_events.external_id',
      'incidents.external_id as incident',
      'incident_events.type',
      'incident_events.raw_type',
      'incident_events.occurred_at',
      'incident_events.agent',
      'incident_events.summary',
    ])
    .orderBy('incident_events.external_id')
    .execute();
  const quarantined = await db
    .selectFrom('ingest_errors')
    .select(['record_kind', 'external_id', 'reason'])
    .orderBy('payload_hash')
    .execute();
  return { incidents, events, quarantined };
}

describe('incident-lens serve in a child process', () => {
  let interrupted: TestDatabase;
  let reference: TestDatabase;

  beforeAll(async () => {
    [interrupted, reference] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => {
    await interrupted?.destroy();
    await reference?.destroy();
  });

  it('SIGTERM in the middle of a sync exits 0 within 10 s; a restart ends with the database of an uninterrupted run', async () => {
    // Slow answers: the first sync takes several seconds, so the signal lands inside it.
    pagerDuty.setFaults({ slowRate: 1, slowMs: 25 });
    const first = startServeProcess(interrupted.url);
    try {
      await eventually(
        async () => {
          const run = await latestRun(interrupted.db);
          return run?.outcome === 'running' && (await count(interrupted.db, 'sync_checkpoints')) > 0 ? true : undefined;
        },
        30_000,
        'the first sync to pass its first checkpoint',
        20
      );
    } catch (error) {
      first.child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${first.stderr()}`);
    }
    const stopped = await stopAndTime(first);
    expect(stopped.code, first.stderr()).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
    expect(await latestRun(interrupted.db)).toMatchObject({ outcome: 'interrupted', mode: 'full' });
    const storedAtStop = await count(interrupted.db, 'incidents');
    expect(storedAtStop).toBeGreaterThan(0);
    expect(storedAtStop).toBeLessThan(history.incidentCount);

    pagerDuty.setFaults(undefined);
    const second = startServeProcess(interrupted.url);
    await eventually(
      async () => ((await latestRun(interrupted.db))?.outcome === 'succeeded' ? true : undefined),
      30_000,
      'the resumed sync',
      50
    );
    // Resumed from the checkpoint, not from the start.
    expect(await latestRun(interrupted.db)).toMatchObject({ mode: 'incremental' });
    const restopped = await stopAndTime(second);
    expect(restopped.code, second.stderr()).toBe(0);

    const uninterrupted = new PagerDutySync({
      apiUrl: pagerDuty.url,
      token: TEST_TOKEN,
      historyStart: new Date(`${SINCE}T00:00:00Z`),
      severity: { map: {}, fromUrgency: {} },
      requestsPerMinute: 1_000_000,
    });
    await uninterrupted.run(reference.db, { mode: 'full' }, captureLogger('warn').logger);

    const expected = await content(reference.db);
    expect(expected.incidents).toHaveLength(history.incidentCount);
    expect(await content(interrupted.db)).toEqual(expected);

    // What an operator's log shipper reads: JSON lines, and never a credential.
    for (const serve of [first, second]) {
      const lines = serve
        .stderr()
        .split('\n')
        .filter((line) => line !== '');
      // The one plain line is the CLI's notice that the signal arrived.
      const plain = lines.filter((line) => !line.startsWith('{'));
      expect(plain).toEqual(['incident-lens: SIGTERM received; finishing the current batch and stopping']);
      for (const line of lines.filter((candidate) => candidate.startsWith('{'))) {
        expect(() => JSON.parse(line)).not.toThrow();
      }
      expect(serve.stderr()).toContain('"msg":"stopped"');
      expect(serve.stderr()).not.toContain(TEST_TOKEN);
      expect(serve.stderr()).not.toContain(TEST_WEBHOOK_SECRET);
      expect(serve.stderr()).not.toMatch(/Token token=/);
    }
  }, 90_000);
});
