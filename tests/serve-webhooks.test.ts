import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakePagerDuty,
  generatePagerDutyHistory,
  type PagerDutyHistory,
  startFakePagerDuty,
} from '@incident-lens/simulators';
import { startServe, type ServeInstance } from '../collector/src/serve/serve.ts';
import { WEBHOOK_BODY_LIMIT_BYTES } from '../collector/src/sources/webhook.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import {
  TEST_TOKEN,
  TEST_WEBHOOK_SECRET,
  captureLogger,
  eventually,
  fakePagerDutySources,
  incidentWebhookBody,
  pagerDutySignature,
  serveConfig,
  type CapturedLogger,
} from './support/serve.ts';

const HISTORY_START = new Date('2026-09-01T00:00:00Z');
const HISTORY_END = new Date('2026-11-01T00:00:00Z');
const OLD_SECRET = 'whsec-rotated-out-77aa01';
/** No scheduled sync during these tests: only webhooks move the database. */
const NEVER = '0 0 1 1 *';

describe('POST /webhooks/pagerduty on a running serve', () => {
  let database: TestDatabase;
  let history: PagerDutyHistory;
  let pagerDuty: FakePagerDuty;
  let serve: ServeInstance;
  let capture: CapturedLogger;
  let eventCounter = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    history = generatePagerDutyHistory({ seed: 21, start: HISTORY_START, end: HISTORY_END, incidents: 20 });
    pagerDuty = await startFakePagerDuty({ history, token: TEST_TOKEN, rateLimitPerMinute: 1_000_000 });
    capture = captureLogger('debug');
    const config = serveConfig(
      { PAGERDUTY_TOKEN: TEST_TOKEN, PAGERDUTY_API_URL: pagerDuty.url, PAGERDUTY_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET },
      { sync: NEVER }
    );
    serve = await startServe(database.db, config, capture.logger, {
      host: '127.0.0.1',
      port: 0,
      syncAtStart: false,
      createSync: fakePagerDutySources(pagerDuty, HISTORY_START),
    });
  });
  afterAll(async () => {
    await serve?.stop();
    await pagerDuty?.stop();
    await database?.destroy();
  });

  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${serve.url}/webhooks/pagerduty`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', ...headers },
    });

  /** A fresh triggered incident in the fake PagerDuty, as if it had just paged. */
  const newIncident = () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    return history.addIncident({ createdAt: new Date(now - 60_000), priority: 'P2', urgency: 'high', serviceIndex: 1 });
  };
  const nextEventId = () => `01HWEBHOOK${String(++eventCounter).padStart(6, '0')}`;
  /** Targeted fetches of an incident: its log entries, which carry the incident. */
  const incidentFetches = (incidentId: string) =>
    pagerDuty.requestsByPath()[`/incidents/${incidentId}/log_entries`] ?? 0;

  it('a signed event is answered 202 at once, and its incident is in the database within 5 seconds', async () => {
    const incidentId = newIncident();
    history.acknowledge(incidentId, new Date(Math.floor(Date.now() / 1000) * 1000));
    const body = incidentWebhookBody(nextEventId(), 'incident.acknowledged', incidentId);
    const sent = performance.now();
    const response = await post(body, { 'X-PagerDuty-Signature': pagerDutySignature(body, TEST_WEBHOOK_SECRET) });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: 'accepted' });
    expect(performance.now() - sent).toBeLessThan(1000);

    const stored = await eventually(
      () =>
        database.db
          .selectFrom('incidents')
          .select(['status', 'acknowledged_at'])
          .where('external_id', '=', incidentId)
          .where('status', '=', 'acknowledged')
          .executeTakeFirst(),
      5000,
      'the acknowledged incident in the database'
    );
    const expected = history.expectedFacts().find((fact) => fact.id === incidentId)!;
    expect(stored.acknowledged_at?.toISOString()).toBe(new Date(expected.firstAckAt!).toISOString());
    const events = await database.db
      .selectFrom('incident_events')
      .innerJoin('incidents', 'incidents.id', 'incident_events.incident_id')
      .select('incident_events.type')
      .where('incidents.external_id', '=', incidentId)
      .execute();
    expect(events.map((event) => event.type).sort()).toEqual(expect.arrayContaining(['acknowledge', 'trigger']));

    const row = await database.db
      .selectFrom('webhook_events')
      .selectAll()
      .where('incident_external_id', '=', incidentId)
      .executeTakeFirstOrThrow();
    expect(row.processed_at).not.toBeNull();
    expect(row.error).toBeNull();
  });

  it('takes a delivery signed with a rotation pair, and refuses one signed only with the retired secret', async () => {
    const incidentId = newIncident();
    const rotated = incidentWebhookBody(nextEventId(), 'incident.triggered', incidentId);
    const accepted = await post(rotated, {
      'X-PagerDuty-Signature': pagerDutySignature(rotated, OLD_SECRET, TEST_WEBHOOK_SECRET),
    });
    expect(accepted.status).toBe(202);

    const retired = incidentWebhookBody(nextEventId(), 'incident.triggered', incidentId);
    const refused = await post(retired, { 'X-PagerDuty-Signature': pagerDutySignature(retired, OLD_SECRET) });
    expect(refused.status).toBe(403);
    await serve.webhooks.get('pagerduty')!.idle();
  });

  it('refuses a wrong signature with 403 and logs it without the body', async () => {
    const marker = 'FORGED-PAYLOAD-7f3e9c';
    const body = JSON.stringify({
      event: { id: marker, event_type: 'incident.resolved', data: { id: 'QFORGED', type: 'incident' } },
    });
    const response = await post(body, {
      'X-PagerDuty-Signature': pagerDutySignature(body, 'a-guessed-secret'),
      Authorization: 'Bearer forged-bearer-token-1b2c',
    });
    expect(response.status).toBe(403);
    const refusal = capture
      .entries()
      .findLast((entry) => entry.msg === 'webhook refused: no signature matches PAGERDUTY_WEBHOOK_SECRET');
    expect(refusal).toMatchObject({ level: 'warn', signatures: 1, bytes: Buffer.byteLength(body) });
    expect(capture.text()).not.toContain(marker);
    expect(capture.text()).not.toContain('forged-bearer-token-1b2c');
    expect(
      await database.db
        .selectFrom('webhook_events')
        .select('event_id')
        .where('event_id', '=', marker)
        .executeTakeFirst()
    ).toBeUndefined();
  });

  it.each([
    ['a missing header', undefined],
    ['a header of another scheme', 'sha256=0123'],
    ['a v1 value that is not a digest', 'v1=not-hex'],
  ])('answers 400 to %s', async (_case, header) => {
    const body = incidentWebhookBody(nextEventId(), 'incident.resolved', 'QNOSIG01');
    const response = await post(body, header === undefined ? {} : { 'X-PagerDuty-Signature': header });
    expect(response.status).toBe(400);
  });

  it('answers a replayed event id 200 without fetching the incident again', async () => {
    const incidentId = newIncident();
    const body = incidentWebhookBody(nextEventId(), 'incident.triggered', incidentId);
    const headers = { 'X-PagerDuty-Signature': pagerDutySignature(body, TEST_WEBHOOK_SECRET) };
    expect((await post(body, headers)).status).toBe(202);
    await serve.webhooks.get('pagerduty')!.idle();
    const fetchesAfterFirst = incidentFetches(incidentId);
    expect(fetchesAfterFirst).toBe(1);
    // The log entries carried the incident: no second request for it.
    expect(pagerDuty.requestsByPath()[`/incidents/${incidentId}`]).toBeUndefined();

    const replay = await post(body, headers);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ status: 'duplicate' });
    await serve.webhooks.get('pagerduty')!.idle();
    expect(incidentFetches(incidentId)).toBe(fetchesAfterFirst);
    const rows = await database.db
      .selectFrom('webhook_events')
      .select('event_id')
      .where('incident_external_id', '=', incidentId)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('fetches the incident itself when no log entry carries it', async () => {
    const template = history.renderIncident(history.findIncident(history.incidentId(0))!) as Record<string, unknown>;
    history.addRawIncident({
      ...template,
      id: 'QRAWNOLOG',
      incident_number: 90_001,
      title: 'An incident with no log entries',
    });
    const body = incidentWebhookBody(nextEventId(), 'incident.priority_updated', 'QRAWNOLOG');
    expect((await post(body, { 'X-PagerDuty-Signature': pagerDutySignature(body, TEST_WEBHOOK_SECRET) })).status).toBe(
      202
    );
    await serve.webhooks.get('pagerduty')!.idle();
    const stored = await database.db
      .selectFrom('incidents')
      .select('title')
      .where('external_id', '=', 'QRAWNOLOG')
      .executeTakeFirst();
    expect(stored).toEqual({ title: 'An incident with no log entries' });
    expect(pagerDuty.requestsByPath()['/incidents/QRAWNOLOG']).toBe(1);
  });

  it("serves a storm with a few reads of the account's recent changes, every incident right", async () => {
    const requestsBefore = pagerDuty.requestCount();
    const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const incidentIds = Array.from({ length: 12 }, () =>
      history.addIncident({ createdAt, priority: 'P1', urgency: 'high', serviceIndex: 2 })
    );
    const deliveries: Array<{ body: string }> = [];
    for (const [index, incidentId] of incidentIds.entries()) {
      deliveries.push({ body: incidentWebhookBody(nextEventId(), 'incident.triggered', incidentId, createdAt) });
      if (index % 2 === 0) {
        history.acknowledge(incidentId, createdAt);
        deliveries.push({ body: incidentWebhookBody(nextEventId(), 'incident.acknowledged', incidentId, createdAt) });
      }
    }
    const answers = await Promise.all(
      deliveries.map(({ body }) =>
        post(body, { 'X-PagerDuty-Signature': pagerDutySignature(body, TEST_WEBHOOK_SECRET) })
      )
    );
    expect(answers.map((answer) => answer.status)).toEqual(deliveries.map(() => 202));
    await serve.webhooks.get('pagerduty')!.idle();

    const stored = await database.db
      .selectFrom('incidents')
      .select(['external_id', 'status', 'acknowledged_at'])
      .where('external_id', 'in', incidentIds)
      .orderBy('external_id')
      .execute();
    const facts = history.expectedFacts().filter((fact) => incidentIds.includes(fact.id));
    expect(
      stored.map((row) => ({
        id: row.external_id,
        status: row.status,
        firstAckAt: row.acknowledged_at?.toISOString() ?? null,
      }))
    ).toEqual(
      facts
        .map((fact) => ({
          id: fact.id,
          status: fact.status,
          firstAckAt: fact.firstAckAt && new Date(fact.firstAckAt).toISOString(),
        }))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
    );
    const unprocessed = await database.db
      .selectFrom('webhook_events')
      .select('event_id')
      .where('incident_external_id', 'in', incidentIds)
      .where('processed_at', 'is', null)
      .execute();
    expect(unprocessed).toEqual([]);
    // Fewer requests than incidents: the account's log entries served most of them at once.
    expect(pagerDuty.requestsByPath()['/log_entries']).toBeGreaterThan(0);
    expect(pagerDuty.requestCount() - requestsBefore).toBeLessThan(incidentIds.length);
  });

  it('refuses a body over the limit with 413, whether it declares its length or not', async () => {
    const padding = 'x'.repeat(WEBHOOK_BODY_LIMIT_BYTES);
    const body = JSON.stringify({
      event: {
        id: nextEventId(),
        event_type: 'incident.resolved',
        data: { id: 'QBIG0001', type: 'incident', padding },
      },
    });
    const headers = {
      'Content-Type': 'application/json',
      'X-PagerDuty-Signature': pagerDutySignature(body, TEST_WEBHOOK_SECRET),
    };
    const declared = await fetch(`${serve.url}/webhooks/pagerduty`, { method: 'POST', body, headers });
    expect(declared.status).toBe(413);

    const chunked = await fetch(`${serve.url}/webhooks/pagerduty`, {
      method: 'POST',
      headers,
      body: new ReadableStream({
        start(controller) {
          for (let offset = 0; offset < body.length; offset += 16_384) {
            controller.enqueue(Buffer.from(body.slice(offset, offset + 16_384)));
          }
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    expect(metrics).toContain('incident_lens_webhook_events_total{source="pagerduty",outcome="too_large"} 2');
  });

  it('acknowledges event types it does not use without storing them', async () => {
    const body = JSON.stringify({
      event: { id: 'SERVICE-EVT-1', event_type: 'service.updated', data: { id: 'PSVC01', type: 'service' } },
    });
    const response = await post(body, { 'X-PagerDuty-Signature': pagerDutySignature(body, TEST_WEBHOOK_SECRET) });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: 'ignored' });
  });

  it('answers the probes, and 404 / 405 elsewhere', async () => {
    expect((await fetch(`${serve.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${serve.url}/webhooks/pagerduty`)).status).toBe(405);
    expect((await fetch(`${serve.url}/nothing-here`)).status).toBe(404);
  });

  it('never writes the API token, the webhook secret or an Authorization header to the log', async () => {
    await serve.webhooks.get('pagerduty')!.idle();
    const text = capture.text();
    expect(capture.entries().length).toBeGreaterThan(10);
    expect(text).not.toContain(TEST_TOKEN);
    expect(text).not.toContain(TEST_WEBHOOK_SECRET);
    expect(text).not.toContain(OLD_SECRET);
    expect(text).not.toMatch(/Token token=/i);
    expect(text).not.toMatch(/"authorization"\s*:\s*"(?!\[redacted\])/i);
  });
});

describe('webhooks keep the on-call data current', () => {
  let database: TestDatabase;
  let history: PagerDutyHistory;
  let pagerDuty: FakePagerDuty;
  let serve: ServeInstance;

  beforeAll(async () => {
    // No sync ever runs: the users and notifications below come through webhooks alone.
    database = await createTestDatabase();
    history = generatePagerDutyHistory({ seed: 23, start: HISTORY_START, end: HISTORY_END, incidents: 5 });
    pagerDuty = await startFakePagerDuty({ history, token: TEST_TOKEN, rateLimitPerMinute: 1_000_000 });
    const config = serveConfig(
      { PAGERDUTY_TOKEN: TEST_TOKEN, PAGERDUTY_API_URL: pagerDuty.url, PAGERDUTY_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET },
      { sync: NEVER }
    );
    serve = await startServe(database.db, config, captureLogger().logger, {
      host: '127.0.0.1',
      port: 0,
      syncAtStart: false,
      createSync: fakePagerDutySources(pagerDuty, HISTORY_START),
    });
  });
  afterAll(async () => {
    await serve?.stop();
    await pagerDuty?.stop();
    await database?.destroy();
  });

  /** An incident paged a minute ago, its responder notified by each method in turn; the webhook delivered. */
  const pagedIncident = async (eventId: string, serviceIndex: number, methods: string[]) => {
    const createdAt = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const incidentId = history.addIncident({
      createdAt: new Date(createdAt),
      priority: 'P1',
      urgency: 'high',
      serviceIndex,
    });
    const user = methods
      .map((method, index) => history.notify(incidentId, new Date(createdAt + (index + 1) * 5_000), method))
      .at(-1)!;
    const body = incidentWebhookBody(eventId, 'incident.triggered', incidentId);
    const response = await fetch(`${serve.url}/webhooks/pagerduty`, {
      method: 'POST',
      body,
      headers: { 'X-PagerDuty-Signature': pagerDutySignature(body, TEST_WEBHOOK_SECRET) },
    });
    expect(response.status).toBe(202);
    await serve.webhooks.get('pagerduty')!.idle();
    return { incidentId, user };
  };
  const notificationsOf = (incidentId: string) =>
    database.db
      .selectFrom('notifications')
      .innerJoin('incidents', 'incidents.id', 'notifications.incident_id')
      .innerJoin('users', 'users.id', 'notifications.user_id')
      .select(['users.external_id as user', 'notifications.method', 'notifications.notified_at'])
      .where('incidents.external_id', '=', incidentId)
      .orderBy('notifications.notified_at')
      .execute();

  it('stores the notifications of a refreshed incident, and their users as /users lists them, zone included', async () => {
    expect(await database.db.selectFrom('users').select('id').execute()).toEqual([]);
    const { incidentId, user } = await pagedIncident('01HONCALL000001', 1, [
      'sms_notification',
      'phone_notification',
      'email_notification',
    ]);
    expect((await notificationsOf(incidentId)).map((row) => [row.user, row.method])).toEqual([
      [user, 'sms'],
      [user, 'phone'],
      [user, 'email'],
    ]);
    // Not a stub named by a log entry: /users, read once, brought every user of the account with their zone.
    expect(pagerDuty.requestsByPath()['/users']).toBe(1);
    const stored = await database.db
      .selectFrom('users')
      .select(['external_id as id', 'name', 'time_zone as timeZone'])
      .orderBy('external_id')
      .execute();
    expect(stored).toEqual(
      history.users
        .map((entry) => ({ id: entry.id, name: entry.name, timeZone: entry.timeZone }))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
    );
    const expected = history.users.find((entry) => entry.id === user)!;

    // The figures read them at once: sms and phone interrupt, email does not.
    const responder = (
      await sql<{ interruptions: number; notifications: number; time_zone: string }>`
        SELECT interruptions, notifications, time_zone
        FROM lens.oncall_metrics(now() - interval '1 day', now() + interval '1 second', now(), 'UTC')
        WHERE dimension = 'responder' AND external_id = ${user}`.execute(database.db)
    ).rows;
    expect(responder).toEqual([{ interruptions: 2, notifications: 3, time_zone: expected.timeZone ?? 'UTC' }]);
  });

  it('stores a later incident’s notifications without listing /users again when every user is known', async () => {
    const { incidentId, user } = await pagedIncident('01HONCALL000002', 2, ['push_notification']);
    expect((await notificationsOf(incidentId)).map((row) => [row.user, row.method])).toEqual([[user, 'push']]);
    expect(pagerDuty.requestsByPath()['/users']).toBe(1);
  });
});

describe('webhooks without PAGERDUTY_WEBHOOK_SECRET', () => {
  it('are disabled: 404', async () => {
    const database = await createTestDatabase();
    const history = generatePagerDutyHistory({ seed: 22, start: HISTORY_START, end: HISTORY_END, incidents: 1 });
    const pagerDuty = await startFakePagerDuty({ history, token: TEST_TOKEN });
    const config = serveConfig({ PAGERDUTY_TOKEN: TEST_TOKEN, PAGERDUTY_API_URL: pagerDuty.url }, { sync: NEVER });
    const serve = await startServe(database.db, config, captureLogger().logger, {
      host: '127.0.0.1',
      port: 0,
      syncAtStart: false,
      createSync: fakePagerDutySources(pagerDuty, HISTORY_START),
    });
    try {
      const body = incidentWebhookBody('E-NOSECRET', 'incident.triggered', 'Q0000001');
      const response = await fetch(`${serve.url}/webhooks/pagerduty`, {
        method: 'POST',
        body,
        headers: { 'X-PagerDuty-Signature': pagerDutySignature(body, 'anything') },
      });
      expect(response.status).toBe(404);
      expect(serve.webhooks.size).toBe(0);
    } finally {
      await serve.stop();
      await pagerDuty.stop();
      await database.destroy();
    }
  });
});
