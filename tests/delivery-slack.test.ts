import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDuration, formatRate } from '@incident-lens/common/format';
import { SEVERITIES } from '@incident-lens/common/report';
import { loadConfig, type Config } from '../collector/src/config.ts';
import { readReport } from '../collector/src/metrics/report-data.ts';
import { describeChange } from '../collector/src/report/format-values.ts';
import { CollectorMetrics } from '../collector/src/serve/metrics.ts';
import { reportJobs } from '../collector/src/serve/report-jobs.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { readerUrl } from './support/reader-role.ts';
import { captureLogger } from './support/serve.ts';
import { syncSimulatedPagerDuty } from './support/simulated-history.ts';

/** Stands in for Slack's incoming webhooks: answers from a script, then 200 "ok"; keeps every request. */
interface SlackReceiver {
  url(secretPath: string): string;
  requests: Array<{ path: string; body: string; at: number }>;
  /** Answers given before the default 200, in order. */
  script: Array<{ status: number; headers?: Record<string, string>; body: string }>;
  close(): Promise<void>;
}

async function startSlackReceiver(): Promise<SlackReceiver> {
  const receiver: SlackReceiver = {
    url: (secretPath) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/${secretPath}`,
    requests: [],
    script: [],
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      receiver.requests.push({ path: request.url ?? '', body, at: performance.now() });
      const answer = receiver.script.shift() ?? { status: 200, body: 'ok' };
      response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return receiver;
}

const WEEKLY_SECRET = 'T0AAA/B0BBB/weekly-secret-4d2f9a';
const DAILY_SECRET = 'T0AAA/B0CCC/daily-secret-77b1e0';
// Monday 23 November 2026, 07:00 in Berlin: the weekly job covers 2026-W47.
const NOW = new Date('2026-11-23T06:00:00Z');
const FAST_RETRY = { tries: 4, baseDelayMs: 50, maxDelayMs: 5000 };

let database: TestDatabase;
let slack: SlackReceiver;
let config: Config;
let directory: string;

beforeAll(async () => {
  database = await createTestDatabase();
  slack = await startSlackReceiver();
  directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-slack-'));
  const configPath = path.join(directory, 'incident-lens.yaml');
  await writeFile(
    configPath,
    [
      'timezone: Europe/Berlin',
      'delivery:',
      '  - report: week',
      '    slackWebhookEnv: SLACK_WEBHOOK_URL',
      '  - report: day',
      '    slackWebhookEnv: SLACK_OPS_WEBHOOK',
      '',
    ].join('\n')
  );
  config = loadConfig(
    {
      INCIDENT_LENS_CONFIG: configPath,
      INCIDENT_LENS_DATA_DIR: directory,
      SLACK_WEBHOOK_URL: slack.url(WEEKLY_SECRET),
      SLACK_OPS_WEBHOOK: slack.url(DAILY_SECRET),
    },
    directory
  );
  await syncSimulatedPagerDuty(database.db, {
    seed: 5,
    start: new Date('2026-09-01T00:00:00Z'),
    end: NOW,
    incidents: 300,
  });
});

afterAll(async () => {
  await slack.close();
  await database.destroy();
  await rm(directory, { recursive: true, force: true });
});

describe("serve's weekly report job delivers a Slack summary", () => {
  const captured = captureLogger('debug');
  let metrics: CollectorMetrics;
  let jobs: ReturnType<typeof reportJobs>;

  beforeAll(async () => {
    metrics = new CollectorMetrics({ db: database.db, sources: [], logger: captured.logger });
    jobs = reportJobs(database.db, config, captured.logger, {
      now: () => NOW,
      delivery: { observe: metrics.observeDelivery.bind(metrics), retry: FAST_RETRY },
    });
    slack.script.push(
      { status: 503, body: 'upstream unavailable' },
      { status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' }
    );
    await jobs.weeklyReport();
  });

  it('retries after a 5xx and after a 429 (waiting its Retry-After), and Slack accepts exactly one message', () => {
    const weekly = slack.requests.filter((request) => request.path === `/services/${WEEKLY_SECRET}`);
    expect(weekly.length).toBe(3);
    expect(new Set(weekly.map((request) => request.body)).size).toBe(1);
    // Retry-After: 1 is waited out (the backoff alone would be 100 ms).
    expect(weekly[2]!.at - weekly[1]!.at).toBeGreaterThanOrEqual(950);
  });

  it('says in Block Kit the headline figures, their change against last week, SLA breaches by severity and overdue action items', async () => {
    const message = JSON.parse(slack.requests[0]!.body);
    const report = await readReport(database.db, {
      granularity: 'week',
      date: '2026-11-22',
      timezone: 'Europe/Berlin',
      asOf: NOW,
    });
    expect(report.previous?.label).toBe('2026-W46');
    expect(message.text).toContain(
      `ack SLA ${formatRate(report.sla.ack.compliance)}, resolve SLA ${formatRate(report.sla.resolve.compliance)}`
    );
    const [header, context, figures, breaches, overdue] = message.blocks;
    expect(header).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Weekly incident report 2026-W47' } });
    expect(context.type).toBe('context');
    expect(context.elements[0].text).toContain('change against 2026-W46');
    const change = (current: number | null, previous: number | null, unit: 'count' | 'duration' | 'rate') =>
      describeChange(current, previous, unit)!.text;
    expect(figures.fields.map((field: { text: string }) => field.text)).toEqual([
      `*Incidents*\n${report.incidents.total}  ${change(report.incidents.total, report.previous!.incidents.total, 'count')}`,
      `*MTTA (mean)*\n${formatDuration(report.mtta.meanSeconds)}  ${change(report.mtta.meanSeconds, report.previous!.mtta.meanSeconds, 'duration')}`,
      `*MTTR (mean)*\n${formatDuration(report.mttr.meanSeconds)}  ${change(report.mttr.meanSeconds, report.previous!.mttr.meanSeconds, 'duration')}`,
      `*Ack SLA*\n${formatRate(report.sla.ack.compliance)}  ${change(report.sla.ack.compliance, report.previous!.sla.ack.compliance, 'rate')}`,
      `*Resolve SLA*\n${formatRate(report.sla.resolve.compliance)}  ${change(report.sla.resolve.compliance, report.previous!.sla.resolve.compliance, 'rate')}`,
    ]);
    expect(breaches.type).toBe('section');
    for (const severity of SEVERITIES) {
      const sla = report.sla.bySeverity[severity];
      expect(breaches.text.text).toContain(`${severity}: ${sla.ack.breached} ack, ${sla.resolve.breached} resolve`);
    }
    expect(overdue.text.text).toBe(
      `*Overdue action items:* ${report.actionItems.openOverdueTotal} open past their due date (all periods)`
    );
  });

  it('does not send the week again when the job runs again', async () => {
    const before = slack.requests.length;
    await jobs.weeklyReport();
    expect(slack.requests.length).toBe(before);
    const rows = await database.db
      .selectFrom('delivery_log')
      .innerJoin('delivery_runs', 'delivery_runs.id', 'delivery_log.run_id')
      .selectAll()
      .execute();
    expect(
      rows.map((row) => [row.period_label, row.trigger, row.channel, row.recipient, row.status, row.tries])
    ).toEqual([['2026-W47', 'schedule', 'slack', 'SLACK_WEBHOOK_URL', 'sent', 3]]);
  });

  it('counts the delivery and its retries in /metrics, and logs no webhook URL', async () => {
    const { text } = await metrics.exposition();
    expect(text).toContain('incident_lens_report_deliveries_total{channel="slack",outcome="sent"} 1');
    expect(text).toContain('incident_lens_report_deliveries_total{channel="slack",outcome="retried"} 2');
    expect(captured.text()).toContain('SLACK_WEBHOOK_URL');
    expect(captured.text()).not.toContain('weekly-secret');
  });

  it('records a permanent refusal with its reason, counts it, and shows it to the reader role without the URL', async () => {
    slack.script.push({ status: 404, body: 'no_service' });
    await jobs.dailyReport();
    const daily = slack.requests.filter((request) => request.path === `/services/${DAILY_SECRET}`);
    expect(daily.length).toBe(1);
    const { text } = await metrics.exposition();
    expect(text).toContain('incident_lens_report_deliveries_total{channel="slack",outcome="failed"} 1');
    const reader = new pg.Client({ connectionString: await readerUrl(database.url) });
    await reader.connect();
    try {
      const { rows } = await reader.query(
        `SELECT period_label, trigger, channel, recipient, status, tries, error FROM lens.report_deliveries ORDER BY run_id`
      );
      expect(rows).toEqual([
        {
          period_label: '2026-W47',
          trigger: 'schedule',
          channel: 'slack',
          recipient: 'SLACK_WEBHOOK_URL',
          status: 'sent',
          tries: 3,
          error: null,
        },
        {
          period_label: '2026-11-22',
          trigger: 'schedule',
          channel: 'slack',
          recipient: 'SLACK_OPS_WEBHOOK',
          status: 'failed',
          tries: 1,
          error: 'Slack answered 404: no_service',
        },
      ]);
      expect(JSON.stringify(rows)).not.toContain('secret');
      await expect(reader.query('SELECT * FROM public.delivery_runs')).rejects.toThrow(/permission denied/);
    } finally {
      await reader.end();
    }
    expect(captured.text()).not.toContain('daily-secret');
  });
});
