import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../collector/src/config.ts';
import { createKysely } from '../collector/src/db/database.ts';
import type { Database } from '../collector/src/db/schema.ts';
import {
  generatePagerDutyHistory,
  startFakePagerDuty,
  type FakePagerDuty,
  type PagerDutyHistory,
} from '@incident-lens/simulators';
import { startServe } from '../collector/src/serve/serve.ts';
import { runSync, selectSources } from '../collector/src/sync/run-sync.ts';
import { withSourceLock } from '../collector/src/sync/source-lock.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { parsePrometheusText, sampleValue } from './support/prometheus-text.ts';
import { captureLogger, incidentWebhookBody, pagerDutySignature } from './support/serve.ts';

/**
 * Two PagerDuty accounts behind one API URL, told apart by their tokens: a
 * proxy routes each token to its own simulated account. Both accounts were
 * generated from one seed, so every incident id exists in both.
 */

const HISTORY_START = new Date('2026-08-01T00:00:00Z');
const HISTORY_END = new Date('2026-11-01T00:00:00Z');
const EU_TOKEN = 'pd-eu-token-71c2a9';
const US_TOKEN = 'pd-us-token-0e4b5d';
const EU_SECRET = 'whsec-eu-5a9d0c1e';

/** One URL for both accounts: each request goes to the account its token belongs to. */
async function startTokenRouter(byToken: Record<string, string>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(async (request, response) => {
    const token = /token=(\S+)/.exec(request.headers.authorization ?? '')?.[1];
    const target = token === undefined ? undefined : byToken[token];
    if (!target) {
      response
        .writeHead(401, { 'Content-Type': 'application/json' })
        .end('{"error":{"message":"Unauthorized","code":2006}}');
      return;
    }
    const answer = await fetch(`${target}${request.url}`, { headers: request.headers as Record<string, string> });
    response.writeHead(answer.status, Object.fromEntries(answer.headers)).end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let database: TestDatabase;
/** A second pool: another process, as PostgreSQL sees it. */
let otherProcess: Kysely<Database>;
let configDir: string;
let histories: { eu: PagerDutyHistory; us: PagerDutyHistory };
let servers: FakePagerDuty[];
let router: { url: string; close(): Promise<void> };
let config: Config;
const logger = captureLogger('warn').logger;

beforeAll(async () => {
  database = await createTestDatabase();
  otherProcess = createKysely(database.url, 2);
  configDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-accounts-'));
  histories = {
    eu: generatePagerDutyHistory({ seed: 51, start: HISTORY_START, end: HISTORY_END, incidents: 40 }),
    us: generatePagerDutyHistory({ seed: 51, start: HISTORY_START, end: HISTORY_END, incidents: 40 }),
  };
  servers = [
    await startFakePagerDuty({ history: histories.eu, token: EU_TOKEN, rateLimitPerMinute: 1_000_000 }),
    await startFakePagerDuty({ history: histories.us, token: US_TOKEN, rateLimitPerMinute: 1_000_000 }),
  ];
  router = await startTokenRouter({ [EU_TOKEN]: servers[0]!.url, [US_TOKEN]: servers[1]!.url });
  const file = path.join(configDir, 'incident-lens.yaml');
  await writeFile(
    file,
    [
      'pagerduty:',
      `  since: "${HISTORY_START.toISOString().slice(0, 10)}"`,
      'sources:',
      '  - name: pd-eu',
      '    kind: pagerduty',
      `    apiUrl: ${router.url}`,
      '    tokenEnv: PAGERDUTY_EU_TOKEN',
      '    webhookSecretEnv: PAGERDUTY_EU_WEBHOOK_SECRET',
      '  - name: pd-us',
      '    kind: pagerduty',
      `    apiUrl: ${router.url}`,
      '    tokenEnv: PAGERDUTY_US_TOKEN',
      '',
    ].join('\n')
  );
  config = loadConfig(
    {
      INCIDENT_LENS_CONFIG: file,
      PAGERDUTY_EU_TOKEN: EU_TOKEN,
      PAGERDUTY_US_TOKEN: US_TOKEN,
      PAGERDUTY_EU_WEBHOOK_SECRET: EU_SECRET,
      PAGERDUTY_REQUESTS_PER_MINUTE: '1000000',
      LOG_LEVEL: 'warn',
    },
    configDir
  );
});
afterAll(async () => {
  await router?.close();
  await Promise.all((servers ?? []).map((server) => server.stop()));
  await otherProcess?.destroy();
  await database?.destroy();
  await rm(configDir, { recursive: true, force: true });
});

/** Rows per account name. */
async function perAccount(table: 'incidents' | 'incident_events' | 'sync_checkpoints') {
  const result = await sql<{ name: string; rows: number }>`
    SELECT s.name, count(t.*)::int AS rows FROM sources s LEFT JOIN ${sql.table(table)} t ON t.source_id = s.id
    GROUP BY s.name ORDER BY s.name`.execute(database.db);
  return Object.fromEntries(result.rows.map((row) => [row.name, row.rows]));
}

describe('two PagerDuty accounts behind one API URL', () => {
  it('sync into one database without collisions, each with its own checkpoint and lock', async () => {
    expect(config.sources.map(({ name, kind, baseUrl }) => ({ name, kind, baseUrl }))).toEqual([
      { name: 'pd-eu', kind: 'pagerduty', baseUrl: router.url },
      { name: 'pd-us', kind: 'pagerduty', baseUrl: router.url },
    ]);
    const syncs = selectSources(config, 'pagerduty');
    expect(syncs.map((sync) => sync.account.name)).toEqual(['pd-eu', 'pd-us']);

    // Another process holds pd-eu's lock: a scheduled sync skips pd-eu only.
    let release: () => void = () => undefined;
    let held: () => void = () => undefined;
    const isHeld = new Promise<void>((resolve) => (held = resolve));
    const holding = withSourceLock(otherProcess, config.sources[0]!, { whenBusy: 'skip', logger }, async () => {
      held();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await isHeld;
    const skipped = await runSync(database.db, syncs, { mode: 'incremental' }, logger, 'skip');
    expect(skipped.map((summary) => summary.source)).toEqual(['pd-us']);
    release();
    await holding;

    const summaries = await runSync(database.db, syncs, { mode: 'incremental' }, logger);
    expect(summaries.map(({ source, mode }) => ({ source, mode }))).toEqual([
      { source: 'pd-eu', mode: 'full' },
      { source: 'pd-us', mode: 'incremental' },
    ]);

    // Every incident id exists in both accounts: two rows each, one per account.
    expect(await perAccount('incidents')).toEqual({ 'pd-eu': 40, 'pd-us': 40 });
    expect(await perAccount('incident_events')).toEqual({
      'pd-eu': histories.eu.logEntryCount,
      'pd-us': histories.us.logEntryCount,
    });
    expect(await perAccount('sync_checkpoints')).toEqual({ 'pd-eu': 1, 'pd-us': 1 });
    const ids = await sql<{ external_id: string; accounts: number }>`
      SELECT external_id, count(*)::int AS accounts FROM incidents GROUP BY external_id`.execute(database.db);
    expect(ids.rows).toHaveLength(40);
    expect(ids.rows.every((row) => row.accounts === 2)).toBe(true);

    // A change in one account reaches that account's row only.
    const [fact] = histories.eu.expectedFacts().filter((incident) => incident.status !== 'resolved');
    expect(fact).toBeDefined();
    histories.eu.resolve(fact!.id, new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000));
    await runSync(database.db, syncs, { mode: 'incremental' }, logger);
    const statuses = await sql<{ name: string; status: string }>`
      SELECT s.name, i.status FROM incidents i JOIN sources s ON s.id = i.source_id
      WHERE i.external_id = ${fact!.id} ORDER BY s.name`.execute(database.db);
    expect(statuses.rows).toEqual([
      { name: 'pd-eu', status: 'resolved' },
      { name: 'pd-us', status: fact!.status },
    ]);
  });

  it('each has its own webhook route, freshness and /metrics label', async () => {
    const capture = captureLogger('warn');
    const serve = await startServe(
      database.db,
      { ...config, schedule: { ...config.schedule, sync: '0 0 1 1 *' } },
      capture.logger,
      {
        host: '127.0.0.1',
        port: 0,
        syncAtStart: false,
      }
    );
    try {
      expect([...serve.webhooks.keys()]).toEqual(['pd-eu']);
      const incidentId = histories.eu.addIncident({
        createdAt: new Date(Math.floor(Date.now() / 1000) * 1000 - 30_000),
        priority: 'P2',
        urgency: 'high',
        serviceIndex: 1,
      });
      const body = incidentWebhookBody('01HACCOUNTS000001', 'incident.triggered', incidentId);
      const post = (route: string, secret: string) =>
        fetch(`${serve.url}${route}`, {
          method: 'POST',
          body,
          headers: { 'X-PagerDuty-Signature': pagerDutySignature(body, secret) },
        });

      expect((await post('/webhooks/pagerduty/pd-us', EU_SECRET)).status).toBe(404);
      expect((await post('/webhooks/pagerduty', EU_SECRET)).status).toBe(404);
      expect((await post('/webhooks/pagerduty/pd-eu', 'not-the-secret')).status).toBe(403);
      expect((await post('/webhooks/pagerduty/pd-eu', EU_SECRET)).status).toBe(202);
      await serve.webhooks.get('pd-eu')!.idle();
      const stored = await sql<{ name: string }>`
        SELECT s.name FROM incidents i JOIN sources s ON s.id = i.source_id WHERE i.external_id = ${incidentId}`.execute(
        database.db
      );
      expect(stored.rows).toEqual([{ name: 'pd-eu' }]);

      const readiness = (await (await fetch(`${serve.url}/readyz`)).json()) as {
        checks: Array<{ name: string; ok: boolean }>;
      };
      expect(readiness.checks.map((check) => check.name)).toEqual([
        'database',
        'migrations',
        'pd-eu_sync_fresh',
        'pd-us_sync_fresh',
      ]);

      const families = parsePrometheusText(await (await fetch(`${serve.url}/metrics`)).text());
      for (const source of ['pd-eu', 'pd-us']) {
        expect(
          sampleValue(families, 'incident_lens_last_successful_sync_timestamp_seconds', { source })
        ).toBeGreaterThan(0);
      }
      expect(
        sampleValue(families, 'incident_lens_webhook_events_total', { source: 'pd-eu', outcome: 'accepted' })
      ).toBe(1);
      expect(
        sampleValue(families, 'incident_lens_webhook_events_total', { source: 'pd-eu', outcome: 'bad_signature' })
      ).toBe(1);
    } finally {
      await serve.stop();
    }
  });
});
