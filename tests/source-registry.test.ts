import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../collector/src/config.ts';
import type { Database } from '../collector/src/db/schema.ts';
import { UsageError } from '../collector/src/errors.ts';
import { ApiClient } from '../collector/src/http/api-client.ts';
import { tokenPages } from '../collector/src/http/paging.ts';
import { createLogger } from '../collector/src/logger.ts';
import { registerSourceKind, unregisterSourceKind, type SourceKind } from '../collector/src/sources/registry.ts';
import type { BatchAdapter, WriteResult } from '../collector/src/sync/batch-writer.ts';
import { runSync, selectSources } from '../collector/src/sync/run-sync.ts';
import type { SourceAccount } from '../collector/src/sync/source.ts';
import { upsertIncidents, type IncidentRow, type QuarantinedRecord } from '../collector/src/sync/store.ts';
import { runSyncPlan } from '../collector/src/sync/sync-plan.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

/**
 * The proof that a source is an adapter: a kind defined here, against a
 * tiny alerting API with next-page-token paging, registered at run time and
 * synced through the shared skeleton into the database, with no other file
 * touched.
 */

const KIND = 'alert-feed';
const TOKEN = 'feed-token-8d1f0c';

interface FeedAlert {
  id: string;
  title: string;
  openedAt: string;
  closedAt: string | null;
  changedAt: string;
}

/** GET /alerts?changedSince=<ISO>&pageToken=<t>: three alerts a page, `next` until the last. */
async function startAlertFeed(
  alerts: FeedAlert[]
): Promise<{ url: string; queries: URLSearchParams[]; close(): Promise<void> }> {
  const queries: URLSearchParams[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://feed');
    if (request.headers.authorization !== `Bearer ${TOKEN}`) {
      response.writeHead(401).end('{"error":"bad token"}');
      return;
    }
    queries.push(url.searchParams);
    const since = Date.parse(url.searchParams.get('changedSince') ?? '1970-01-01T00:00:00Z');
    const matching = alerts.filter((alert) => Date.parse(alert.changedAt) >= since);
    const start = Number(url.searchParams.get('pageToken') ?? '0');
    const page = matching.slice(start, start + 3);
    const next = start + 3 < matching.length ? String(start + 3) : undefined;
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ alerts: page, next }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    queries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface FeedAccount extends SourceAccount {
  token: string;
}

type FeedRecord = { alert: FeedAlert; row: IncidentRow };

/** Maps alerts to incident rows; one page per write. */
class FeedBatch implements BatchAdapter<FeedAlert[], FeedRecord> {
  private records: FeedRecord[] = [];
  private rejected: QuarantinedRecord[] = [];

  get buffered(): number {
    return this.records.length + this.rejected.length;
  }

  add(alerts: FeedAlert[]): void {
    for (const alert of alerts) {
      if (Number.isNaN(Date.parse(alert.openedAt))) {
        this.rejected.push({
          recordKind: `${KIND}.alert`,
          externalId: alert.id,
          reason: 'openedAt is not a date',
          payload: alert,
        });
        continue;
      }
      this.records.push({
        alert,
        row: {
          externalId: alert.id,
          number: null,
          title: alert.title,
          status: alert.closedAt ? 'resolved' : 'triggered',
          urgency: null,
          priorityRaw: null,
          severity: 'UNKNOWN',
          serviceExternalId: null,
          teamExternalId: null,
          createdAt: alert.openedAt,
          acknowledgedAt: null,
          resolvedAt: alert.closedAt,
          merged: false,
          htmlUrl: null,
          sourceUpdatedAt: alert.changedAt,
        },
      });
    }
  }

  async take() {
    const taken = { units: this.records, rejected: this.rejected };
    this.records = [];
    this.rejected = [];
    return taken;
  }

  async write(trx: Transaction<Database>, sourceId: number, records: FeedRecord[]): Promise<WriteResult> {
    const ids = await upsertIncidents(
      trx,
      sourceId,
      records.map((record) => record.row),
      new Map(),
      new Map()
    );
    return { records: ids.size, events: 0, rejected: [] };
  }

  refused(record: FeedRecord, reason: string): QuarantinedRecord {
    return { recordKind: `${KIND}.alert`, externalId: record.alert.id, reason, payload: record.alert };
  }
}

const alertFeedKind: SourceKind<FeedAccount> = {
  kind: KIND,
  label: 'Alert feed',
  entry: z.strictObject({ url: z.url(), tokenEnv: z.string() }),
  account(name, raw, env) {
    const entry = raw as { url: string; tokenEnv: string };
    const token = env[entry.tokenEnv];
    if (!token) {
      throw new UsageError(`sources: '${name}' reads its token from ${entry.tokenEnv}, which is not set`);
    }
    return { name, kind: KIND, baseUrl: entry.url, token };
  },
  accountFromEnv: () => undefined,
  setupHint: 'list an alert-feed account under sources:',
  createSync(account) {
    return {
      account,
      run(db, request, logger) {
        const api = new ApiClient({
          baseUrl: account.baseUrl,
          headers: { Authorization: `Bearer ${account.token}` },
          dialect: {
            sourceName: 'Alert feed',
            credentialHint: 'the account token',
            retryAfterSeconds: () => undefined,
            describeError: (status) => `HTTP ${status}`,
          },
          logger,
          signal: request.signal,
        });
        return runSyncPlan(
          db,
          {
            account,
            historyStart: new Date('2026-01-01T00:00:00Z'),
            requestCount: () => api.requestCount,
            flushRecords: 0,
            batch: new FeedBatch(),
            streams: [
              {
                checkpoint: 'alerts',
                overlapMs: 60_000,
                async *read(window) {
                  const pages = tokenPages(async (pageToken) => {
                    const body = await api.get<{ alerts: FeedAlert[]; next?: string }>('/alerts', {
                      changedSince: window.since.toISOString(),
                      pageToken,
                    });
                    return { page: body.alerts, next: body.next };
                  }, 'alert feed');
                  for await (const alerts of pages) {
                    yield { page: alerts, size: alerts.length, stage: 'alerts' };
                  }
                },
              },
            ],
          },
          request,
          logger
        );
      },
    };
  },
};

const logger = createLogger('error');
let database: TestDatabase;
let configDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  configDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-registry-'));
});
afterAll(async () => {
  unregisterSourceKind(KIND);
  await database.destroy();
  await rm(configDir, { recursive: true, force: true });
});

async function configFor(sources: unknown[], env: Record<string, string>) {
  const file = path.join(configDir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, JSON.stringify({ sources }));
  return loadConfig({ INCIDENT_LENS_CONFIG: file, ...env }, configDir);
}

function alert(n: number, changedAt: string, extra: Partial<FeedAlert> = {}): FeedAlert {
  return { id: `AL-${n}`, title: `alert ${n}`, openedAt: '2026-03-01T10:00:00Z', closedAt: null, changedAt, ...extra };
}

describe('a source kind registered at run time', () => {
  it('is refused in the configuration until it is registered', async () => {
    await expect(
      configFor([{ name: 'feed', kind: KIND, url: 'http://127.0.0.1:9', tokenEnv: 'FEED_TOKEN' }], {})
    ).rejects.toThrow(/unknown source kind 'alert-feed'/);
  });

  it('syncs through the skeleton: paging, checkpoint, sync runs, and the quarantine of a record PostgreSQL refuses', async () => {
    registerSourceKind(alertFeedKind);
    const alerts = Array.from({ length: 8 }, (_, index) => alert(index + 1, `2026-03-0${index + 1}T12:00:00Z`));
    alerts.push(alert(9, '2026-03-09T12:00:00Z', { title: 'nul \u0000 inside' }));
    const feed = await startAlertFeed(alerts);
    try {
      const config = await configFor([{ name: 'feed-eu', kind: KIND, url: feed.url, tokenEnv: 'FEED_EU_TOKEN' }], {
        FEED_EU_TOKEN: TOKEN,
      });
      expect(config.sources).toEqual([{ name: 'feed-eu', kind: KIND, baseUrl: feed.url, token: TOKEN }]);
      // By account name and by kind.
      expect(selectSources(config, KIND).map((sync) => sync.account.name)).toEqual(['feed-eu']);
      const [summary] = await runSync(database.db, selectSources(config, 'feed-eu'), { mode: 'incremental' }, logger);
      expect(summary).toMatchObject({
        source: 'feed-eu',
        kind: KIND,
        mode: 'full',
        recordsUpserted: 8,
        quarantined: 1,
      });
      // Nine alerts, three a page: three pages through the next-page token.
      expect(feed.queries.map((query) => query.get('pageToken'))).toEqual([null, '3', '6']);

      const rows = await database.db
        .selectFrom('incidents')
        .innerJoin('sources', 'sources.id', 'incidents.source_id')
        .select(['incidents.external_id', 'incidents.status', 'sources.name', 'sources.kind'])
        .orderBy('incidents.external_id')
        .execute();
      expect(rows).toEqual(
        alerts.slice(0, 8).map((row) => ({ external_id: row.id, status: 'triggered', name: 'feed-eu', kind: KIND }))
      );
      const [quarantined] = await database.db
        .selectFrom('ingest_errors')
        .select(['record_kind', 'external_id', 'reason'])
        .execute();
      expect(quarantined).toEqual({
        record_kind: `${KIND}.alert`,
        external_id: 'AL-9',
        reason: expect.stringContaining('SQLSTATE 22021'),
      });

      // The next sync asks from its checkpoint, less the overlap, and sees a change.
      alerts[0] = alert(1, new Date().toISOString(), { closedAt: '2026-03-01T11:00:00Z' });
      const checkpoint = await database.db
        .selectFrom('sync_checkpoints')
        .select(['stream', 'cursor_at'])
        .executeTakeFirstOrThrow();
      expect(checkpoint.stream).toBe('alerts');
      feed.queries.length = 0;
      const [next] = await runSync(database.db, selectSources(config, 'all'), { mode: 'incremental' }, logger);
      expect(next).toMatchObject({ mode: 'incremental' });
      expect(feed.queries[0]!.get('changedSince')).toBe(
        new Date(checkpoint.cursor_at.getTime() - 60_000).toISOString()
      );
      const closed = await database.db
        .selectFrom('incidents')
        .select('status')
        .where('external_id', '=', 'AL-1')
        .executeTakeFirstOrThrow();
      expect(closed.status).toBe('resolved');
      const runs = await database.db.selectFrom('sync_runs').select('outcome').execute();
      expect(runs.map((run) => run.outcome)).toEqual(['succeeded', 'succeeded']);
    } finally {
      await feed.close();
    }
  });

  it('refuses unknown keys of its entries, naming them', async () => {
    await expect(
      configFor([{ name: 'feed', kind: KIND, url: 'http://127.0.0.1:9', tokenEnv: 'T', colour: 'red' }], { T: 'x' })
    ).rejects.toThrow(/sources\[0\]: unknown key 'colour'/);
  });
});
