import { describe, expect, it } from 'vitest';
import { incidentWebhookBody, pagerDutySignature, TEST_WEBHOOK_SECRET } from '../../../../tests/support/serve.ts';
import { parseSignatureHeader, parseWebhookEvent, signatureMatches } from './webhooks.ts';

const OLD_SECRET = 'whsec-rotated-out-77aa01';

describe('X-PagerDuty-Signature parsing and verification (pure)', () => {
  const body = Buffer.from('{"event":{"id":"01ABC"}}');
  const good = pagerDutySignature(body, TEST_WEBHOOK_SECRET);
  const old = pagerDutySignature(body, OLD_SECRET);

  it.each([
    [undefined, 'missing'],
    ['', 'missing'],
    ['sha256=abc', 'no v1 signature'],
    ['v1=xyz', 'not 64 hexadecimal digits'],
    ['v1', 'not a list of version=signature'],
    [`${good},,${old}`, 'not a list of version=signature'],
  ])('header %j is malformed (%s)', (header, reason) => {
    const parsed = parseSignatureHeader(header);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain(reason);
  });

  it.each([
    ['one signature', good, true],
    ['a rotation pair, new secret first', `${good},${old}`, true],
    ['a rotation pair, new secret second, with a space', `${old}, ${good}`, true],
    ['a later version next to v1', `v2=${'ab'.repeat(40)},${good}`, true],
    ['upper-case hex', good.toUpperCase().replace('V1=', 'v1='), true],
    ['only the rotated-out secret', old, false],
    ['a signature of another body', pagerDutySignature('{"event":{"id":"01ABD"}}', TEST_WEBHOOK_SECRET), false],
  ])('%s: matches = %s', (_case, header, expected) => {
    const parsed = parseSignatureHeader(header);
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && signatureMatches(body, parsed.signatures, TEST_WEBHOOK_SECRET)).toBe(expected);
  });
});

describe('v3 event parsing (pure)', () => {
  it.each([
    ['incident.triggered', 'Q1ABCDE'],
    ['incident.acknowledged', 'Q1ABCDE'],
    ['incident.unacknowledged', 'Q1ABCDE'],
    ['incident.escalated', 'Q1ABCDE'],
    ['incident.reassigned', 'Q1ABCDE'],
    ['incident.priority_updated', 'Q1ABCDE'],
    ['incident.resolved', 'Q1ABCDE'],
    ['incident.reopened', 'Q1ABCDE'],
    ['incident.annotated', 'Q1ABCDE'],
  ])('%s names incident %s', (eventType, incidentId) => {
    const event = parseWebhookEvent(
      Buffer.from(incidentWebhookBody('01EVT', eventType, incidentId, new Date('2026-11-22T08:00:00Z')))
    );
    expect(event).toEqual({
      kind: 'incident',
      eventId: '01EVT',
      eventType,
      incidentId,
      occurredAt: new Date('2026-11-22T08:00:00Z'),
    });
  });

  it.each([
    [
      'service.updated',
      JSON.stringify({ event: { id: 'E1', event_type: 'service.updated', data: { id: 'PSVC', type: 'service' } } }),
      'ignored',
    ],
    [
      'incident.responder.added',
      JSON.stringify({ event: { id: 'E2', event_type: 'incident.responder.added', data: {} } }),
      'ignored',
    ],
    ['not JSON', '{"event": ', 'invalid'],
    ['no event', '{"messages": []}', 'invalid'],
    [
      'no event id',
      JSON.stringify({ event: { event_type: 'incident.resolved', data: { id: 'Q1', type: 'incident' } } }),
      'invalid',
    ],
    [
      'no incident id',
      JSON.stringify({ event: { id: 'E3', event_type: 'incident.resolved', data: { type: 'incident' } } }),
      'invalid',
    ],
    [
      'an incident id with a path in it',
      JSON.stringify({
        event: { id: 'E4', event_type: 'incident.resolved', data: { id: '../users', type: 'incident' } },
      }),
      'invalid',
    ],
  ])('%s is %s', (_case, body, kind) => {
    expect(parseWebhookEvent(Buffer.from(body)).kind).toBe(kind);
  });
});
