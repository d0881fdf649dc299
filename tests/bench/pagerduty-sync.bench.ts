import { generatePagerDutyHistory, startFakePagerDuty, type PagerDutyHistory } from '@incident-lens/simulators';
import { createKysely } from '../../collector/src/db/database.ts';
import { migrate } from '../../collector/src/db/migrate.ts';
import { createLogger } from '../../collector/src/logger.ts';
import { PD_RATE_LIMIT_PER_MINUTE } from '../../collector/src/sources/pagerduty/api-types.ts';
import { PagerDutySync } from '../../collector/src/sources/pagerduty/sync.ts';
import { benchDatabase, figure, runCli } from './support.ts';

/**
 * Issue 2's benchmark: a full sync of 100,000 incidents (about 6 log
 * entries each) from the PagerDuty-compatible server, run as the real CLI
 * in a child process so its peak RSS is the sync's alone.
 */
export async function benchPagerDutySync(incidents = Number(process.env.BENCH_INCIDENTS ?? 100_000)): Promise<void> {
  console.log(`\nPagerDuty sync: ${incidents} incidents`);
  const start = new Date('2025-01-01T00:00:00Z');
  const end = new Date('2026-11-01T00:00:00Z');
  const generated = performance.now();
  const history = generatePagerDutyHistory({ seed: 100, start, end, incidents });
  figure('history generated', `${((performance.now() - generated) / 1000).toFixed(1)} s`);
  const token = 'bench-token';
  const server = await startFakePagerDuty({ history, token, rateLimitPerMinute: 100_000_000 });
  const database = await benchDatabase(`bench_pd_${Date.now()}`);
  try {
    const run = await runCli(['sync', '--source', 'pagerduty', '--full'], {
      DATABASE_URL: database.url,
      PAGERDUTY_TOKEN: token,
      PAGERDUTY_API_URL: server.url,
      PAGERDUTY_REQUESTS_PER_MINUTE: '100000000',
      INCIDENT_LENS_CONFIG: '/dev/null',
      LOG_LEVEL: 'info',
    });
    if (run.exitCode !== 0) {
      throw new Error(`sync failed (${run.exitCode}): ${run.stderr.slice(-2000)}`);
    }
    const finished = run.stderr
      .split('\n')
      .filter((line) => line.includes('"sync finished"'))
      .map(
        (line) =>
          JSON.parse(line) as {
            requests: number;
            recordsUpserted: number;
            eventsUpserted: number;
            writeMs: number;
            durationMs: number;
          }
      )[0]!;
    const minimum = Math.ceil(incidents / 100) + Math.ceil(history.logEntryCount / 100);
    const requests = server.requestCount();
    figure('log entries', String(history.logEntryCount));
    figure('API requests', String(requests));
    figure('API requests per 1,000 incidents', ((requests / incidents) * 1000).toFixed(1));
    figure('minimum possible requests', String(minimum));
    figure('requests / minimum', (requests / minimum).toFixed(3), '<= 1.1');
    figure('sync wall time (process, incl. startup)', `${(run.wallMs / 1000).toFixed(1)} s`);
    figure('end-to-end incidents/s (with events)', (incidents / (finished.durationMs / 1000)).toFixed(0));
    figure('time in mapping + PostgreSQL writes', `${(finished.writeMs / 1000).toFixed(1)} s`);
    figure(
      'ingest throughput into PostgreSQL',
      `${(incidents / (finished.writeMs / 1000)).toFixed(0)} inc/s`,
      '>= 20,000'
    );
    figure('peak RSS of the sync process', `${(run.peakRssBytes / 1024 / 1024).toFixed(0)} MB`, '< 300 MB');
  } finally {
    await server.stop();
    await database.stop();
  }
  await benchAtRateLimit(history, start, end);
}

/**
 * The same full sync against the simulated PagerDuty at its real rate limit
 * (960 requests in any 60 s), with the clock scaled: BENCH_RATE_SCALE times
 * the rate over a window as many times shorter, so the allowance per window
 * and the client's burst stay PagerDuty's. The database writes do not scale,
 * so the ratio measured here is an upper bound on the ratio at the real rate.
 */
async function benchAtRateLimit(history: PagerDutyHistory, start: Date, end: Date): Promise<void> {
  const scale = Number(process.env.BENCH_RATE_SCALE ?? 2);
  const perMinute = PD_RATE_LIMIT_PER_MINUTE * scale;
  console.log(`\nPagerDuty sync at the rate limit (clock x${scale}: ${perMinute} requests/min, 60/${scale} s window)`);
  const token = 'bench-token';
  const server = await startFakePagerDuty({
    history,
    token,
    rateLimitPerMinute: PD_RATE_LIMIT_PER_MINUTE,
    rateLimitWindowMs: 60_000 / scale,
  });
  const database = await benchDatabase(`bench_pd_rate_${Date.now()}`);
  const db = createKysely(database.url, 4);
  try {
    const logger = createLogger('warn');
    await migrate(db, logger);
    const sync = new PagerDutySync({
      apiUrl: server.url,
      token,
      requestsPerMinute: perMinute,
      burstRequests: PD_RATE_LIMIT_PER_MINUTE,
      rateWindowMs: 60_000 / scale,
      historyStart: start,
      severity: { map: {}, fromUrgency: {} },
      now: () => end,
    });
    const started = performance.now();
    const summary = await sync.run(db, { mode: 'full' }, logger);
    const wallMs = performance.now() - started;
    const requests = server.requestCount();
    const floorMs = (requests / perMinute) * 60_000;
    figure('API requests (429 answers)', `${requests} (${server.rateLimitedCount()})`);
    figure('time the API imposes (requests / rate)', `${(floorMs / 1000).toFixed(1)} s`);
    figure('sync wall time', `${(wallMs / 1000).toFixed(1)} s`);
    figure('time in mapping + PostgreSQL writes', `${(summary.writeMs / 1000).toFixed(1)} s`);
    figure('sync time / API time', (wallMs / floorMs).toFixed(3), '<= 1.05');
  } finally {
    await db.destroy();
    await server.stop();
    await database.stop();
  }
}
