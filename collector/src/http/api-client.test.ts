import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.ts';
import { ApiClient, type ApiDialect } from './api-client.ts';

// The client paces requests by a token bucket and the server's sliding
// window. Both run on the monotonic clock: when the wall clock steps (NTP
// corrects it, a virtual machine resumes), a sync must neither stall for the
// size of the step nor burst past the server's window.

const dialect: ApiDialect = {
  sourceName: 'Test API',
  credentialHint: 'TEST_TOKEN',
  retryAfterSeconds: () => undefined,
  describeError: (status) => `HTTP ${status}`,
};

let server: Server;
let baseUrl: string;
/** When each request arrived, on the monotonic clock. */
let arrivals: number[] = [];

beforeAll(async () => {
  server = createServer((_request, response) => {
    arrivals.push(performance.now());
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  vi.restoreAllMocks();
  arrivals = [];
});

/** Ten requests in any second, five at once. */
function client(): ApiClient {
  return new ApiClient({
    baseUrl,
    headers: {},
    dialect,
    logger: createLogger('error', new Writable({ write: (_chunk, _encoding, done) => done() })),
    requestsPerMinute: 600,
    burstRequests: 5,
    rateWindowMs: 1000,
  });
}

async function send(api: ApiClient, count: number): Promise<void> {
  for (let index = 0; index < count; index++) {
    await api.get('/ping');
  }
}

/** The wall clock from now on reads `stepMs` off. */
function stepWallClock(stepMs: number): void {
  const wallNow = Date.now.bind(Date);
  vi.spyOn(Date, 'now').mockImplementation(() => wallNow() + stepMs);
}

/** The most requests that arrived within any `windowMs`. */
function busiestWindow(windowMs: number): number {
  let most = 0;
  for (let first = 0, last = 0; last < arrivals.length; last++) {
    while (arrivals[last]! - arrivals[first]! >= windowMs) {
      first++;
    }
    most = Math.max(most, last - first + 1);
  }
  return most;
}

describe('ApiClient pacing when the wall clock steps', () => {
  it('goes on at its rate after the wall clock steps ten minutes back', async () => {
    const api = client();
    await send(api, 5);
    stepWallClock(-600_000);
    const started = performance.now();
    await send(api, 10);
    const elapsed = performance.now() - started;
    expect(arrivals).toHaveLength(15);
    // Paced (the burst is spent: ten more at ten a second), not stalled for the step.
    expect(elapsed).toBeGreaterThan(800);
    expect(elapsed).toBeLessThan(10_000);
  }, 30_000);

  it('keeps to the window after the wall clock steps ten minutes forward', async () => {
    const api = client();
    await send(api, 10);
    stepWallClock(600_000);
    await send(api, 10);
    expect(arrivals).toHaveLength(20);
    expect(busiestWindow(1000)).toBeLessThanOrEqual(10);
  }, 30_000);
});
