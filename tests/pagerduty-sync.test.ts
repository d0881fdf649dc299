import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakePagerDuty,
  type FakePagerDutyOptions,
  generatePagerDutyHistory,
  type PagerDutyHistory,
  startFakePagerDuty,
} from '@incident-lens/simulators';
import { AuthError, InterruptedError } from '../collector/src/errors.ts';
import { createLogger } from '../collector/src/logger.ts';
import { PagerDutySync, type PagerDutySyncOptions } from '../collector/src/sources/pagerduty/sync.ts';
import type { SyncRequest } from '../collector/src/sync/source.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const logger = createLogger('error');
const TOKEN = 'test-token-0123456789';
const START = new Date('2026-01-01T00:00:00Z');
const END = new Date('2026-04-01T00:00:00Z');

let database: TestDatabase;
const servers: FakePagerDuty[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.destroy();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
  // Each test starts from empty tables.
  await database.db.deleteFrom('incident_events').execute();
  await database.db.deleteFrom('incidents').execute();
  for (const table of [
    'users',
    'services',
    'teams',
    'sync_checkpoints',
    'ingest_errors',
    'sync_runs',
    'sources',
  ] as const) {
    await database.db.deleteFrom(table).execute();
  }
});

async function serve(history: PagerDutyHistory, options: Partial<FakePagerDutyOptions> = {}): Promise<FakePagerDuty> {
  const server = await startFakePagerDuty({ history, token: TOKEN, rateLimitPerMinute: 1_000_000, ...options });
  servers.push(server);
  return server;
}

function syncFor(server: FakePagerDuty, options: Partial<PagerDutySyncOptions> = {}): PagerDutySync {
  return new PagerDutySync({
    apiUrl: server.url,
    token: TOKEN,
    historyStart: START,
    severity: { map: {}, fromUrgency: {} },
    requestsPerMinute: 1_000_000,
    backoffBaseMs: 2,
    now: () => END,
    ...options,
  });
}

function run(sync: PagerDutySync, request: Partial<SyncRequest> = {}) {
  return sync.run(database.db, { mode: 'incremental', ...request }, logger);
}

/** The stored incidents in a comparable form, ordered by external id. */
async function storedIncidents() {
  const rows = await database.db
    .selectFrom('incidents')
    .select([
      'external_id',
      'status',
      'severity',
      'priority_raw',
      'created_at',
      'acknowledged_at',
      'resolved_at',
      'merged',
      'escalated',
      'unack_count',
    ])
    .orderBy('external_id')
    .execute();
  return rows.map((row) => ({
    id: row.external_id,
    status: row.status,
    severity: row.severity,
    createdAt: row.created_at.toISOString(),
    firstAckAt: row.acknowledged_at?.toISOString() ?? null,
    resolvedAt: row.resolved_at?.toISOString() ?? null,
    merged: row.merged,
    escalated: row.escalated,
    unackCount: row.unack_count,
  }));
}

function expectedIncidents(history: PagerDutyHistory) {
  const iso = (text: string | null) => (text === null ? null : new Date(text).toISOString());
  return history
    .expectedFacts()
    .map((fact) => ({
      id: fact.id,
      status: fact.status,
      createdAt: iso(fact.createdAt),
      firstAckAt: iso(fact.firstAckAt),
      resolvedAt: iso(fact.resolvedAt),
      merged: fact.merged,
      escalated: fact.escalated,
      unackCount: fact.unackCount,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

async function count(table: 'incidents' | 'incident_events' | 'ingest_errors'): Promise<number> {
  const row = await database.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('PagerDuty sync against the PagerDuty-compatible server', () => {
  it('stores exactly the generated incidents with their first-ack and resolve times', async () => {
    const history = generatePagerDutyHistory({ seed: 1, start: START, end: END, incidents: 400 });
    const server = await serve(history);
    const summary = await run(syncFor(server));

    const stored = await storedIncidents();
    expect(stored.map(({ severity: _severity, ...rest }) => rest)).toEqual(expectedIncidents(history));
    expect(await count('incident_events')).toBe(history.logEntryCount);
    expect(summary).toMatchObject({
      mode: 'full',
      quarantined: 0,
      recordsUpserted: 400,
      eventsUpserted: history.logEntryCount,
    });
    // The fixtures include the hard cases of docs/metrics.md §1.
    expect(stored.some((incident) => incident.firstAckAt === null && incident.resolvedAt !== null)).toBe(true);
    expect(stored.some((incident) => incident.merged)).toBe(true);
    expect(stored.some((incident) => incident.unackCount > 0)).toBe(true);
    expect(stored.some((incident) => incident.resolvedAt === null)).toBe(true);
  });

  it('stores every notification with its user and method, and who acknowledged and resolved, from the same log entries', async () => {
    const history = generatePagerDutyHistory({ seed: 11, start: START, end: END, incidents: 200 });
    const server = await serve(history);
    await run(syncFor(server));
    await run(syncFor(server), { mode: 'full' });
    const notify = await database.db
      .selectFrom('incident_events')
      .select(['external_id', 'occurred_at'])
      .where('type', '=', 'notify')
      .orderBy('external_id')
      .execute();
    const notifications = await database.db
      .selectFrom('notifications')
      .innerJoin('users', 'users.id', 'notifications.user_id')
      .select(['notifications.external_id', 'notified_at', 'method', 'users.external_id as user'])
      .orderBy('notifications.external_id')
      .execute();
    // One notification per notify entry, a second run adding none.
    expect(notifications.map((row) => [row.external_id, row.notified_at.toISOString()])).toEqual(
      notify.map((row) => [row.external_id, row.occurred_at.toISOString()])
    );
    expect(notify.length).toBeGreaterThan(0);
    expect(notifications.every((row) => ['sms', 'phone', 'push', 'email'].includes(row.method))).toBe(true);
    // Every user of the account, with the zone /users gives (none for some), whether paged or not.
    const users = await database.db
      .selectFrom('users')
      .select(['external_id', 'name', 'time_zone'])
      .orderBy('external_id')
      .execute();
    expect(users.map((user) => [user.external_id, user.name, user.time_zone])).toEqual(
      [...history.users].sort((a, b) => (a.id < b.id ? -1 : 1)).map((user) => [user.id, user.name, user.timeZone])
    );
    const agents = await database.db
      .selectFrom('incidents')
      .select((eb) => [
        eb.fn.count<number>('acknowledged_by').as('acknowledged_by'),
        eb.fn.count<number>('acknowledged_at').as('acknowledged'),
        eb.fn.count<number>('resolved_by').as('resolved_by'),
        eb.fn.count<number>('resolved_at').as('resolved'),
      ])
      .executeTakeFirstOrThrow();
    // Every first ack of the simulated account is made by a user, every resolve names its agent.
    expect(Number(agents.acknowledged_by)).toBe(Number(agents.acknowledged));
    expect(Number(agents.resolved_by)).toBe(Number(agents.resolved));
  });

  it('a second run, full or incremental, duplicates nothing', async () => {
    const history = generatePagerDutyHistory({ seed: 2, start: START, end: END, incidents: 300 });
    const server = await serve(history);
    const sync = syncFor(server);
    await run(sync);
    const before = {
      incidents: await count('incidents'),
      events: await count('incident_events'),
      rows: await storedIncidents(),
    };
    await run(sync, { mode: 'full' });
    await run(sync);
    expect({
      incidents: await count('incidents'),
      events: await count('incident_events'),
      rows: await storedIncidents(),
    }).toEqual(before);
  });

  it('an incremental sync updates an old incident acknowledged and resolved after the checkpoint', async () => {
    const history = generatePagerDutyHistory({ seed: 3, start: START, end: END, incidents: 200 });
    const server = await serve(history);
    // Created two months before the checkpoint and still open at it.
    const targetId = history.addIncident({
      createdAt: new Date('2026-02-01T10:00:00Z'),
      priority: 'P2',
      urgency: 'high',
      serviceIndex: 1,
    });
    const target = history.expectedFacts().find((fact) => fact.id === targetId)!;
    expect(target).toMatchObject({ status: 'triggered', firstAckAt: null, resolvedAt: null });

    await run(syncFor(server));
    const ackAt = new Date(END.getTime() + 20 * 60_000);
    const resolveAt = new Date(END.getTime() + 50 * 60_000);
    history.acknowledge(target.id, ackAt);
    history.resolve(target.id, resolveAt);
    const later = new Date(END.getTime() + 60 * 60_000);
    const requestsBefore = server.requestCount();
    await run(syncFor(server, { now: () => later }));

    const row = (await storedIncidents()).find((incident) => incident.id === target.id)!;
    expect(row).toMatchObject({
      status: 'resolved',
      firstAckAt: ackAt.toISOString(),
      resolvedAt: resolveAt.toISOString(),
    });
    expect(await storedIncidents()).toEqual(
      expect.arrayContaining(expectedIncidents(history).map((incident) => expect.objectContaining(incident)))
    );
    // Incremental means a handful of requests, not a re-read of history.
    expect(server.requestCount() - requestsBefore).toBeLessThanOrEqual(4);
  });

  it('a re-ack after an unack keeps the first acknowledgement', async () => {
    const history = generatePagerDutyHistory({ seed: 4, start: START, end: END, incidents: 50 });
    const server = await serve(history);
    const id = history.addIncident({
      createdAt: new Date(END.getTime() - 3_600_000),
      priority: 'P1',
      urgency: 'high',
      serviceIndex: 0,
    });
    const first = new Date(END.getTime() - 3_000_000);
    history.acknowledge(id, first);
    history.unacknowledge(id, new Date(END.getTime() - 2_000_000));
    history.acknowledge(id, new Date(END.getTime() - 1_000_000));
    await run(syncFor(server));
    const row = (await storedIncidents()).find((incident) => incident.id === id)!;
    expect(row).toMatchObject({ firstAckAt: first.toISOString(), unackCount: 1, severity: 'SEV1' });
  });

  // 12,000 incidents and their log entries through real HTTP and PostgreSQL: about 40 s on an idle machine, more on a busy one.
  it('splits windows so no page needs an offset past 10,000', async () => {
    // 12,000 incidents in one month: over the cap for one window of incidents and of log entries.
    const history = generatePagerDutyHistory({
      seed: 5,
      start: new Date('2026-03-01T00:00:00Z'),
      end: END,
      incidents: 12_000,
    });
    const server = await serve(history);
    const summary = await run(syncFor(server, { historyStart: new Date('2026-03-01T00:00:00Z') }));
    expect(await count('incidents')).toBe(12_000);
    expect(await count('incident_events')).toBe(history.logEntryCount);
    const minimum = Math.ceil(12_000 / 100) + Math.ceil(history.logEntryCount / 100);
    expect(summary.requests).toBeGreaterThan(minimum);
    expect(summary.requests).toBeLessThanOrEqual(Math.ceil(minimum * 1.1));
  }, 180_000);

  it('ends a fault-injected run with the same rows as a clean run', async () => {
    const history = generatePagerDutyHistory({ seed: 6, start: START, end: END, incidents: 300 });
    const clean = await serve(history);
    await run(syncFor(clean));
    const expected = await storedIncidents();
    const events = await count('incident_events');
    await database.db.deleteFrom('incident_events').execute();
    await database.db.deleteFrom('incidents').execute();
    await database.db.deleteFrom('sync_checkpoints').execute();

    const faulty = await serve(history, {
      faults: { seed: 7, serverErrorRate: 0.15, dropRate: 0.1, truncateRate: 0.1, slowRate: 0.05, slowMs: 20 },
    });
    const summary = await run(syncFor(faulty));
    expect(await storedIncidents()).toEqual(expected);
    expect(await count('incident_events')).toBe(events);
    // The faults really happened: more requests than pages.
    expect(summary.requests).toBeGreaterThan(Math.ceil(300 / 100) + Math.ceil(events / 100) + 2);
  });

  it('waits for ratelimit-reset on a 429 and loses nothing', async () => {
    const history = generatePagerDutyHistory({ seed: 8, start: START, end: END, incidents: 250 });
    // Ten requests per second: the sync needs about twenty.
    const server = await serve(history, { rateLimitPerMinute: 10, rateLimitWindowMs: 1000 });
    const summary = await run(syncFor(server));
    expect(server.rateLimitedCount()).toBeGreaterThan(0);
    expect(summary.recordsUpserted).toBe(250);
    expect(await storedIncidents()).toHaveLength(250);
  });

  it('paced at the rate limit with a full burst, meets no 429: the client counts the window as the server does', async () => {
    const history = generatePagerDutyHistory({ seed: 8, start: START, end: END, incidents: 250 });
    // Ten requests in any second, the whole allowance usable at once: a token
    // bucket alone would send up to twenty in the first second.
    const server = await serve(history, { rateLimitPerMinute: 10, rateLimitWindowMs: 1000 });
    const summary = await run(
      syncFor(server, { requestsPerMinute: 600, burstRequests: 10, rateWindowMs: 1000, backoffBaseMs: 500 })
    );
    expect(summary.requests).toBeGreaterThanOrEqual(20);
    expect(server.rateLimitedCount()).toBe(0);
    expect(summary.recordsUpserted).toBe(250);
  });

  it('quarantines malformed records with the reason and goes on; a re-run adds no duplicates', async () => {
    const history = generatePagerDutyHistory({ seed: 9, start: START, end: END, incidents: 100 });
    history.addRawIncident({
      type: 'incident',
      title: 'no id',
      status: 'triggered',
      created_at: '2026-02-01T00:00:00Z',
    });
    history.addRawIncident({
      id: 'QBADTIME',
      type: 'incident',
      title: 'resolved before created',
      status: 'resolved',
      created_at: '2026-02-02T10:00:00Z',
      resolved_at: '2026-02-02T09:00:00Z',
    });
    history.addRawLogEntry({
      id: 'RBADDATE',
      type: 'annotate_log_entry',
      created_at: '2026-02-03T00:00:00Z',
      incident: undefined,
    });
    const server = await serve(history);
    const sync = syncFor(server);
    const summary = await run(sync);
    expect(summary.quarantined).toBe(3);
    expect(summary.recordsUpserted).toBe(100);
    const errors = await database.db
      .selectFrom('ingest_errors')
      .select(['record_kind', 'external_id', 'reason', 'seen_count'])
      .orderBy('reason')
      .execute();
    expect(errors).toEqual([
      { record_kind: 'pagerduty.incident', external_id: null, reason: 'incident has no id', seen_count: 1 },
      {
        record_kind: 'pagerduty.incident',
        external_id: 'QBADTIME',
        reason: expect.stringContaining('before it was created'),
        seen_count: 1,
      },
      {
        record_kind: 'pagerduty.log_entry',
        external_id: 'RBADDATE',
        reason: 'log entry refers to no incident',
        seen_count: 1,
      },
    ]);
    await run(sync, { mode: 'full' });
    expect(await count('ingest_errors')).toBe(3);
    const again = await database.db.selectFrom('ingest_errors').select('seen_count').execute();
    expect(again.every((row) => row.seen_count === 2)).toBe(true);
  });

  it('quarantines alone each record PostgreSQL refuses, with its reason; the rest of the batch lands and the checkpoint moves on', async () => {
    const history = generatePagerDutyHistory({ seed: 13, start: START, end: END, incidents: 100 });
    const raw = (id: string, fields: Record<string, unknown>) =>
      history.addRawIncident({
        id,
        type: 'incident',
        title: `raw ${id}`,
        status: 'triggered',
        created_at: '2026-02-01T10:00:00Z',
        ...fields,
      });
    raw('QNULTEXT', { title: 'disk \u0000 full' });
    raw('QYEARZERO', { updated_at: '0000-06-01T00:00:00Z' });
    raw('QYEAR10K', { status: 'resolved', resolved_at: '+010000-01-01T00:00:00Z' });
    raw('QBIGNUMBER', { incident_number: 2 ** 40 });
    // Random, so that PostgreSQL cannot compress it under its index's size limit.
    const hugeId = `Q${Array.from({ length: 3000 }, () => Math.floor(Math.random() * 36).toString(36)).join('')}`;
    raw(hugeId, {});
    const [someIncident] = history.expectedFacts();
    history.addRawLogEntry({
      id: 'RNULSUMMARY',
      type: 'annotate_log_entry',
      created_at: '2026-02-03T00:00:00Z',
      summary: 'note \u0000 here',
      incident: { id: someIncident!.id, type: 'incident_reference' },
    });
    const server = await serve(history);
    const sync = syncFor(server);

    const summary = await run(sync);
    expect(summary.recordsUpserted).toBe(100);
    expect(summary.quarantined).toBe(6);
    const withoutSeverity = async () => (await storedIncidents()).map(({ severity: _severity, ...rest }) => rest);
    expect(await withoutSeverity()).toEqual(expectedIncidents(history));
    expect(await count('incident_events')).toBe(history.logEntryCount);
    const errors = await database.db
      .selectFrom('ingest_errors')
      .select(['record_kind', 'external_id', 'reason'])
      .orderBy('external_id')
      .execute();
    const refused = (code: string, message: RegExp) =>
      expect.stringMatching(new RegExp(`^PostgreSQL refused the record: ${message.source}.*\\(SQLSTATE ${code}\\)$`));
    expect(errors).toEqual(
      [
        { record_kind: 'pagerduty.incident', external_id: 'QBIGNUMBER', reason: refused('22003', /.*out of range/) },
        {
          record_kind: 'pagerduty.incident',
          external_id: 'QNULTEXT',
          reason: refused('22021', /invalid byte sequence/),
        },
        // PostgreSQL reads the + of a five-digit year as a zone offset.
        {
          record_kind: 'pagerduty.incident',
          external_id: 'QYEAR10K',
          reason: refused('22009', /time zone displacement out of range/),
        },
        {
          record_kind: 'pagerduty.incident',
          external_id: 'QYEARZERO',
          reason: refused('22008', /date\/time field value out of range/),
        },
        {
          record_kind: 'pagerduty.incident',
          external_id: hugeId.slice(0, 200),
          reason: refused('54000', /index row .*exceeds/),
        },
        {
          record_kind: 'pagerduty.log_entry',
          external_id: 'RNULSUMMARY',
          reason: refused('22021', /invalid byte sequence/),
        },
      ].sort((a, b) => (a.external_id < b.external_id ? -1 : 1))
    );
    const checkpoint = await database.db.selectFrom('sync_checkpoints').select('cursor_at').executeTakeFirstOrThrow();
    expect(checkpoint.cursor_at.toISOString()).toBe(END.toISOString());

    // The next run meets them again: counted, not duplicated, and it succeeds too.
    const again = await run(sync, { mode: 'full' });
    expect(again.quarantined).toBe(6);
    expect(await count('ingest_errors')).toBe(6);
    expect(await withoutSeverity()).toEqual(expectedIncidents(history));
    const runs = await database.db.selectFrom('sync_runs').select('outcome').execute();
    expect(runs.map((row) => row.outcome)).toEqual(['succeeded', 'succeeded']);
  });

  it('stops on 401 with a message naming PAGERDUTY_TOKEN and records the failed run', async () => {
    const history = generatePagerDutyHistory({ seed: 10, start: START, end: END, incidents: 10 });
    const server = await serve(history);
    const error = await run(syncFor(server, { token: 'wrong' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/PAGERDUTY_TOKEN/);
    expect((error as Error).message).not.toContain('wrong');
    const runs = await database.db.selectFrom('sync_runs').select(['outcome', 'error']).execute();
    expect(runs).toEqual([{ outcome: 'failed', error: expect.stringContaining('PAGERDUTY_TOKEN') }]);
  });

  it('an interrupted sync resumes from its checkpoint and ends equal to an uninterrupted one', async () => {
    const history = generatePagerDutyHistory({
      seed: 11,
      start: new Date('2025-01-01T00:00:00Z'),
      end: END,
      incidents: 900,
    });
    const server = await serve(history);
    const controller = new AbortController();
    const historyStart = new Date('2025-01-01T00:00:00Z');
    // Stop once the second six-month window has begun: the first one is checkpointed.
    let firstStage: string | undefined;
    const progress = {
      update(stage: string) {
        const windowEnd = stage.slice(-10);
        firstStage ??= windowEnd;
        if (windowEnd !== firstStage) {
          controller.abort();
        }
      },
    };
    const interrupted = await run(syncFor(server, { historyStart }), { signal: controller.signal, progress }).catch(
      (caught: unknown) => caught
    );
    expect(interrupted).toBeInstanceOf(InterruptedError);
    const partial = await count('incidents');
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(900);
    const checkpoint = await database.db.selectFrom('sync_checkpoints').select('cursor_at').executeTakeFirst();
    expect(checkpoint?.cursor_at.getTime()).toBeLessThan(END.getTime());

    await run(syncFor(server, { historyStart }));
    expect(await storedIncidents()).toEqual(
      expectedIncidents(history).map((incident) => expect.objectContaining(incident))
    );
    const outcomes = await database.db.selectFrom('sync_runs').select('outcome').orderBy('id').execute();
    expect(outcomes.map((row) => row.outcome)).toEqual(['interrupted', 'succeeded']);
  });
});
