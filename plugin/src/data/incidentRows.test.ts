import { describe, expect, it } from 'vitest';
import { missingIncidentFields, parseTimeline, toIncidentRow } from './incidentRows';

describe('toIncidentRow', () => {
  it('reads the documented fields case-insensitively', () => {
    const row = toIncidentRow(
      { TITLE: 'Disk full', Severity: 'SEV2', status: 'acknowledged', CREATED_AT: 1000, ack_sla: 'met' },
      3
    );
    expect(row).toMatchObject({
      key: '3',
      title: 'Disk full',
      severity: 'SEV2',
      status: 'acknowledged',
      createdAt: 1000,
      ackSla: 'met',
    });
  });

  it('keeps unknown SLA outcomes and missing numbers as null, never 0', () => {
    const row = toIncidentRow(
      { title: 't', severity: 'SEV3', status: 's', created_at: 1, ack_sla: 'late', tta_seconds: null },
      0
    );
    expect(row.ackSla).toBeNull();
    expect(row.ttaSeconds).toBeNull();
  });
});

describe('missingIncidentFields', () => {
  it('names the required columns a query lacks', () => {
    expect(missingIncidentFields(['Title', 'severity'])).toEqual(['status', 'created_at']);
    expect(missingIncidentFields(['title', 'severity', 'status', 'created_at'])).toEqual([]);
  });
});

describe('parseTimeline', () => {
  it.each([
    ['null', null, null],
    ['not JSON', '{oops', null],
    ['not an array', '{"at": 1}', null],
  ])('%s gives no timeline', (_name, value, expected) => {
    expect(parseTimeline(value)).toEqual(expected);
  });

  it('sorts events and drops ones without a time', () => {
    const events = parseTimeline(
      JSON.stringify([
        { at: '2026-10-03T12:05:00Z', type: 'resolve' },
        { at: null, type: 'annotate' },
        { at: '2026-10-03T12:00:00Z', type: 'trigger', agent: 'PagerDuty' },
      ])
    );
    expect(events?.map((event) => event.type)).toEqual(['trigger', 'resolve']);
    expect(events?.[0]?.agent).toBe('PagerDuty');
  });
});
