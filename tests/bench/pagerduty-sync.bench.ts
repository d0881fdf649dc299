import { generatePagerDutyHistory, startFakePagerDuty } from '@incident-lens/simulators';
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
}
