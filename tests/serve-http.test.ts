import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKysely } from '../collector/src/db/database.ts';
import { type FakePagerDuty, generatePagerDutyHistory, startFakePagerDuty } from '@incident-lens/simulators';
import { PROBE_STATE_MAX_AGE_MS, cachedFor, checkReadiness, freshnessCheck } from '../collector/src/serve/readiness.ts';
import { startServe, type ServeInstance } from '../collector/src/serve/serve.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { parsePrometheusText, sampleValue, type MetricFamily } from './support/prometheus-text.ts';
import { TEST_TOKEN, captureLogger, eventually, fakePagerDutySources, serveConfig } from './support/serve.ts';

const HISTORY_START = new Date('2026-08-01T00:00:00Z');
const HISTORY_END = new Date('2026-11-01T00:00:00Z');

describe('the strict Prometheus text reader used below', () => {
  const valid = [
    '# HELP jobs_total Jobs run.',
    '# TYPE jobs_total counter',
    'jobs_total{job="sync",outcome="ok"} 3',
    'jobs_total{job="sync",outcome="failed"} 0',
    '# TYPE wait_seconds histogram',
    'wait_seconds_bucket{le="1"} 1',
    'wait_seconds_bucket{le="+Inf"} 2',
    'wait_seconds_sum 3.5',
    'wait_seconds_count 2',
    '',
  ].join('\n');

  it('reads a well-formed exposition', () => {
    const families = parsePrometheusText(valid);
    expect(families.get('jobs_total')).toMatchObject({ type: 'counter', help: 'Jobs run.' });
    expect(sampleValue(families, 'wait_seconds', {}, 'wait_seconds_count')).toBe(2);
  });

  it.each([
    ['no final line feed', valid.slice(0, -1)],
    ['a bad metric name', 'jobs-total 1\n'],
    ['a label value without quotes', 'jobs_total{job=sync} 1\n'],
    ['a bad escape', 'jobs_total{job="a\\tb"} 1\n'],
    ['a value that is not a number', 'jobs_total 1,5\n'],
    ['a TYPE after samples', 'jobs_total 1\n# TYPE jobs_total counter\n'],
    ['interleaved families', 'a 1\nb 1\na{x="1"} 2\n'],
    ['a duplicate series', 'a{x="1"} 1\na{x="1"} 2\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
    [
      'buckets that are not cumulative',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
    ],
    ['+Inf differing from _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
  ])('refuses %s', (_case, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});

describe('readiness conditions', () => {
  it.each([
    ['never synced', undefined, false, 'has no successful sync yet'],
    [
      'synced 9 minutes ago on a 5-minute schedule',
      '2026-11-22T08:51:00Z',
      true,
      'within twice the sync schedule (600 s)',
    ],
    [
      'synced 10 minutes ago on a 5-minute schedule',
      '2026-11-22T08:50:00Z',
      false,
      'older than twice the sync schedule (600 s)',
    ],
  ])('%s', (_case, lastSuccess, ok, detail) => {
    const check = freshnessCheck(
      { source: 'pagerduty', intervalMs: 5 * 60_000 },
      lastSuccess === undefined ? undefined : new Date(lastSuccess),
      new Date('2026-11-22T09:00:00Z')
    );
    expect(check).toMatchObject({ name: 'pagerduty_sync_fresh', ok });
    expect(check.detail).toContain(detail);
  });

  it('names an unreachable database', async () => {
    const nowhere = createKysely('postgres://incident_lens@127.0.0.1:9/incident_lens', 1);
    try {
      const report = await checkReadiness(nowhere, [{ source: 'pagerduty', intervalMs: 300_000 }]);
      expect(report.ready).toBe(false);
      expect(report.checks).toEqual([
        expect.objectContaining({ name: 'database', ok: false, detail: expect.stringContaining('unreachable') }),
      ]);
    } finally {
      await nowhere.destroy();
    }
  });

  it('names pending migrations', async () => {
    const bare = await createTestDatabase({ migrated: false });
    try {
      const report = await checkReadiness(bare.db, []);
      expect(report.ready).toBe(false);
      expect(report.checks).toContainEqual(expect.objectContaining({ name: 'migrations', ok: false }));
    } finally {
      await bare.destroy();
    }
  });
});

describe('probe state shared between requests', () => {
  it('computes once for a flood of callers, again after the age limit, and never keeps a failure', async () => {
    let calls = 0;
    let fail = false;
    const read = cachedFor(200, async () => {
      calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (fail) {
        throw new Error('database down');
      }
      return calls;
    });
    const answers = await Promise.all(Array.from({ length: 500 }, () => read()));
    expect(new Set(answers)).toEqual(new Set([1]));
    expect(calls).toBe(1);
    expect(await read()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 220));
    fail = true;
    await expect(read()).rejects.toThrow('database down');
    fail = false;
    expect(await read()).toBe(3);
    expect(calls).toBe(3);
  });
});

describe('a running serve: /readyz and /metrics', () => {
  let database: TestDatabase;
  let pagerDuty: FakePagerDuty;
  let serve: ServeInstance;
  const incidents = 150;

  beforeAll(async () => {
    database = await createTestDatabase();
    const history = generatePagerDutyHistory({ seed: 31, start: HISTORY_START, end: HISTORY_END, incidents });
    pagerDuty = await startFakePagerDuty({
      history,
      token: TEST_TOKEN,
      rateLimitPerMinute: 1_000_000,
      rateLimitWindowMs: 1000,
    });
    const config = serveConfig(
      { PAGERDUTY_TOKEN: TEST_TOKEN, PAGERDUTY_API_URL: pagerDuty.url },
      { sync: '*/2 * * * * *' }
    );
    serve = await startServe(database.db, config, captureLogger('info').logger, {
      host: '127.0.0.1',
      port: 0,
      // One quick retry: an outage fails the sync within a tick instead of retrying for minutes.
      createSync: fakePagerDutySources(pagerDuty, HISTORY_START, { maxRetries: 1, timeoutMs: 1000 }),
    });
  });
  afterAll(async () => {
    await serve?.stop();
    await pagerDuty?.stop();
    await database?.destroy();
  });

  const readyz = async () => {
    const response = await fetch(`${serve.url}/readyz`);
    return {
      status: response.status,
      body: (await response.json()) as {
        status: string;
        failing: string[];
        checks: Array<{ name: string; detail: string }>;
      },
    };
  };
  const scrape = async (): Promise<Map<string, MetricFamily>> => {
    const response = await fetch(`${serve.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await response.text());
  };
  const succeededRuns = (families: Map<string, MetricFamily>) =>
    sampleValue(families, 'incident_lens_sync_runs_total', { source: 'pagerduty', outcome: 'succeeded' }) ?? 0;

  it('/readyz turns 200 once the first sync has succeeded, with every condition named', async () => {
    const ready = await eventually(
      async () => {
        const answer = await readyz();
        return answer.status === 200 ? answer : undefined;
      },
      15_000,
      '/readyz to answer 200'
    );
    expect(ready.body.status).toBe('ready');
    expect(ready.body.checks.map((check) => check.name)).toEqual(['database', 'migrations', 'pagerduty_sync_fresh']);
  });

  it('/metrics parses as Prometheus text and carries the collector families and the process defaults', async () => {
    // The run is recorded in the database a moment before its counts reach the metrics.
    const families = await eventually(
      async () => {
        const scraped = await scrape();
        return (sampleValue(scraped, 'incident_lens_records_ingested_total', { source: 'pagerduty', kind: 'record' }) ??
          0) > 0
          ? scraped
          : undefined;
      },
      5000,
      'the first sync in /metrics'
    );
    const types = Object.fromEntries([...families.values()].map((family) => [family.name, family.type]));
    expect(types).toMatchObject({
      incident_lens_sync_runs_total: 'counter',
      incident_lens_sync_duration_seconds: 'histogram',
      incident_lens_sync_errors_total: 'counter',
      incident_lens_api_requests_total: 'counter',
      incident_lens_api_rate_limited_total: 'counter',
      incident_lens_records_ingested_total: 'counter',
      incident_lens_records_quarantined_total: 'counter',
      incident_lens_last_successful_sync_timestamp_seconds: 'gauge',
      incident_lens_webhook_events_total: 'counter',
      incident_lens_scheduled_runs_skipped_total: 'counter',
      process_cpu_user_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      nodejs_heap_size_total_bytes: 'gauge',
    });
    for (const family of families.values()) {
      expect(family.help, family.name).toBeTruthy();
    }
    expect(
      sampleValue(families, 'incident_lens_records_ingested_total', { source: 'pagerduty', kind: 'record' })
    ).toBeGreaterThanOrEqual(incidents);
    const lastSync = sampleValue(families, 'incident_lens_last_successful_sync_timestamp_seconds', {
      source: 'pagerduty',
    })!;
    expect(Math.abs(lastSync - Date.now() / 1000)).toBeLessThan(10);
  });

  it('/metrics moves when syncs happen', async () => {
    const before = await scrape();
    const after = await eventually(
      async () => {
        const families = await scrape();
        return succeededRuns(families) >= succeededRuns(before) + 2 ? families : undefined;
      },
      10_000,
      'two more successful syncs in /metrics',
      200
    );
    const requests = (families: Map<string, MetricFamily>) =>
      sampleValue(families, 'incident_lens_api_requests_total', { source: 'pagerduty', code: '200' }) ?? 0;
    const durations = (families: Map<string, MetricFamily>) =>
      sampleValue(
        families,
        'incident_lens_sync_duration_seconds',
        { source: 'pagerduty', outcome: 'succeeded' },
        'incident_lens_sync_duration_seconds_count'
      ) ?? 0;
    const lastSync = (families: Map<string, MetricFamily>) =>
      sampleValue(families, 'incident_lens_last_successful_sync_timestamp_seconds', { source: 'pagerduty' })!;
    expect(requests(after)).toBeGreaterThan(requests(before));
    expect(durations(after)).toBeGreaterThanOrEqual(durations(before) + 2);
    expect(lastSync(after)).toBeGreaterThan(lastSync(before));
  });

  it('/readyz turns 503 naming the stale source when PagerDuty stops answering, and 200 after it recovers', async () => {
    pagerDuty.setFaults({ dropRate: 1 });
    const notReady = await eventually(
      async () => {
        const answer = await readyz();
        return answer.status === 503 ? answer : undefined;
      },
      15_000,
      '/readyz to answer 503',
      200
    );
    expect(notReady.body).toMatchObject({ status: 'not ready', failing: ['pagerduty_sync_fresh'] });
    expect(notReady.body.checks.find((check) => check.name === 'pagerduty_sync_fresh')!.detail).toContain(
      'older than twice the sync schedule (4 s)'
    );

    const failing = await scrape();
    expect(
      sampleValue(failing, 'incident_lens_sync_runs_total', { source: 'pagerduty', outcome: 'failed' })
    ).toBeGreaterThan(0);
    expect(
      sampleValue(failing, 'incident_lens_sync_errors_total', { source: 'pagerduty', reason: 'api' })
    ).toBeGreaterThan(0);
    expect(
      sampleValue(failing, 'incident_lens_api_requests_total', { source: 'pagerduty', code: 'network_error' })
    ).toBeGreaterThan(0);

    pagerDuty.setFaults(undefined);
    await eventually(
      async () => ((await readyz()).status === 200 ? true : undefined),
      10_000,
      '/readyz to answer 200 again',
      200
    );
  });

  it('reports the open overdue action items that lens.open_overdue_action_items() returns', async () => {
    const empty = await scrape();
    expect(sampleValue(empty, 'incident_lens_action_items_open_overdue', { team: '' })).toBe(0);

    const jira = await database.db
      .insertInto('sources')
      .values({ kind: 'jira', base_url: 'https://acme.atlassian.net', name: 'Jira acme' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const item = { source_id: jira.id, status: 'To Do', status_category: 'To Do', created_at: '2026-09-20T10:00:00Z' };
    await database.db
      .insertInto('action_items')
      .values([
        { ...item, external_id: 'OPS-1', title: 'Alert on connection pool exhaustion', due_date: '2026-10-01' },
        { ...item, external_id: 'OPS-2', title: 'Load-test the failover', due_date: '2099-01-01' },
        {
          ...item,
          external_id: 'OPS-3',
          title: 'Raise the pool size',
          due_date: '2026-10-01',
          status: 'Done',
          status_category: 'Done',
          completed_at: '2026-09-25T10:00:00Z',
        },
      ])
      .execute();
    // /metrics reads the database at most every PROBE_STATE_MAX_AGE_MS: the change shows within that.
    await eventually(
      async () =>
        sampleValue(await scrape(), 'incident_lens_action_items_open_overdue', { team: '' }) === 1 ? true : undefined,
      PROBE_STATE_MAX_AGE_MS + 3000,
      'the overdue item in /metrics',
      200
    );
  });

  it('counts 429 answers by source', async () => {
    pagerDuty.setRateLimit(1);
    try {
      await eventually(
        async () => {
          const families = await scrape();
          return (sampleValue(families, 'incident_lens_api_rate_limited_total', { source: 'pagerduty' }) ?? 0) > 0
            ? true
            : undefined;
        },
        10_000,
        'a 429 in /metrics',
        200
      );
      const families = await scrape();
      expect(
        sampleValue(families, 'incident_lens_api_requests_total', { source: 'pagerduty', code: '429' })
      ).toBeGreaterThan(0);
    } finally {
      pagerDuty.setRateLimit(1_000_000);
    }
  });
});
