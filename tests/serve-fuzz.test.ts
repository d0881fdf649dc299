import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './support/cli.ts';
import {
  type FakePagerDuty,
  generatePagerDutyHistory,
  type PagerDutyHistory,
  startFakePagerDuty,
} from '@incident-lens/simulators';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import {
  TEST_TOKEN,
  TEST_WEBHOOK_SECRET,
  eventually,
  incidentWebhookBody,
  pagerDutySignature,
} from './support/serve.ts';

/**
 * `serve` as a user runs it, in its own process, under thousands of hostile
 * requests sent over raw sockets: afterwards it must still answer its probes,
 * still apply a signed webhook, and hold about the memory it held before.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const REQUESTS = 5000;
/** Sockets open at once during the random phase. */
const PARALLEL = 64;
/** Connections opened at once in the flood phase, past the server's limit of 1024. */
const FLOOD = 2000;
/** Growth of the resident set over the run that still counts as bounded. */
const RSS_GROWTH_LIMIT_MB = 64;

let history: PagerDutyHistory;
let pagerDuty: FakePagerDuty;
let database: TestDatabase;
let configDir: string;
let serve: { child: ChildProcess; port: number; stderr(): string; exited: Promise<number | null> };

/** mulberry32: small, seeded, the same draws on every machine. */
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

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((candidate) => candidate.startsWith('VmRSS:'))!;
  return Number(/(\d+)/.exec(line)![1]);
}

/** One hostile exchange: how the bytes go out, and how long to wait for the server before hanging up. */
interface Exchange {
  kind: string;
  parts: Array<string | Buffer>;
  /** Hang up after sending, without waiting for an answer (a client that vanishes). */
  abandon?: boolean;
  /** The request may be incomplete, so the server rightly waits for more: hang up after a short wait. */
  mayWait?: boolean;
}

function makeGenerator(draw: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(draw() * items.length)]!;
  const int = (max: number) => Math.floor(draw() * max);
  const bytes = (length: number) => Buffer.from(Array.from({ length }, () => int(256)));
  const paths = [
    '/healthz',
    '/readyz',
    '/metrics',
    '/webhooks/pagerduty',
    '/',
    '//[',
    '/%',
    '/%zz',
    '/..%2f..%2fetc/passwd',
    `/${'a'.repeat(9000)}`,
    '/?x=[',
    '//[::1',
    '/\u00e9\u4e2d',
    'http://[',
    '*',
  ];
  const methods = [
    'GET',
    'POST',
    'HEAD',
    'PUT',
    'DELETE',
    'OPTIONS',
    'PATCH',
    'TRACE',
    'CONNECT',
    'FOO',
    'G ET',
    'GET\u0000',
    'get',
    '',
  ];
  const signedBody = (eventId: string) => incidentWebhookBody(eventId, 'incident.acknowledged', 'QNOSUCHINCIDENT');

  const generators: Record<string, () => Exchange> = {
    'malformed URL from the issue': () => ({
      kind: 'malformed URL from the issue',
      parts: ['GET //[ HTTP/1.1\r\nHost: x\r\n\r\n'],
    }),
    'random request line': () => ({
      kind: 'random request line',
      parts: [
        `${pick(methods)} ${pick(paths)} ${pick(['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 extra', 'HTTP/9', ''])}\r\nHost: x\r\n\r\n`,
      ],
    }),
    'random bytes': () => ({ kind: 'random bytes', parts: [bytes(1 + int(2048))] }),
    'random bytes after a request line': () => ({
      kind: 'random bytes after a request line',
      parts: ['POST /webhooks/pagerduty HTTP/1.1\r\n', bytes(1 + int(512))],
      mayWait: true,
    }),
    'oversized header': () => ({
      kind: 'oversized header',
      parts: [`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(17_000 + int(40_000))}\r\n\r\n`],
    }),
    'too many headers': () => ({
      kind: 'too many headers',
      parts: [
        `GET /readyz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 150 + int(400) }, (_, i) => `X-H${i}: ${i}\r\n`).join('')}\r\n`,
      ],
    }),
    'duplicated headers': () => ({
      kind: 'duplicated headers',
      parts: [
        pick([
          'POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello',
          'GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
          'POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nX-PagerDuty-Signature: v1=00\r\nX-PagerDuty-Signature: v1=zz\r\nContent-Length: 2\r\n\r\n{}',
          'POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
          'POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n',
        ]),
      ],
    }),
    'bad chunked encoding': () => ({
      kind: 'bad chunked encoding',
      parts: [
        'POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-PagerDuty-Signature: v1=' +
          '0'.repeat(64) +
          '\r\n\r\n',
        pick([
          'zz\r\nabc\r\n0\r\n\r\n',
          '5\r\nab\r\n',
          'ffffffffffffffffff\r\n',
          '3\r\nabcdef\r\n0\r\n\r\n',
          '-1\r\n\r\n',
          '3;ext="\r\nabc\r\n',
          '\r\n\r\n',
        ]),
      ],
      mayWait: true,
    }),
    'body stops halfway': () => ({
      kind: 'body stops halfway',
      parts: [
        `POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-PagerDuty-Signature: ${pagerDutySignature('x', TEST_WEBHOOK_SECRET)}\r\nContent-Length: ${1000 + int(100_000)}\r\n\r\n`,
        '{"event":{"id":"',
      ],
      abandon: true,
    }),
    'body larger than the limit': () => ({
      kind: 'body larger than the limit',
      parts: [
        `POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nContent-Length: ${300 * 1024}\r\n\r\n`,
        Buffer.alloc(300 * 1024, 0x7b),
      ],
    }),
    'signed webhook for an incident PagerDuty does not have': () => {
      const body = signedBody(`01FUZZ${int(1e9)}`);
      return {
        kind: 'signed webhook for an incident PagerDuty does not have',
        parts: [
          `POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-PagerDuty-Signature: ${pagerDutySignature(body, TEST_WEBHOOK_SECRET)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        ],
      };
    },
    'signed garbage': () => {
      const body = pick([
        '',
        'null',
        '[]',
        '{"event":null}',
        '{"event":{"id":1}}',
        bytes(64).toString('latin1'),
        '{"event":{"id":"x","event_type":"incident.resolved","data":{"id":"../../"}}}',
      ]);
      return {
        kind: 'signed garbage',
        parts: [
          `POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nX-PagerDuty-Signature: ${pagerDutySignature(body, TEST_WEBHOOK_SECRET)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        ],
      };
    },
    'bad signature': () => ({
      kind: 'bad signature',
      parts: [
        `POST /webhooks/pagerduty HTTP/1.1\r\nHost: x\r\nX-PagerDuty-Signature: ${pick(['', 'v1=', 'v1=' + 'f'.repeat(64), 'v0=abc,v1=' + 'g'.repeat(64), ',,,,', 'v1=' + 'a'.repeat(100_00)])}\r\nContent-Length: 2\r\n\r\n{}`,
      ],
    }),
    'broken line endings': () => ({
      kind: 'broken line endings',
      parts: [
        pick([
          'GET /healthz HTTP/1.1\nHost: x\n\n',
          'GET /healthz HTTP/1.1\rHost: x\r\r',
          'GET /healthz HTTP/1.1\r\nHost x\r\n\r\n',
          'GET /healthz HTTP/1.1\r\n Host: x\r\n\r\n',
          'GET\t/healthz\tHTTP/1.1\r\n\r\n',
          'GET /healthz HTTP/1.1\r\nHost: \u0000\r\n\r\n',
        ]),
      ],
    }),
    'pipelined requests': () => ({
      kind: 'pipelined requests',
      parts: [
        Array.from(
          { length: 2 + int(30) },
          () => `GET ${pick(['/healthz', '/readyz', '/metrics', '//['])} HTTP/1.1\r\nHost: x\r\n\r\n`
        ).join(''),
      ],
    }),
    'request sent a byte at a time': () => ({
      kind: 'request sent a byte at a time',
      parts: [...'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'],
    }),
    'connects and hangs up': () => ({ kind: 'connects and hangs up', parts: [], abandon: true }),
  };
  const kinds = Object.keys(generators);
  return () => generators[pick(kinds)]!();
}

/** Sends one exchange on a new socket; resolves with the status the server answered, or 'closed'. */
function exchange(port: number, plan: Exchange, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    let settled = false;
    const finish = (outcome: string) => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish(received ? statusOf(received) : 'no answer'), waitMs);
    socket.on('error', () => finish(received ? statusOf(received) : 'closed'));
    socket.on('close', () => finish(received ? statusOf(received) : 'closed'));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      // One status line is enough to classify the exchange.
      if (/\r\n\r\n/.test(received)) {
        finish(statusOf(received));
      }
    });
    socket.on('connect', async () => {
      for (const part of plan.parts) {
        if (socket.destroyed) {
          return;
        }
        socket.write(part);
        if (plan.parts.length > 2) {
          await new Promise((next) => setImmediate(next));
        }
      }
      if (plan.abandon) {
        finish('abandoned');
      }
    });
  });
}

function statusOf(text: string): string {
  return /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 'garbage';
}

async function get(port: number, pathname: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}${pathname}`);
  await response.arrayBuffer();
  return response.status;
}

beforeAll(async () => {
  history = generatePagerDutyHistory({
    seed: 7,
    start: new Date(Date.now() - 20 * 86_400_000),
    end: new Date(Date.now() - 86_400_000),
    incidents: 40,
  });
  pagerDuty = await startFakePagerDuty({ history, token: TEST_TOKEN, rateLimitPerMinute: 1_000_000 });
  database = await createTestDatabase();
  configDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-fuzz-'));
  const since = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  // Only the sync at start-up runs: the next tick is next new year.
  await writeFile(
    path.join(configDir, 'incident-lens.yaml'),
    `schedule:\n  sync: "0 0 1 1 *"\npagerduty:\n  since: "${since}"\n`
  );

  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: {
      PATH: process.env.PATH,
      DATABASE_URL: database.url,
      PAGERDUTY_TOKEN: TEST_TOKEN,
      PAGERDUTY_API_URL: pagerDuty.url,
      PAGERDUTY_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      PAGERDUTY_REQUESTS_PER_MINUTE: '1000000',
      INCIDENT_LENS_CONFIG: path.join(configDir, 'incident-lens.yaml'),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await eventually(
    async () => {
      const line = stderr.split('\n').find((candidate) => candidate.includes('"msg":"http server listening"'));
      return line ? (JSON.parse(line) as { port: number }).port : undefined;
    },
    60_000,
    'serve to listen'
  );
  serve = { child, port, stderr: () => stderr, exited };
  await eventually(
    async () => {
      const run = await database.db
        .selectFrom('sync_runs')
        .select('outcome')
        .where('outcome', '=', 'succeeded')
        .executeTakeFirst();
      return run ? true : undefined;
    },
    60_000,
    'the first sync'
  );
});

afterAll(async () => {
  if (serve && serve.child.exitCode === null) {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
  await pagerDuty?.stop();
  await database?.destroy();
  if (configDir) {
    await rm(configDir, { recursive: true, force: true });
  }
});

describe('serve under hostile requests', () => {
  it('answers the request line GET //[ with 400 and keeps running', async () => {
    expect(await exchange(serve.port, { kind: 'issue', parts: ['GET //[ HTTP/1.1\r\nHost: x\r\n\r\n'] }, 5000)).toBe(
      '400'
    );
    expect(await get(serve.port, '/healthz')).toBe(200);
  });

  it(`survives ${REQUESTS} random and malformed requests and ${FLOOD} connections at once, then still serves`, async () => {
    const { pid } = serve.child;
    // Warm up the paths the fuzz exercises, so that the baseline holds what a working server holds.
    for (let i = 0; i < 20; i += 1) {
      await Promise.all([get(serve.port, '/healthz'), get(serve.port, '/readyz'), get(serve.port, '/metrics')]);
    }
    // And the fuzz itself, a fifth of it with another seed: Node 24 sizes its heaps to such a load
    // (about 50 MB, where Node 20 takes about 25) and keeps them. Growth beyond that is what the bound is for.
    const warmUp = makeGenerator(random(SEED + 1));
    let warmed = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (warmed < REQUESTS / 5) {
          warmed += 1;
          const plan = warmUp();
          await exchange(serve.port, plan, plan.mayWait ? 1000 : 10_000);
        }
      })
    );
    const rssBefore = rssKb(pid!);

    const next = makeGenerator(random(SEED));
    const outcomes = new Map<string, Map<string, number>>();
    const mayWaitKinds = new Set<string>();
    let sent = 0;
    const worker = async () => {
      while (sent < REQUESTS) {
        sent += 1;
        const plan = next();
        if (plan.mayWait) {
          mayWaitKinds.add(plan.kind);
        }
        // Complete requests get time for an answer even on a loaded machine; incomplete ones a short wait.
        const outcome = await exchange(serve.port, plan, plan.mayWait ? 1000 : 10_000);
        const byKind = outcomes.get(plan.kind) ?? new Map<string, number>();
        byKind.set(outcome, (byKind.get(outcome) ?? 0) + 1);
        outcomes.set(plan.kind, byKind);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    expect(serve.child.exitCode, serve.stderr().slice(-4000)).toBeNull();

    // Thousands of connections at once: each is served, answered or closed; none ends the process.
    const flood = await Promise.all(
      Array.from({ length: FLOOD }, () =>
        exchange(serve.port, { kind: 'flood', parts: ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'] }, 15_000)
      )
    );
    const floodOutcomes = new Map<string, number>();
    for (const outcome of flood) {
      floodOutcomes.set(outcome, (floodOutcomes.get(outcome) ?? 0) + 1);
    }

    // Clients that connect and send nothing are let go by the server's header timeout.
    const silent = await Promise.all(
      Array.from({ length: 20 }, () => exchange(serve.port, { kind: 'silent', parts: [] }, 20_000))
    );

    expect(serve.child.exitCode, serve.stderr().slice(-4000)).toBeNull();
    expect(await get(serve.port, '/healthz')).toBe(200);
    const rssAfter = rssKb(pid!);

    // A signed webhook for an incident PagerDuty opened just now is still applied to the database.
    const incidentId = history.addIncident({
      createdAt: new Date(Date.now() - 30_000),
      priority: 'P1',
      urgency: 'high',
      serviceIndex: 0,
    });
    const body = incidentWebhookBody('01FUZZFINALEVENT', 'incident.triggered', incidentId);
    const answer = await fetch(`http://127.0.0.1:${serve.port}/webhooks/pagerduty`, {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'X-PagerDuty-Signature': pagerDutySignature(body, TEST_WEBHOOK_SECRET),
      },
    });
    expect(answer.status).toBe(202);
    const stored = await eventually(
      () =>
        database.db
          .selectFrom('incidents')
          .select(['external_id', 'priority_raw'])
          .where('external_id', '=', incidentId)
          .executeTakeFirst(),
      15_000,
      'the webhook incident in the database',
      100
    );
    expect(stored.priority_raw).toBe('P1');
    // Events for an incident PagerDuty does not have are settled once (processed, with the reason), not replayed at every start.
    const unknown = await eventually(
      async () => {
        const rows = await database.db
          .selectFrom('webhook_events')
          .select(['processed_at', 'error'])
          .where('incident_external_id', '=', 'QNOSUCHINCIDENT')
          .execute();
        return rows.length > 0 && rows.every((row) => row.processed_at !== null) ? rows : undefined;
      },
      30_000,
      'the events of the unknown incident to be settled',
      200
    );
    expect(new Set(unknown.map((row) => row.error))).toEqual(new Set(['PagerDuty has no incident QNOSUCHINCIDENT']));

    const total = sent + FLOOD + silent.length + 1;
    const report = [...outcomes].map(
      ([kind, counts]) => `  ${kind}: ${[...counts].map(([outcome, n]) => `${outcome}×${n}`).join(' ')}`
    );
    console.log(
      [
        `fuzz seed ${SEED}: ${total} requests over raw sockets (${sent} random, ${FLOOD} at once, ${silent.length} silent, 1 signed webhook)`,
        ...report,
        `  flood: ${[...floodOutcomes].map(([outcome, n]) => `${outcome}×${n}`).join(' ')}`,
        `  silent: ${[...new Set(silent)].join(' ')}`,
        `serve RSS ${(rssBefore / 1024).toFixed(1)} MB before, ${(rssAfter / 1024).toFixed(1)} MB after (bound: +${RSS_GROWTH_LIMIT_MB} MB)`,
      ].join('\n')
    );

    expect(total).toBeGreaterThanOrEqual(5000);
    // Nothing the server said was anything but an HTTP answer or a closed connection,
    // and every complete request got one or the other.
    for (const [kind, counts] of outcomes) {
      expect(
        [...counts.keys()].filter((outcome) => outcome === 'garbage'),
        kind
      ).toEqual([]);
      if (!mayWaitKinds.has(kind)) {
        expect(counts.get('no answer'), kind).toBeUndefined();
      }
    }
    // The malformed URL of the issue is always a 400.
    expect([...(outcomes.get('malformed URL from the issue')?.keys() ?? [])]).toEqual(['400']);
    // Every silent client was let go, not held forever.
    expect(silent.filter((outcome) => outcome === 'no answer')).toEqual([]);
    expect(rssAfter - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MB * 1024);
    // Escaped errors would be logged by the safety net: a hostile request must not even get that far.
    expect(serve.stderr()).not.toContain('escaped every handler');
    expect(serve.stderr()).not.toContain(TEST_WEBHOOK_SECRET);
  }, 120_000);
});
