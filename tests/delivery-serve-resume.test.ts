import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig, type Config } from '../collector/src/config.ts';
import { deliverReport } from '../collector/src/delivery/deliver.ts';
import { reportJobs } from '../collector/src/serve/report-jobs.ts';
import { startServe } from '../collector/src/serve/serve.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { captureLogger } from './support/serve.ts';
import { syncSimulatedPagerDuty } from './support/simulated-history.ts';
import { startLoopbackSmtp, type LoopbackSmtp } from './support/smtp.ts';

// The monthly job of 1 December 2026, 06:00 UTC: it covers November.
const NOW = new Date('2026-12-01T06:00:00Z');

let database: TestDatabase;
let smtp: LoopbackSmtp;
let config: Config;
let directory: string;

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startLoopbackSmtp({ user: 'lens', password: 'serve-resume-pw' });
  directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-serve-resume-'));
  const configPath = path.join(directory, 'incident-lens.yaml');
  await writeFile(
    configPath,
    'timezone: UTC\ndelivery:\n  - report: month\n    email: [first@example.com, second@example.com]\n'
  );
  config = loadConfig(
    {
      INCIDENT_LENS_CONFIG: configPath,
      INCIDENT_LENS_DATA_DIR: directory,
      SMTP_URL: smtp.url('lens', 'serve-resume-pw'),
      SMTP_FROM: 'reports@example.com',
      // serve needs a source; nothing syncs in this test (no sync at start, and nothing listens here).
      PAGERDUTY_TOKEN: 'token',
      PAGERDUTY_API_URL: 'http://127.0.0.1:9',
    },
    directory
  );
  await syncSimulatedPagerDuty(database.db, {
    seed: 3,
    start: new Date('2026-10-01T00:00:00Z'),
    end: NOW,
    incidents: 80,
  });
});

afterAll(async () => {
  await smtp.close();
  await database.destroy();
  await rm(directory, { recursive: true, force: true });
});

it('serve finishes at start a scheduled delivery a stopped process left half done, and its job never sends the month again', async () => {
  // The first process: the second recipient is refused for now (421), and the process stops while it waits to retry.
  smtp.answerRcpt = (address) =>
    address === 'second@example.com' ? { code: 421, message: '4.7.0 try later' } : 'accept';
  const stop = new AbortController();
  const first = await deliverReport(
    database.db,
    config,
    { granularity: 'month', date: '2026-11-30', asOf: NOW, trigger: 'schedule' },
    {
      logger: captureLogger('warn').logger,
      signal: stop.signal,
      retry: { tries: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
      observe: (_channel, outcome) => outcome === 'retried' && stop.abort(),
    }
  );
  expect(first.outcomes.map((outcome) => [outcome.recipient, outcome.status])).toEqual([
    ['first@example.com', 'sent'],
    ['second@example.com', 'sending'],
  ]);

  smtp.answerRcpt = () => 'accept';
  const captured = captureLogger('info');
  const serve = await startServe(database.db, config, captured.logger, {
    host: '127.0.0.1',
    port: 0,
    syncAtStart: false,
  });
  try {
    for (let waited = 0; waited < 30_000 && smtp.received.length < 2; waited += 100) {
      await sleep(100);
    }
  } finally {
    await serve.stop();
  }
  expect(smtp.received.map((mail) => mail.to)).toEqual([['first@example.com'], ['second@example.com']]);
  expect(captured.text()).toContain('resuming an unfinished delivery');
  const rows = await database.db
    .selectFrom('delivery_log')
    .innerJoin('delivery_runs', 'delivery_runs.id', 'delivery_log.run_id')
    .select(['trigger', 'recipient', 'status', 'tries', 'finished_at'])
    .orderBy('position')
    .execute();
  expect(rows.map((row) => [row.trigger, row.recipient, row.status, row.tries])).toEqual([
    ['schedule', 'first@example.com', 'sent', 1],
    ['schedule', 'second@example.com', 'sent', 2],
  ]);
  expect(rows.every((row) => row.finished_at !== null)).toBe(true);

  await reportJobs(database.db, config, captured.logger, { now: () => NOW }).monthlyReport();
  expect(smtp.received.length).toBe(2);
});
