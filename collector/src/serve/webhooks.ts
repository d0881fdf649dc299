import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { IncidentRefreshQueue } from './incident-refresh-queue.ts';
import type { CollectorMetrics } from './metrics.ts';

/**
 * PagerDuty v3 webhooks (developer docs, "Webhooks" and "Verifying
 * Signatures"): one event per delivery, `{"event": {id, event_type,
 * resource_type, occurred_at, agent, client, data}}`, signed in
 * `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>`, with one
 * signature per active secret during a rotation.
 */

/** PagerDuty drops every webhook over 256 KB, so nothing genuine is larger. */
export const WEBHOOK_BODY_LIMIT_BYTES = 256 * 1024;

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
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'the X-PagerDuty-Signature header is missing' };
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const match = /^\s*([A-Za-z0-9]+)=(\S+)\s*$/.exec(part);
    if (!match) return { ok: false, reason: 'the X-PagerDuty-Signature header is not a list of version=signature' };
    // Other versions are skipped: a receiver verifies the versions it knows.
    if (match[1] !== 'v1') continue;
    if (!/^[0-9a-f]{64}$/i.test(match[2]!)) return { ok: false, reason: 'a v1 signature is not 64 hexadecimal digits' };
    signatures.push(Buffer.from(match[2]!, 'hex'));
  }
  if (signatures.length === 0) return { ok: false, reason: 'the X-PagerDuty-Signature header has no v1 signature' };
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
    if (signature.length === expected.length && timingSafeEqual(signature, expected)) matched = true;
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
  if (!event) return { kind: 'invalid', reason: 'the body has no "event" object' };
  const eventId = event.id;
  const eventType = event.event_type;
  if (typeof eventId !== 'string' || eventId === '') return { kind: 'invalid', reason: 'event.id is missing' };
  if (typeof eventType !== 'string' || eventType === '') return { kind: 'invalid', reason: 'event.event_type is missing' };
  if (!INCIDENT_EVENT_TYPES.has(eventType)) return { kind: 'ignored', eventId, eventType };

  // `data` is the incident itself, except for incident.annotated whose data is an incident_note.
  const data = record(event.data);
  const incidentId = data?.type === 'incident' ? data.id : record(data?.incident)?.id;
  if (typeof incidentId !== 'string' || !/^[A-Za-z0-9]+$/.test(incidentId)) {
    return { kind: 'invalid', reason: `${eventType} does not name its incident (event.data.id or event.data.incident.id)` };
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
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export interface WebhookDelivery {
  rawBody: Buffer;
  signatureHeader: string | undefined;
  receivedAt: Date;
  /** For the log line of a refused delivery. */
  remoteAddress: string | undefined;
}

export interface WebhookAnswer {
  status: number;
  body: { status: string; reason?: string };
}

/**
 * Takes PagerDuty's deliveries: verifies, records the event id (the first
 * delivery wins, across processes), queues the incident's refresh and answers
 * at once. The refresh itself happens off the request path.
 */
export class PagerDutyWebhookReceiver {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly secret: string,
    private readonly queue: IncidentRefreshQueue,
    private readonly metrics: CollectorMetrics,
    private readonly logger: Logger,
  ) {}

  async receive(delivery: WebhookDelivery): Promise<WebhookAnswer> {
    const header = parseSignatureHeader(delivery.signatureHeader);
    if (!header.ok) {
      this.metrics.observeWebhook('pagerduty', 'malformed');
      this.logger.warn({ remoteAddress: delivery.remoteAddress, reason: header.reason }, 'webhook refused: bad signature header');
      return { status: 400, body: { status: 'rejected', reason: header.reason } };
    }
    if (!signatureMatches(delivery.rawBody, header.signatures, this.secret)) {
      this.metrics.observeWebhook('pagerduty', 'bad_signature');
      // Never the body: it came from someone who does not hold the secret.
      this.logger.warn(
        { remoteAddress: delivery.remoteAddress, signatures: header.signatures.length, bytes: delivery.rawBody.length },
        'webhook refused: no signature matches PAGERDUTY_WEBHOOK_SECRET',
      );
      return { status: 403, body: { status: 'rejected', reason: 'signature does not match' } };
    }

    const event = parseWebhookEvent(delivery.rawBody);
    if (event.kind === 'invalid') {
      this.metrics.observeWebhook('pagerduty', 'malformed');
      this.logger.warn({ reason: event.reason }, 'webhook refused: signed but not a v3 event');
      return { status: 400, body: { status: 'rejected', reason: event.reason } };
    }
    if (event.kind === 'ignored') {
      this.metrics.observeWebhook('pagerduty', 'ignored');
      this.logger.debug({ eventId: event.eventId, eventType: event.eventType }, 'webhook event type not used; ignored');
      return { status: 202, body: { status: 'ignored' } };
    }

    let firstDelivery: boolean;
    try {
      const inserted = await this.db
        .insertInto('webhook_events')
        .values({
          source_kind: 'pagerduty',
          event_id: event.eventId,
          event_type: event.eventType,
          incident_external_id: event.incidentId,
          occurred_at: event.occurredAt,
          received_at: delivery.receivedAt,
        })
        .onConflict((oc) => oc.columns(['source_kind', 'event_id']).doNothing())
        .returning('event_id')
        .executeTakeFirst();
      firstDelivery = inserted !== undefined;
    } catch (error) {
      // 503 makes PagerDuty deliver again later.
      this.metrics.observeWebhook('pagerduty', 'unavailable');
      this.logger.error({ eventId: event.eventId, err: error }, `webhook event could not be recorded: ${errorMessage(error)}`);
      return { status: 503, body: { status: 'unavailable', reason: 'the database is unavailable; deliver again later' } };
    }
    if (!firstDelivery) {
      this.metrics.observeWebhook('pagerduty', 'duplicate');
      this.logger.info({ eventId: event.eventId, eventType: event.eventType }, 'webhook event already received; not processed again');
      return { status: 200, body: { status: 'duplicate' } };
    }

    this.metrics.observeWebhook('pagerduty', 'accepted');
    this.logger.info(
      { eventId: event.eventId, eventType: event.eventType, incidentId: event.incidentId },
      'webhook event accepted',
    );
    this.queue.enqueue(event.incidentId, { eventId: event.eventId, receivedAt: delivery.receivedAt, occurredAt: event.occurredAt });
    return { status: 202, body: { status: 'accepted' } };
  }
}
