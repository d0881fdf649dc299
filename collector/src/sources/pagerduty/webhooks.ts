import { createHmac, timingSafeEqual } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { ApiError, InterruptedError, errorMessage } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { WebhookAnswer, WebhookContext, WebhookDelivery, WebhookMetrics, WebhookReceiver } from '../webhook.ts';
import { IncidentRefreshQueue, type QueuedEvent } from './incident-refresh-queue.ts';
import type { PagerDutyAccount } from './kind.ts';
import { PagerDutySync } from './sync.ts';

/**
 * PagerDuty v3 webhooks (developer docs, "Webhooks" and "Verifying
 * Signatures"): one event per delivery, `{"event": {id, event_type,
 * resource_type, occurred_at, agent, client, data}}`, signed in
 * `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>`, with one
 * signature per active secret during a rotation.
 */

/** The incident events that change what the metrics read; each brings a targeted fetch. */
export const INCIDENT_EVENT_TYPES: ReadonlySet<string> = new Set([
  'incident.triggered',
  'incident.acknowledged',
  'incident.unacknowledged',
  'incident.escalated',
  'incident.reassigned',
  'incident.priority_updated',
  'incident.resolved',
  'incident.annotated',
  'incident.reopened',
]);

export type SignatureHeader = { ok: true; signatures: Buffer[] } | { ok: false; reason: string };

/** Pure: the v1 signatures of an `X-PagerDuty-Signature` header, or why it is malformed. */
export function parseSignatureHeader(header: string | undefined): SignatureHeader {
  if (header === undefined || header.trim() === '') {
    return { ok: false, reason: 'the X-PagerDuty-Signature header is missing' };
  }
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const match = /^\s*([A-Za-z0-9]+)=(\S+)\s*$/.exec(part);
    if (!match) {
      return { ok: false, reason: 'the X-PagerDuty-Signature header is not a list of version=signature' };
    }
    // Other versions are skipped: a receiver verifies the versions it knows.
    if (match[1] !== 'v1') {
      continue;
    }
    if (!/^[0-9a-f]{64}$/i.test(match[2]!)) {
      return { ok: false, reason: 'a v1 signature is not 64 hexadecimal digits' };
    }
    signatures.push(Buffer.from(match[2]!, 'hex'));
  }
  if (signatures.length === 0) {
    return { ok: false, reason: 'the X-PagerDuty-Signature header has no v1 signature' };
  }
  return { ok: true, signatures };
}

/**
 * Pure: does any of the signatures match the HMAC-SHA256 of the raw body
 * under the secret? Every candidate is compared in constant time, and all of
 * them are compared, so the time taken says nothing about which one matched.
 */
export function signatureMatches(rawBody: Buffer, signatures: readonly Buffer[], secret: string): boolean {
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  let matched = false;
  for (const signature of signatures) {
    if (signature.length === expected.length && timingSafeEqual(signature, expected)) {
      matched = true;
    }
  }
  return matched;
}

export type WebhookEvent =
  | { kind: 'incident'; eventId: string; eventType: string; incidentId: string; occurredAt: Date | null }
  | { kind: 'ignored'; eventId: string; eventType: string }
  | { kind: 'invalid'; reason: string };

/** Pure: what a verified body asks for. Only incident events are taken; others are acknowledged and dropped. */
export function parseWebhookEvent(rawBody: Buffer): WebhookEvent {
  let document: unknown;
  try {
    document = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { kind: 'invalid', reason: 'the body is not JSON' };
  }
  const event = record(record(document)?.event);
  if (!event) {
    return { kind: 'invalid', reason: 'the body has no "event" object' };
  }
  const eventId = event.id;
  const eventType = event.event_type;
  if (typeof eventId !== 'string' || eventId === '') {
    return { kind: 'invalid', reason: 'event.id is missing' };
  }
  if (typeof eventType !== 'string' || eventType === '') {
    return { kind: 'invalid', reason: 'event.event_type is missing' };
  }
  if (!INCIDENT_EVENT_TYPES.has(eventType)) {
    return { kind: 'ignored', eventId, eventType };
  }

  // `data` is the incident itself, except for incident.annotated whose data is an incident_note.
  const data = record(event.data);
  const incidentId = data?.type === 'incident' ? data.id : record(data?.incident)?.id;
  if (typeof incidentId !== 'string' || !/^[A-Za-z0-9]+$/.test(incidentId)) {
    return {
      kind: 'invalid',
      reason: `${eventType} does not name its incident (event.data.id or event.data.incident.id)`,
    };
  }
  const occurred = typeof event.occurred_at === 'string' ? new Date(event.occurred_at) : null;
  return {
    kind: 'incident',
    eventId,
    eventType,
    incidentId,
    occurredAt: occurred && !Number.isNaN(occurred.getTime()) ? occurred : null,
  };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * Takes PagerDuty's deliveries: verifies, records the event id (the first
 * delivery wins, across processes), queues the incident's refresh and answers
 * at once. The refresh itself happens off the request path.
 */
export class PagerDutyWebhookReceiver {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sourceId: number,
    private readonly secret: string,
    /** The variable that holds the secret, for the log line of a refused delivery. */
    private readonly secretVariable: string,
    private readonly queue: IncidentRefreshQueue,
    private readonly metrics: WebhookMetrics,
    private readonly logger: Logger
  ) {}

  async receive(delivery: WebhookDelivery): Promise<WebhookAnswer> {
    const signature = delivery.headers['x-pagerduty-signature'];
    const header = parseSignatureHeader(Array.isArray(signature) ? signature.join(',') : signature);
    if (!header.ok) {
      this.metrics.observeWebhook('malformed');
      this.logger.warn(
        { remoteAddress: delivery.remoteAddress, reason: header.reason },
        'webhook refused: bad signature header'
      );
      return { status: 400, body: { status: 'rejected', reason: header.reason } };
    }
    if (!signatureMatches(delivery.rawBody, header.signatures, this.secret)) {
      this.metrics.observeWebhook('bad_signature');
      // Never the body: it came from someone who does not hold the secret.
      this.logger.warn(
        { remoteAddress: delivery.remoteAddress, signatures: header.signatures.length, bytes: delivery.rawBody.length },
        `webhook refused: no signature matches ${this.secretVariable}`
      );
      return { status: 403, body: { status: 'rejected', reason: 'signature does not match' } };
    }

    const event = parseWebhookEvent(delivery.rawBody);
    if (event.kind === 'invalid') {
      this.metrics.observeWebhook('malformed');
      this.logger.warn({ reason: event.reason }, 'webhook refused: signed but not a v3 event');
      return { status: 400, body: { status: 'rejected', reason: event.reason } };
    }
    if (event.kind === 'ignored') {
      this.metrics.observeWebhook('ignored');
      this.logger.debug({ eventId: event.eventId, eventType: event.eventType }, 'webhook event type not used; ignored');
      return { status: 202, body: { status: 'ignored' } };
    }

    let firstDelivery: boolean;
    try {
      const inserted = await this.db
        .insertInto('webhook_events')
        .values({
          source_id: this.sourceId,
          event_id: event.eventId,
          event_type: event.eventType,
          incident_external_id: event.incidentId,
          occurred_at: event.occurredAt,
          received_at: delivery.receivedAt,
        })
        .onConflict((oc) => oc.columns(['source_id', 'event_id']).doNothing())
        .returning('event_id')
        .executeTakeFirst();
      firstDelivery = inserted !== undefined;
    } catch (error) {
      // 503 makes PagerDuty deliver again later.
      this.metrics.observeWebhook('unavailable');
      this.logger.error(
        { eventId: event.eventId, err: error },
        `webhook event could not be recorded: ${errorMessage(error)}`
      );
      return {
        status: 503,
        body: { status: 'unavailable', reason: 'the database is unavailable; deliver again later' },
      };
    }
    if (!firstDelivery) {
      this.metrics.observeWebhook('duplicate');
      this.logger.info(
        { eventId: event.eventId, eventType: event.eventType },
        'webhook event already received; not processed again'
      );
      return { status: 200, body: { status: 'duplicate' } };
    }

    this.metrics.observeWebhook('accepted');
    this.logger.info(
      { eventId: event.eventId, eventType: event.eventType, incidentId: event.incidentId },
      'webhook event accepted'
    );
    this.queue.enqueue(event.incidentId, {
      eventId: event.eventId,
      receivedAt: delivery.receivedAt,
      occurredAt: event.occurredAt,
    });
    return { status: 202, body: { status: 'accepted' } };
  }
}

/** Webhook events received but not yet applied are taken up again at start if they are this recent. */
const REPLAY_UNPROCESSED_WITHIN_MS = 60 * 60_000;
const WEBHOOK_REFRESH_CONCURRENCY = 4;
/** How much before the oldest waiting event a storm's read of recent changes starts (clock and visibility slack). */
const STORM_WINDOW_MARGIN_MS = 10_000;

/**
 * An account's webhook: deliveries are verified and recorded at once, and
 * their incidents refreshed off the request path through the account's
 * sync: one incident's timeline for a few events, the account's recent
 * changes for a storm.
 */
export async function startPagerDutyWebhook(context: WebhookContext<PagerDutyAccount>): Promise<WebhookReceiver> {
  const secret = context.account.webhookSecret;
  if (secret === undefined) {
    throw new Error(`${context.account.name} has no webhook secret: set ${context.account.webhookSecretVariable}`);
  }
  const { db, sourceId, metrics, logger, signal } = context;
  const sync = context.sync;
  if (!(sync instanceof PagerDutySync)) {
    throw new Error(`the sync of ${context.account.name} is not a PagerDuty sync`);
  }
  // One client for every refresh: its requests are serial and paced together.
  const client = sync.createIncidentClient(logger, signal);
  const queue = new IncidentRefreshQueue({
    concurrency: WEBHOOK_REFRESH_CONCURRENCY,
    logger,
    onBacklog: (incidents) => metrics.setWebhookBacklog(incidents),
    refresh: async (incidentId: string, events: readonly QueuedEvent[]) => {
      const eventIds = events.map((event) => event.eventId);
      const fetchStarted = new Date();
      try {
        const counts = await sync.syncIncident(db, incidentId, logger, client);
        await markEvents(db, sourceId, eventIds, null);
        // Events the queue coalesced away (received before this fetch began) are served by it too.
        await markIncidentEvents(db, sourceId, incidentId, fetchStarted);
        metrics.observeIngested(counts);
        const appliedAt = Date.now();
        for (const event of events) {
          metrics.observeWebhookApplied((appliedAt - event.receivedAt.getTime()) / 1000);
        }
        logger.debug({ incidentId, events: eventIds.length }, 'incident refreshed after webhook');
      } catch (error) {
        // Interrupted: left unprocessed for the next start. Otherwise recorded, and polling catches up.
        if (!(error instanceof InterruptedError)) {
          // An incident PagerDuty no longer has will not come back: its events are settled, not replayed at every start.
          const gone = error instanceof ApiError && error.status === 404;
          const reason = gone ? `PagerDuty has no incident ${incidentId}` : errorMessage(error);
          await markEvents(db, sourceId, eventIds, reason, gone).catch(() => undefined);
        }
        throw error;
      }
    },
    refreshMany: async (waiting) => {
      const incidentIds = [...waiting.keys()];
      const events = [...waiting.values()].flat();
      const oldest = Math.min(...events.map((event) => (event.occurredAt ?? event.receivedAt).getTime()));
      const since = new Date(oldest - STORM_WINDOW_MARGIN_MS);
      const storedBefore = await storedIncidents(db, sourceId, incidentIds);
      const { counts, incidentIds: changed } = await sync.syncRecentChanges(db, since, logger, client);
      metrics.observeIngested(counts);
      // Served when its whole timeline is now stored: it was stored before, or it began inside the window read.
      const newlySeen = incidentIds.filter((incidentId) => changed.has(incidentId) && !storedBefore.has(incidentId));
      const createdInside = await storedIncidents(db, sourceId, newlySeen, since);
      const served = new Set(
        incidentIds.filter(
          (incidentId) => changed.has(incidentId) && (storedBefore.has(incidentId) || createdInside.has(incidentId))
        )
      );
      const servedEvents = incidentIds
        .filter((incidentId) => served.has(incidentId))
        .flatMap((incidentId) => waiting.get(incidentId)!);
      if (servedEvents.length > 0) {
        await markEvents(
          db,
          sourceId,
          servedEvents.map((event) => event.eventId),
          null
        );
      }
      const appliedAt = Date.now();
      for (const event of servedEvents) {
        metrics.observeWebhookApplied((appliedAt - event.receivedAt.getTime()) / 1000);
      }
      logger.debug(
        { incidents: incidentIds.length, served: served.size, since: since.toISOString() },
        'recent changes read after webhooks'
      );
      return served;
    },
  });
  await replayUnprocessedEvents(db, sourceId, queue, logger);
  const receiver = new PagerDutyWebhookReceiver(
    db,
    sourceId,
    secret,
    context.account.webhookSecretVariable,
    queue,
    metrics,
    logger
  );
  return {
    receive: (delivery) => receiver.receive(delivery),
    idle: () => queue.idle(),
    stop: () => queue.stop(),
  };
}

/** Which of these incidents of the account are stored (and, with `createdSince`, began at or after it). */
async function storedIncidents(
  db: Kysely<Database>,
  sourceId: number,
  externalIds: string[],
  createdSince?: Date
): Promise<Set<string>> {
  if (externalIds.length === 0) {
    return new Set();
  }
  let query = db
    .selectFrom('incidents')
    .select('external_id')
    .where('source_id', '=', sourceId)
    .where('external_id', 'in', externalIds);
  if (createdSince) {
    query = query.where('created_at', '>=', createdSince);
  }
  return new Set((await query.execute()).map((row) => row.external_id));
}

/** Applied events get processed_at; failed ones keep their error and stay unprocessed unless `settled`. */
async function markEvents(
  db: Kysely<Database>,
  sourceId: number,
  eventIds: string[],
  error: string | null,
  settled = false
): Promise<void> {
  await db
    .updateTable('webhook_events')
    .set(
      error === null
        ? { processed_at: sql`now()`, error: null }
        : settled
          ? { processed_at: sql`now()`, error }
          : { error }
    )
    .where('source_id', '=', sourceId)
    .where('event_id', 'in', eventIds)
    .execute();
}

/** Every unprocessed event of an incident received before `before`. */
async function markIncidentEvents(
  db: Kysely<Database>,
  sourceId: number,
  incidentId: string,
  before: Date
): Promise<void> {
  await db
    .updateTable('webhook_events')
    .set({ processed_at: sql`now()`, error: null })
    .where('source_id', '=', sourceId)
    .where('incident_external_id', '=', incidentId)
    .where('processed_at', 'is', null)
    .where('received_at', '<', before)
    .execute();
}

/** Events a previous process accepted (answered 202) but stopped before applying. */
async function replayUnprocessedEvents(
  db: Kysely<Database>,
  sourceId: number,
  queue: IncidentRefreshQueue,
  logger: Logger
): Promise<void> {
  const rows = await db
    .selectFrom('webhook_events')
    .select(['event_id', 'incident_external_id', 'received_at', 'occurred_at'])
    .where('source_id', '=', sourceId)
    .where('processed_at', 'is', null)
    .where('received_at', '>', new Date(Date.now() - REPLAY_UNPROCESSED_WITHIN_MS))
    .orderBy('received_at')
    .execute();
  for (const row of rows) {
    queue.enqueue(row.incident_external_id, {
      eventId: row.event_id,
      receivedAt: row.received_at,
      occurredAt: row.occurred_at,
    });
  }
  if (rows.length > 0) {
    logger.info({ events: rows.length }, 'webhook events accepted before the last stop are applied now');
  }
}
