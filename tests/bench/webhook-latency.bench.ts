import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { createKysely } from '../../collector/src/db/database.ts';
import { generatePagerDutyHistory, type PagerDutyHistory, startFakePagerDuty } from '@incident-lens/simulators';
import { PD_RATE_LIMIT_PER_MINUTE } from '../../collector/src/sources/pagerduty/api-types.ts';
import { CLI, benchDatabase, figure, median, percentile } from './support.ts';

const TOKEN = 'bench-webhook-token';
const SECRET = 'bench-webhook-secret';
const EVENTS_PER_SECOND = 50;

interface Scenario {
  name: string;
  /** Requests per minute the fake PagerDuty allows, and the collector paces itself to. */
  rateLimitPerMinute: number;
  /** Clients polling /readyz, /metrics and /healthz as fast as they are answered, all through the storm. */
  probeClients?: number;
}

/**
 * Issue 6's benchmark: webhook-to-database latency at 50 events per second.
 * `incident-lens serve` runs as the real CLI in a child process; this process
 * plays PagerDuty: it changes incidents in the fake PagerDuty, then delivers
 * the signed v3 webhook, and watches PostgreSQL for the log entry that the
 * change created. Latency runs from just before the delivery to the first
 * poll (every 25 ms) that finds the entry.
 */
export async function benchWebhookLatency(seconds = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 20)): Promise<void> {
  const scenarios: Scenario[] = [
    { name: "PagerDuty's published rate limit", rateLimitPerMinute: PD_RATE_LIMIT_PER_MINUTE },
    { name: 'no API rate limit', rateLimitPerMinute: 100_000_000 },
    {
      name: "PagerDuty's published rate limit, under a probe flood",
      rateLimitPerMinute: PD_RATE_LIMIT_PER_MINUTE,
      probeClients: 32,
    },
  ];
  for (const scenario of scenarios) {
    await runScenario(scenario, seconds);
  }
}

async function runScenario(scenario: Scenario, seconds: number): Promise<void> {
  console.log(
    `\nWebhook-to-database latency: ${EVENTS_PER_SECOND} events/s for ${seconds} s, ${scenario.name} (${scenario.rateLimitPerMinute.toLocaleString('en')} requests/min)`
  );
  const now = Date.now();
  const history = generatePagerDutyHistory({
    seed: 600,
    start: new Date(Math.floor((now - 30 * 86_400_000) / 1000) * 1000),
    end: new Date(Math.floor((now - 3_600_000) / 1000) * 1000),
    incidents: 2000,
  });
  const pagerDuty = await startFakePagerDuty({
    history,
    token: TOKEN,
    rateLimitPerMinute: scenario.rateLimitPerMinute,
  });
  const database = await benchDatabase(`bench_webhooks_${Date.now()}`);
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      PAGERDUTY_TOKEN: TOKEN,
      PAGERDUTY_API_URL: pagerDuty.url,
      PAGERDUTY_WEBHOOK_SECRET: SECRET,
      PAGERDUTY_REQUESTS_PER_MINUTE: String(scenario.rateLimitPerMinute),
      INCIDENT_LENS_CONFIG: '/dev/null',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const watcher = createKysely(database.url, 2);
  try {
    const url = await waitFor(
      async () => /"url":"(http:\/\/[^"]+)","sources"/.exec(stderr)?.[1],
      60_000,
      'serve to start'
    );
    await waitFor(
      async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined),
      120_000,
      'the first sync'
    );
    const requestsBefore = pagerDuty.requestCount();
    const limitedBefore = pagerDuty.rateLimitedCount();

    const storm = new IncidentStorm(history, 0x5eed);
    const answerMs: number[] = [];
    const deliveries: Array<Promise<void>> = [];
    // Log entries not yet seen in the database, with the time their webhook was sent.
    const pending = new Map<string, number>();
    const latencies: number[] = [];
    let sending = true;
    const watching = (async () => {
      const giveUpAfterSending = 60_000;
      let sendingEndedAt = Infinity;
      while (sending || (pending.size > 0 && performance.now() - sendingEndedAt < giveUpAfterSending)) {
        if (!sending && sendingEndedAt === Infinity) {
          sendingEndedAt = performance.now();
        }
        if (pending.size > 0) {
          const found = await sql<{ external_id: string }>`
            SELECT external_id FROM incident_events WHERE external_id = ANY(${[...pending.keys()]}::text[])`.execute(
            watcher
          );
          const seenAt = performance.now();
          for (const row of found.rows) {
            latencies.push(seenAt - pending.get(row.external_id)!);
            pending.delete(row.external_id);
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    // The probe flood: orchestrator and scraper requests as fast as serve answers them.
    const probeMs: number[] = [];
    const probeStatuses = new Map<number, number>();
    const probing = Array.from({ length: scenario.probeClients ?? 0 }, async (_, client) => {
      const paths = ['/readyz', '/metrics', '/healthz'];
      for (let n = client; sending; n++) {
        const sentAt = performance.now();
        const response = await fetch(`${url}${paths[n % paths.length]}`);
        await response.arrayBuffer();
        probeMs.push(performance.now() - sentAt);
        probeStatuses.set(response.status, (probeStatuses.get(response.status) ?? 0) + 1);
      }
    });
    const started = performance.now();
    const total = EVENTS_PER_SECOND * seconds;
    for (let index = 0; index < total; index++) {
      const due = started + (index * 1000) / EVENTS_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) {
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const event = storm.next(`bench-${scenario.rateLimitPerMinute}-${index}`);
      const body = JSON.stringify(event.body);
      const sentAt = performance.now();
      pending.set(event.entryId, sentAt);
      deliveries.push(
        fetch(`${url}/webhooks/pagerduty`, {
          method: 'POST',
          body,
          headers: {
            'Content-Type': 'application/json',
            'X-PagerDuty-Signature': `v1=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
          },
        }).then(async (response) => {
          await response.arrayBuffer();
          if (response.status !== 202) {
            throw new Error(`webhook answered ${response.status}`);
          }
          answerMs.push(performance.now() - sentAt);
        })
      );
    }
    const sendSeconds = (performance.now() - started) / 1000;
    await Promise.all(deliveries);

    sending = false;
    await Promise.all([watching, ...probing]);

    const seconds1 = (value: number) => `${(value / 1000).toFixed(2)} s`;
    figure('events delivered', `${total} in ${sendSeconds.toFixed(1)} s`);
    figure('incidents the events touched', String(storm.incidentsTouched));
    figure('webhook answer time p95', `${percentile(answerMs, 0.95).toFixed(1)} ms`);
    figure('events in the database', `${latencies.length} of ${total}`);
    if (latencies.length > 0) {
      figure('webhook-to-database latency median', seconds1(median(latencies)));
      figure('webhook-to-database latency p95', seconds1(percentile(latencies, 0.95)), '< 5 s');
      figure('webhook-to-database latency max', seconds1(Math.max(...latencies)));
    }
    if (probeMs.length > 0) {
      figure(
        'probe requests during the storm',
        `${probeMs.length} (${(probeMs.length / sendSeconds).toFixed(0)}/s; ${[...probeStatuses].map(([status, n]) => `${status}×${n}`).join(' ')})`
      );
      figure('probe answer time p95', `${percentile(probeMs, 0.95).toFixed(1)} ms`);
    }
    figure('PagerDuty API requests during the storm', String(pagerDuty.requestCount() - requestsBefore));
    figure('429 answers during the storm', String(pagerDuty.rateLimitedCount() - limitedBefore));
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) {
      console.error(`serve exited ${code}:\n${stderr.slice(-3000)}`);
    }
    await watcher.destroy();
    await pagerDuty.stop();
    await database.stop();
  }
}

interface StormEvent {
  /** The log entry the change created: what the database must come to hold. */
  entryId: string;
  body: unknown;
}

type Step = 'acknowledge' | 'escalate' | 'priority' | 'unacknowledge' | 'resolve';

/**
 * An incident storm played on the fake PagerDuty: incidents trigger, get
 * escalated, acknowledged (sometimes unacknowledged and acknowledged again),
 * re-prioritised and resolved, about 30 of them open at a time. Seeded, so
 * every run sends the same sequence.
 */
export class IncidentStorm {
  private readonly open: Array<{ id: string; steps: Step[] }> = [];
  private random: () => number;
  incidentsTouched = 0;

  constructor(
    private readonly history: PagerDutyHistory,
    seed: number
  ) {
    let state = seed >>> 0;
    this.random = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
  }

  next(eventId: string): StormEvent {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    let eventType: string;
    let incidentId: string;
    if (this.open.length < 30 || this.random() < 0.25) {
      incidentId = this.history.addIncident({
        createdAt: at,
        priority: this.random() < 0.3 ? 'P1' : 'P3',
        urgency: 'high',
        serviceIndex: Math.floor(this.random() * this.history.services.length),
      });
      const steps: Step[] = [];
      if (this.random() < 0.4) {
        steps.push('escalate');
      }
      steps.push('acknowledge');
      if (this.random() < 0.2) {
        steps.push('unacknowledge', 'acknowledge');
      }
      if (this.random() < 0.3) {
        steps.push('priority');
      }
      steps.push('resolve');
      this.open.push({ id: incidentId, steps });
      this.incidentsTouched++;
      eventType = 'incident.triggered';
    } else {
      const index = Math.floor(this.random() * this.open.length);
      const incident = this.open[index]!;
      const step = incident.steps.shift()!;
      incidentId = incident.id;
      if (incident.steps.length === 0) {
        this.open.splice(index, 1);
      }
      switch (step) {
        case 'acknowledge':
          this.history.acknowledge(incidentId, at);
          eventType = 'incident.acknowledged';
          break;
        case 'escalate':
          this.history.escalate(incidentId, at);
          eventType = 'incident.escalated';
          break;
        case 'unacknowledge':
          this.history.unacknowledge(incidentId, at);
          eventType = 'incident.unacknowledged';
          break;
        case 'priority':
          this.history.setPriority(incidentId, 'P2', at);
          eventType = 'incident.priority_updated';
          break;
        case 'resolve':
          this.history.resolve(incidentId, at);
          eventType = 'incident.resolved';
          break;
      }
    }
    const entryId = this.history.logEntryId(this.history.logEntryCount - 1);
    return {
      entryId,
      body: {
        event: {
          id: eventId,
          event_type: eventType,
          resource_type: 'incident',
          occurred_at: at.toISOString(),
          agent: null,
          client: { name: 'PagerDuty' },
          data: { id: incidentId, type: 'incident' },
        },
      },
    };
  }
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) {
        return value;
      }
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
