import { describe, expect, it } from 'vitest';
import type { PdIncident, PdLogEntry } from './api-types.ts';
import { mapIncident, mapLogEntry, mapUser } from './mapper.ts';

const rules = { map: {}, fromUrgency: { high: 'SEV2' as const } };

const incident: PdIncident = {
  id: 'Q1ABCDE',
  type: 'incident',
  incident_number: 1234,
  title: 'The server is on fire.',
  summary: '[#1234] The server is on fire.',
  html_url: 'https://acme.pagerduty.com/incidents/Q1ABCDE',
  created_at: '2026-10-06T21:30:42Z',
  updated_at: '2026-10-06T22:40:23Z',
  status: 'resolved',
  urgency: 'high',
  resolved_at: '2026-10-06T22:40:00Z',
  last_status_change_at: '2026-10-06T22:40:00Z',
  service: {
    id: 'PSVC1',
    type: 'service_reference',
    summary: 'Checkout API',
    html_url: 'https://acme.pagerduty.com/services/PSVC1',
  },
  teams: [{ id: 'PTEAM1', type: 'team_reference', summary: 'Payments' }],
  priority: { id: 'PPRIO1', type: 'priority', name: 'P1', summary: 'P1' },
  resolve_reason: null,
};

describe('mapIncident', () => {
  it('maps the fields the metrics need', () => {
    const result = mapIncident(incident, rules);
    expect(result).toEqual({
      ok: true,
      value: {
        row: {
          externalId: 'Q1ABCDE',
          number: 1234,
          title: 'The server is on fire.',
          status: 'resolved',
          urgency: 'high',
          priorityRaw: 'P1',
          severity: 'SEV1',
          serviceExternalId: 'PSVC1',
          teamExternalId: 'PTEAM1',
          createdAt: '2026-10-06T21:30:42.000Z',
          acknowledgedAt: null,
          resolvedAt: '2026-10-06T22:40:00.000Z',
          merged: false,
          htmlUrl: 'https://acme.pagerduty.com/incidents/Q1ABCDE',
          sourceUpdatedAt: '2026-10-06T22:40:23.000Z',
        },
        service: { externalId: 'PSVC1', name: 'Checkout API', htmlUrl: 'https://acme.pagerduty.com/services/PSVC1' },
        team: { externalId: 'PTEAM1', name: 'Payments', htmlUrl: null },
      },
    });
  });

  it.each([
    ['no priority: urgency decides', { priority: null }, { severity: 'SEV2', priorityRaw: null }],
    ['merged', { resolve_reason: { type: 'merge_resolve_reason', incident: { id: 'Q2' } } }, { merged: true }],
    [
      'still open: no resolve time',
      { status: 'acknowledged', resolved_at: null },
      { resolvedAt: null, status: 'acknowledged' },
    ],
    [
      'offset time zone normalised',
      { created_at: '2026-10-06T23:30:42+02:00' },
      { createdAt: '2026-10-06T21:30:42.000Z' },
    ],
    ['resolved_at missing: last status change', { resolved_at: undefined }, { resolvedAt: '2026-10-06T22:40:00.000Z' }],
  ] as const)('%s', (_name, patch, expected) => {
    const result = mapIncident({ ...incident, ...patch } as PdIncident, rules);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value.row).toMatchObject(expected);
    }
  });

  it.each([
    ['missing id', { id: undefined }, 'incident has no id', null],
    ['missing created_at', { created_at: undefined }, 'incident created_at is missing or not a date', 'Q1ABCDE'],
    [
      'garbage created_at',
      { created_at: 'yesterday' },
      'incident created_at is missing or not a date: "yesterday"',
      'Q1ABCDE',
    ],
    ['unknown status', { status: 'closed' }, 'incident status is not triggered, acknowledged or resolved', 'Q1ABCDE'],
    [
      'resolved before created',
      { resolved_at: '2026-10-06T20:00:00Z' },
      'resolved (2026-10-06T20:00:00.000Z) before it was created',
      'Q1ABCDE',
    ],
    ['priority as text', { priority: 'P1' }, 'priority is neither an object nor null', 'Q1ABCDE'],
  ] as const)('quarantines %s', (_name, patch, reason, externalId) => {
    const result = mapIncident({ ...incident, ...patch } as unknown as PdIncident, rules);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toContain(reason);
      expect(result.externalId).toBe(externalId);
    }
  });
});

const entry: PdLogEntry = {
  id: 'R2XGXEI3W0FHMAGPR4IZS6UYD1',
  type: 'acknowledge_log_entry',
  summary: 'Acknowledged by Earline Greenholt.',
  created_at: '2026-10-06T21:35:00Z',
  agent: { id: 'PUSER1', type: 'user_reference', summary: 'Earline Greenholt' },
  channel: { type: 'web_ui' },
  incident: { id: 'Q1ABCDE', type: 'incident_reference', summary: '[#1234] The server is on fire.' } as PdIncident,
};

describe('mapLogEntry', () => {
  it.each([
    ['trigger_log_entry', 'trigger'],
    ['acknowledge_log_entry', 'acknowledge'],
    ['acknowledgement_log_entry', 'acknowledge'],
    ['unacknowledge_log_entry', 'unacknowledge'],
    ['escalate_log_entry', 'escalate'],
    ['assign_log_entry', 'assign'],
    ['resolve_log_entry', 'resolve'],
    ['resolve_log_entry_reference', 'resolve'],
    ['annotate_log_entry', 'annotate'],
    ['notify_log_entry', 'notify'],
    ['snooze_log_entry', 'snooze'],
    ['reach_ack_limit_log_entry', 'other'],
  ] as const)('%s is a %s event', (type, expected) => {
    const result = mapLogEntry({ ...entry, type, user: { id: 'PUSER1', type: 'user_reference' } });
    expect(result.ok && result.value.type).toBe(expected);
  });

  it('keeps who did it and the full incident when included', () => {
    const full = { ...incident, type: 'incident' };
    const result = mapLogEntry({ ...entry, incident: full });
    expect(result).toMatchObject({
      ok: true,
      value: {
        incidentExternalId: 'Q1ABCDE',
        externalId: 'R2XGXEI3W0FHMAGPR4IZS6UYD1',
        occurredAt: '2026-10-06T21:35:00.000Z',
        agent: 'Earline Greenholt',
        incident: full,
      },
    });
    const reference = mapLogEntry(entry);
    expect(reference.ok && reference.value.incident).toBeNull();
  });

  it.each([
    ['missing id', { id: '' }, 'log entry has no id'],
    ['missing type', { type: undefined }, 'log entry has no type'],
    ['bad time', { created_at: '2026-13-45' }, 'log entry created_at is missing or not a date'],
    ['no incident', { incident: undefined }, 'log entry refers to no incident'],
  ] as const)('quarantines %s', (_name, patch, reason) => {
    const result = mapLogEntry({ ...entry, ...patch } as PdLogEntry);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toContain(reason);
    }
  });
});

describe('on-call data from log entries (docs/metrics.md §10 and 11)', () => {
  const notify = (channel: PdLogEntry['channel']): PdLogEntry => ({
    ...entry,
    type: 'notify_log_entry',
    user: {
      id: 'PUSER1',
      type: 'user_reference',
      summary: 'Ada Lovelace',
      html_url: 'https://acme.pagerduty.com/users/PUSER1',
    },
    channel,
  });

  it.each([
    [{ type: 'sms_notification' }, 'sms', 'sms_notification'],
    [{ type: 'phone_notification' }, 'phone', 'phone_notification'],
    [{ type: 'push_notification' }, 'push', 'push_notification'],
    [{ type: 'email_notification' }, 'email', 'email_notification'],
    // channel.notification.type wins over channel.type when present.
    [
      { type: 'auto', notification: { type: 'phone_notification', address: '+1 555 0100' } },
      'phone',
      'phone_notification',
    ],
    [{ type: 'auto', notification: {} }, 'unknown', 'auto'],
    // Nothing guessed: anything else is unknown, and kept as sent.
    [{ type: 'sms' }, 'unknown', 'sms'],
    [{ type: 'carrier_pigeon_notification' }, 'unknown', 'carrier_pigeon_notification'],
    [undefined, 'unknown', null],
  ] as const)('channel %j is %s', (channel, method, channelType) => {
    const result = mapLogEntry(notify(channel as PdLogEntry['channel']));
    expect(result.ok && result.value.notification).toEqual({
      user: {
        externalId: 'PUSER1',
        name: 'Ada Lovelace',
        timeZone: null,
        htmlUrl: 'https://acme.pagerduty.com/users/PUSER1',
      },
      method,
      channelType,
    });
  });

  it('quarantines a notification that names no user', () => {
    const result = mapLogEntry({ ...notify({ type: 'sms_notification' }), user: undefined });
    expect(result).toMatchObject({ ok: false, reason: 'notify log entry names no user' });
  });

  it.each([
    [{ id: 'PUSER1', type: 'user_reference' }, undefined, 'user', 'PUSER1', null],
    [{ id: 'PSVC1', type: 'service_reference' }, { type: 'timeout' }, 'service', 'PSVC1', 'timeout'],
    [{ id: 'PINT1', type: 'integration_reference' }, { type: 'api' }, 'integration', 'PINT1', 'api'],
    [{ id: 'PINT2', type: 'generic_email_inbound_integration_reference' }, undefined, 'integration', 'PINT2', null],
    [{ id: 'PKEY1', type: 'api_key_reference' }, undefined, 'api_key', 'PKEY1', null],
    [undefined, undefined, null, null, null],
  ] as const)('resolve by agent %j through %j', (agent, channel, agentType, agentId, channelType) => {
    const result = mapLogEntry({ ...entry, type: 'resolve_log_entry', agent, channel } as PdLogEntry);
    expect(
      result.ok && [result.value.agentType, result.value.agentId, result.value.channelType, result.value.notification]
    ).toEqual([agentType, agentId, channelType, null]);
  });
});

describe('mapUser', () => {
  it('keeps the IANA zone, or none', () => {
    expect(mapUser({ id: 'PUSER1', name: 'Ada', time_zone: 'Asia/Kolkata', html_url: null })).toEqual({
      ok: true,
      value: { externalId: 'PUSER1', name: 'Ada', timeZone: 'Asia/Kolkata', htmlUrl: null },
    });
    expect(mapUser({ id: 'PUSER2', summary: 'Bob', time_zone: null })).toMatchObject({
      ok: true,
      value: { name: 'Bob', timeZone: null },
    });
  });

  it.each([
    [{ name: 'No id' }, 'user has no id'],
    [{ id: 'PUSER3', time_zone: 'Mars/Olympus_Mons' }, 'user time_zone is not an IANA zone: "Mars/Olympus_Mons"'],
    [{ id: 'PUSER4', time_zone: 5 }, 'user time_zone is not an IANA zone: 5'],
  ])('quarantines %j', (user, reason) => {
    expect(mapUser(user as never)).toMatchObject({ ok: false, reason });
  });
});
