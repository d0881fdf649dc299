import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generatePagerDutyHistory, startFakePagerDuty } from '@incident-lens/simulators';
import { PD_RATE_LIMIT_PER_MINUTE } from '../../collector/src/sources/pagerduty/api-types.ts';
import { CLI, benchDatabase, figure, median } from './support.ts';
import { IncidentStorm, waitFor } from './webhook-latency.bench.ts';

const TOKEN = 'bench-soak-token';
const SECRET = 'bench-soak-secret';

/**
 * Issue 14's soak: `incident-lens serve` (the real CLI, a child process)
 * against the simulated PagerDuty at its published rate limit, a signed
 * webhook every second and a scheduled sync every minute, for SOAK_MINUTES
 * (default 30). Its memory, read from its own /metrics (the median of a
 * minute's samples), after SOAK_FIRST_MINUTES (default 5) and at the end: a
 * leak shows as growth between the two.
 */
export async function benchSoak(
  minutes = Number(process.env.SOAK_MINUTES ?? 30),
  firstMinutes = Number(process.env.SOAK_FIRST_MINUTES ?? 5)
): Promise<void> {
  console.log(`\nserve soak: ${minutes} min, a webhook every second, a sync every minute`);
  const now = Date.now();
  const history = generatePagerDutyHistory({
    seed: 1400,
    start: new Date(Math.floor((now - 30 * 86_400_000) / 1000) * 1000),
    end: new Date(Math.floor((now - 3_600_000) / 1000) * 1000),
    incidents: 2000,
  });
  const pagerDuty = await startFakePagerDuty({ history, token: TOKEN, rateLimitPerMinute: PD_RATE_LIMIT_PER_MINUTE });
  const database = await benchDatabase(`bench_soak_${Date.now()}`);
  const directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-soak-'));
  const configPath = path.join(directory, 'incident-lens.yaml');
  await writeFile(configPath, "schedule:\n  sync: '* * * * *'\n");
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      PAGERDUTY_TOKEN: TOKEN,
      PAGERDUTY_API_URL: pagerDuty.url,
      PAGERDUTY_WEBHOOK_SECRET: SECRET,
      INCIDENT_LENS_CONFIG: configPath,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  let syncs = 0;
  child.stderr.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    syncs += text.split('"sync finished"').length - 1;
    // Only the start (the URL) and the tail (for a failure) are read: the log must not grow here.
    stderr = (stderr.length < 100_000 ? stderr : stderr.slice(0, 20_000) + stderr.slice(-20_000)) + text;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
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
    const storm = new IncidentStorm(history, 0x50a4);
    const started = performance.now();
    let sent = 0;
    let refused = 0;
    let first: Memory | undefined;
    let last: Memory | undefined;
    for (let minute = 1; minute <= minutes; minute++) {
      // Memory swings with the collector's cycles: each minute's figure is the median of six samples.
      const samples: Memory[] = [];
      while (performance.now() - started < minute * 60_000) {
        const due = started + sent * 1000;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
        const body = JSON.stringify(storm.next(`soak-${sent}`).body);
        const response = await fetch(`${url}/webhooks/pagerduty`, {
          method: 'POST',
          body,
          headers: {
            'Content-Type': 'application/json',
            'X-PagerDuty-Signature': `v1=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
          },
        });
        await response.arrayBuffer();
        sent++;
        refused += response.status === 202 ? 0 : 1;
        if (sent % 10 === 0) {
          samples.push(await readMemory(url));
        }
      }
      last = {
        rss: median(samples.map((sample) => sample.rss)),
        heapUsed: median(samples.map((sample) => sample.heapUsed)),
      };
      console.log(
        `  minute ${String(minute).padStart(3)}: RSS ${mb(last.rss)}, heap used ${mb(last.heapUsed)} (medians), ${sent} webhooks, ${syncs} syncs`
      );
      if (minute === firstMinutes) {
        first = last;
      }
    }
    figure('webhooks sent (not answered 202)', `${sent} (${refused})`);
    figure('scheduled syncs finished', String(syncs));
    if (first && last) {
      figure(`RSS after ${firstMinutes} min`, mb(first.rss));
      figure(`RSS after ${minutes} min`, mb(last.rss), `within 10 % of ${mb(first.rss)}`);
      figure('RSS change', `${(((last.rss - first.rss) / first.rss) * 100).toFixed(1)} %`, '<= 10 %');
      figure(`heap used after ${firstMinutes} min`, mb(first.heapUsed));
      figure(`heap used after ${minutes} min`, mb(last.heapUsed));
    }
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    if (code !== 0) {
      console.error(`serve exited ${code}:\n${stderr.slice(-3000)}`);
    }
    await pagerDuty.stop();
    await database.stop();
    await rm(directory, { recursive: true, force: true });
  }
}

interface Memory {
  rss: number;
  heapUsed: number;
}

/** Resident set and used heap, from serve's own Prometheus metrics. */
async function readMemory(url: string): Promise<Memory> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => {
    const match = new RegExp(`^${name} (\\d+(?:\\.\\d+)?(?:e\\+\\d+)?)`, 'm').exec(text);
    if (!match) {
      throw new Error(`/metrics has no ${name}`);
    }
    return Number(match[1]);
  };
  return { rss: value('process_resident_memory_bytes'), heapUsed: value('nodejs_heap_size_used_bytes') };
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
