import type { IncidentMetricsRow } from '@incident-lens/common/report';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { MetricRows, periodMetrics, totalRow } from './support/metrics-rows.ts';

// The metric functions of sql/lens on hand-built rows. Every
// expected figure is worked out by hand in the comments next to it.

let database: TestDatabase;
let rows: MetricRows;

beforeAll(async () => {
  database = await createTestDatabase();
  rows = await MetricRows.create(database.db);
});

afterAll(async () => {
  await database.destroy();
});

beforeEach(async () => {
  await rows.clear();
  await sql`UPDATE metric_settings SET repeat_window_days = 90`.execute(database.db);
});

function byKey(result: IncidentMetricsRow[], dimension: string, key: string | null): IncidentMetricsRow {
  const row = result.find((candidate) => candidate.dimension === dimension && candidate.dimension_key === key);
  if (!row) {
    throw new Error(`no ${dimension} row ${key}`);
  }
  return row;
}

async function outcomes(rangeStart: string, rangeEnd: string, asOf: string, tz = 'UTC') {
  const result = await sql<Record<string, unknown> & { external_id: string }>`
    SELECT * FROM lens.incident_facts(${rangeStart}::timestamptz, ${rangeEnd}::timestamptz, ${asOf}::timestamptz, ${tz})`.execute(
    database.db
  );
  return new Map(result.rows.map((row) => [row.external_id, row]));
}

describe('period bounds', () => {
  const cases = [
    // Europe/Berlin leaves summer time on 2026-10-25: that day has 25 hours.
    {
      granularity: 'day',
      day: '2026-10-25',
      tz: 'Europe/Berlin',
      start: '2026-10-24T22:00:00.000Z',
      end: '2026-10-25T23:00:00.000Z',
      label: '2026-10-25',
      startText: '2026-10-25T00:00:00+02:00',
      endText: '2026-10-26T00:00:00+01:00',
      hours: 25,
    },
    // ...and enters it on 2026-03-29: 23 hours.
    {
      granularity: 'day',
      day: '2026-03-29',
      tz: 'Europe/Berlin',
      start: '2026-03-28T23:00:00.000Z',
      end: '2026-03-29T22:00:00.000Z',
      label: '2026-03-29',
      startText: '2026-03-29T00:00:00+01:00',
      endText: '2026-03-30T00:00:00+02:00',
      hours: 23,
    },
    // ISO week 1 of 2026 starts on Monday 2025-12-29.
    {
      granularity: 'week',
      day: '2026-01-01',
      tz: 'UTC',
      start: '2025-12-29T00:00:00.000Z',
      end: '2026-01-05T00:00:00.000Z',
      label: '2026-W01',
      startText: '2025-12-29T00:00:00+00:00',
      endText: '2026-01-05T00:00:00+00:00',
      hours: 168,
    },
    // 2027-01-01 is a Friday of ISO week 53 of 2026.
    {
      granularity: 'week',
      day: '2027-01-01',
      tz: 'UTC',
      start: '2026-12-28T00:00:00.000Z',
      end: '2027-01-04T00:00:00.000Z',
      label: '2026-W53',
      startText: '2026-12-28T00:00:00+00:00',
      endText: '2027-01-04T00:00:00+00:00',
      hours: 168,
    },
    // A week over the autumn change has 169 hours.
    {
      granularity: 'week',
      day: '2026-10-25',
      tz: 'Europe/Berlin',
      start: '2026-10-18T22:00:00.000Z',
      end: '2026-10-25T23:00:00.000Z',
      label: '2026-W43',
      startText: '2026-10-19T00:00:00+02:00',
      endText: '2026-10-26T00:00:00+01:00',
      hours: 169,
    },
    {
      granularity: 'month',
      day: '2026-10-15',
      tz: 'Europe/Berlin',
      start: '2026-09-30T22:00:00.000Z',
      end: '2026-10-31T23:00:00.000Z',
      label: '2026-10',
      startText: '2026-10-01T00:00:00+02:00',
      endText: '2026-11-01T00:00:00+01:00',
      hours: 745,
    },
    {
      granularity: 'month',
      day: '2026-02-01',
      tz: 'America/New_York',
      start: '2026-02-01T05:00:00.000Z',
      end: '2026-03-01T05:00:00.000Z',
      label: '2026-02',
      startText: '2026-02-01T00:00:00-05:00',
      endText: '2026-03-01T00:00:00-05:00',
      hours: 672,
    },
    {
      granularity: 'day',
      day: '2026-06-01',
      tz: 'Asia/Kolkata',
      start: '2026-05-31T18:30:00.000Z',
      end: '2026-06-01T18:30:00.000Z',
      label: '2026-06-01',
      startText: '2026-06-01T00:00:00+05:30',
      endText: '2026-06-02T00:00:00+05:30',
      hours: 24,
    },
  ];

  it.each(cases)('$granularity of $day in $tz', async (expected) => {
    const result = await sql<{
      period_start: Date;
      period_end: Date;
      period_label: string;
      start_text: string;
      end_text: string;
    }>`
      SELECT p.*, lens.iso_local(p.period_start, ${expected.tz}) AS start_text, lens.iso_local(p.period_end, ${expected.tz}) AS end_text
      FROM lens.period_bounds(${expected.granularity}, ${expected.day}::date, ${expected.tz}) p`.execute(database.db);
    const period = result.rows[0]!;
    expect(period.period_start.toISOString()).toBe(expected.start);
    expect(period.period_end.toISOString()).toBe(expected.end);
    expect(period.period_label).toBe(expected.label);
    expect(period.start_text).toBe(expected.startText);
    expect(period.end_text).toBe(expected.endText);
    expect((period.period_end.getTime() - period.period_start.getTime()) / 3_600_000).toBe(expected.hours);
  });

  it('lists the recent periods oldest first, and every period a range overlaps', async () => {
    const recent = await sql<{ period_label: string }>`
      SELECT period_label FROM lens.recent_periods('month', '2026-02-10', 'UTC', 3)`.execute(database.db);
    expect(recent.rows.map((row) => row.period_label)).toEqual(['2025-12', '2026-01', '2026-02']);
    const days = await sql<{ period_label: string }>`
      SELECT period_label FROM lens.periods('day', '2026-10-24T12:00:00Z', '2026-10-26T00:00:00Z', 'Europe/Berlin')`.execute(
      database.db
    );
    // 2026-10-26T00:00Z is 01:00 local on the 26th: that day overlaps too.
    expect(days.rows.map((row) => row.period_label)).toEqual(['2026-10-24', '2026-10-25', '2026-10-26']);
    // Months of 31, 30 and 28 days in a row.
    const months = await sql<{ period_label: string }>`
      SELECT period_label FROM lens.periods('month', '2025-12-15T00:00:00Z', '2026-03-01T00:00:00Z', 'UTC')`.execute(
      database.db
    );
    expect(months.rows.map((row) => row.period_label)).toEqual(['2025-12', '2026-01', '2026-02']);
  });

  it('refuses an unknown granularity, naming the choices', async () => {
    await expect(
      sql`SELECT * FROM lens.period_bounds('quarter', '2026-01-01', 'UTC')`.execute(database.db)
    ).rejects.toThrow("granularity must be day, week or month: got 'quarter'");
  });

  it('formats fractional seconds and half-hour offsets', async () => {
    const result = await sql<{ text: string }>`
      SELECT lens.iso_local('2026-07-01T12:00:00.25Z', 'America/St_Johns') AS text`.execute(database.db);
    expect(result.rows[0]!.text).toBe('2026-07-01T09:30:00.25-02:30');
  });

  it('sums durations exactly as whole microseconds, with six decimals whatever their size', async () => {
    // Spans between instants, as lens.seconds_between gives them: a few
    // microseconds, a fraction of a second that has no exact double, a month,
    // just under a billion seconds, 40 years and a negative one.
    const result = await sql<{ summed: string; numeric: string; scale: number; infinite: string | null }>`
      WITH span(later, earlier) AS (VALUES
        ('2026-01-01T00:00:00.000007Z'::timestamptz, '2026-01-01T00:00:00Z'::timestamptz),
        ('2026-01-01T00:00:00.1Z', '2026-01-01T00:00:00Z'),
        ('2026-02-01T00:00:00.999999Z', '2026-01-01T00:00:00.000001Z'),
        ('2026-09-09T01:46:39.999999Z', '1995-01-01T00:00:00Z'),
        ('2026-01-01T00:00:00.5Z', '1986-01-01T00:00:00Z'),
        ('2026-01-01T00:00:00Z', '2026-01-01T00:00:01.25Z')),
      seconds AS (SELECT lens.seconds_between(later, earlier) AS x FROM span)
      SELECT (sum(lens.whole_micros(x)) * 0.000001)::text AS summed, sum(x::numeric)::text AS numeric,
             scale(sum(lens.whole_micros(x)) * 0.000001) AS scale,
             lens.whole_micros('infinity')::text AS infinite
      FROM seconds`.execute(database.db);
    const row = result.rows[0]!;
    // 0.000007 + 0.1 + 2,678,400.999998 + 999,999,999.999999 + 1,262,304,000.5 - 1.25
    expect(row.summed).toBe('2264982400.350004');
    expect(Number(row.summed)).toBe(Number(row.numeric));
    // A mean then divides the same digits whether its sum was taken at once or in pieces.
    expect(row.scale).toBe(6);
    expect(row.infinite).toBeNull();
  });
});

describe('attribution to a period', () => {
  it('counts the 25 hours of 2026-10-25 in Europe/Berlin, half-open', async () => {
    await rows.incidents([
      { id: 'before', created: '2026-10-24T21:59:59Z' }, // 23:59:59 CEST on the 24th
      { id: 'first', created: '2026-10-24T22:00:00Z' }, // 00:00 CEST
      { id: 'repeated-hour', created: '2026-10-25T00:30:00Z' }, // 02:30 CEST, the first of two 02:30s
      { id: 'last', created: '2026-10-25T22:59:59Z' }, // 23:59:59 CET
      { id: 'after', created: '2026-10-25T23:00:00Z' }, // 00:00 CET on the 26th
    ]);
    const total = totalRow(
      await periodMetrics(database.db, 'day', '2026-10-25', '2026-12-01T00:00:00Z', 'Europe/Berlin')
    );
    expect(total.incidents).toBe(3);
    const facts = await outcomes(
      '2026-10-24T22:00:00Z',
      '2026-10-25T23:00:00Z',
      '2026-12-01T00:00:00Z',
      'Europe/Berlin'
    );
    expect([...facts.keys()]).toEqual(['first', 'repeated-hour', 'last']);
  });

  it('counts an ISO week that spans the new year', async () => {
    await rows.incidents([
      { id: 'sunday-before', created: '2025-12-28T23:59:59Z' },
      { id: 'monday', created: '2025-12-29T00:00:00Z' },
      { id: 'new-year', created: '2026-01-01T12:00:00Z' },
      { id: 'sunday', created: '2026-01-04T23:59:59Z' },
      { id: 'next-monday', created: '2026-01-05T00:00:00Z' },
    ]);
    const result = await periodMetrics(database.db, 'week', '2025-12-31', '2026-02-01T00:00:00Z', 'UTC');
    expect(totalRow(result)).toMatchObject({ period_label: '2026-W01', incidents: 3 });
  });
});

describe('MTTA, MTTR and SLA on one day', () => {
  // 2026-03-10 (a Tuesday) in UTC, as of the next midnight. SEV2: ack 30 min, resolve 4 h.
  const asOf = '2026-03-11T00:00:00Z';
  beforeEach(async () => {
    await rows.incidents([
      {
        id: 'acked',
        created: '2026-03-10T10:00:00Z',
        ack: '2026-03-10T10:10:00Z',
        resolved: '2026-03-10T11:00:00Z',
        service: 'checkout',
        team: 'payments',
      },
      // Resolved before anyone acked: the SLA counts the resolve as the response, MTTA leaves it out.
      {
        id: 'resolved-unacked',
        created: '2026-03-10T10:00:00Z',
        resolved: '2026-03-10T10:20:00Z',
        service: 'checkout',
        team: 'payments',
      },
      // Never acknowledged, still open at as_of, created off hours.
      { id: 'open', created: '2026-03-10T19:00:00Z', service: 'search', team: 'search' },
      {
        id: 'late',
        created: '2026-03-10T10:00:00Z',
        ack: '2026-03-10T10:40:00Z',
        resolved: '2026-03-10T15:00:00Z',
        escalated: true,
        service: 'search',
        team: 'search',
      },
      // Acked, unacked, acked again: acknowledged_at stays the first ack.
      {
        id: 'reacked',
        created: '2026-03-10T12:00:00Z',
        ack: '2026-03-10T12:05:00Z',
        resolved: '2026-03-10T12:30:00Z',
        unackCount: 1,
      },
      // A duplicate merged into another incident: only incidents.merged sees it.
      {
        id: 'merged',
        created: '2026-03-10T12:00:00Z',
        ack: '2026-03-10T12:01:00Z',
        resolved: '2026-03-10T12:02:00Z',
        merged: true,
      },
      // No severity: in MTTA/MTTR, unclassified, out of SLA compliance.
      {
        id: 'unknown',
        created: '2026-03-10T13:00:00Z',
        ack: '2026-03-10T13:30:00Z',
        resolved: '2026-03-10T14:00:00Z',
        severity: 'UNKNOWN',
      },
    ]);
  });

  it.each([
    { id: 'acked', tta: 600, ttr: 3600, response: 600, ack: 'met', resolve: 'met', open: false },
    { id: 'resolved-unacked', tta: null, ttr: 1200, response: 1200, ack: 'met', resolve: 'met', open: false },
    { id: 'open', tta: null, ttr: null, response: null, ack: 'breached', resolve: 'breached', open: true },
    { id: 'late', tta: 2400, ttr: 18000, response: 2400, ack: 'breached', resolve: 'breached', open: false },
    { id: 'reacked', tta: 300, ttr: 1800, response: 300, ack: 'met', resolve: 'met', open: false },
    { id: 'unknown', tta: 1800, ttr: 3600, response: 1800, ack: null, resolve: null, open: false },
  ])('incident $id: tta $tta, ttr $ttr, ack $ack, resolve $resolve', async (expected) => {
    const facts = await outcomes('2026-03-10T00:00:00Z', '2026-03-11T00:00:00Z', asOf);
    expect(facts.get(expected.id)).toMatchObject({
      tta_seconds: expected.tta,
      ttr_seconds: expected.ttr,
      first_response_seconds: expected.response,
      ack_outcome: expected.ack,
      resolve_outcome: expected.resolve,
      is_open: expected.open,
    });
  });

  it('aggregates the day, merged and UNKNOWN handled as docs/metrics.md says', async () => {
    const result = await periodMetrics(database.db, 'day', '2026-03-10', asOf, 'UTC');
    expect(totalRow(result)).toMatchObject({
      incidents: 6, // 7 rows, one merged
      merged: 1,
      open: 1,
      unclassified: 1,
      sev2: 5,
      unknown: 1,
      // acks: 600, 2400, 300, 1800 -> sorted 300 600 1800 2400
      mtta_count: 4,
      unacknowledged: 2,
      mtta_mean_seconds: 1275, // 5100 / 4
      mtta_median_seconds: 1200, // between 600 and 1800
      mtta_p90_seconds: expect.closeTo(2220, 6), // rank 2.7: 1800 + 0.7 * 600
      mtta_p95_seconds: expect.closeTo(2310, 6), // rank 2.85: 1800 + 0.85 * 600
      // resolves: 3600, 1200, 18000, 1800, 3600 -> sorted 1200 1800 3600 3600 18000
      mttr_count: 5,
      mttr_mean_seconds: 5640, // 28200 / 5
      mttr_median_seconds: 3600,
      mttr_p90_seconds: expect.closeTo(12240, 6), // rank 3.6: 3600 + 0.6 * 14400
      mttr_p95_seconds: expect.closeTo(15120, 6), // rank 3.8: 3600 + 0.8 * 14400
      // SEV2 only: acked met, resolved-unacked met (its resolve at 20 min), reacked met; open and late breached.
      ack_met: 3,
      ack_breached: 2,
      ack_pending: 0,
      ack_compliance: 0.6,
      resolve_met: 3,
      resolve_breached: 2,
      resolve_pending: 0,
      resolve_compliance: 0.6,
      escalated: 1,
      escalation_rate: 1 / 6,
      business_hours: 5,
      off_hours: 1, // 19:00 UTC
      // SEV2 requires a post-mortem 7 days after the resolve: none due yet.
      postmortems_required: 5,
      postmortems_completed: 0,
      postmortems_overdue: 0,
      share: 1,
    });
  });

  it('breaks the figures down by severity, service and team', async () => {
    const result = await periodMetrics(database.db, 'day', '2026-03-10', asOf, 'UTC');
    expect(byKey(result, 'severity', 'SEV2')).toMatchObject({
      incidents: 5,
      share: 5 / 6,
      mtta_count: 3, // 600, 2400, 300
      mtta_mean_seconds: 1100,
      mtta_median_seconds: 600,
      ack_compliance: 0.6,
    });
    expect(byKey(result, 'severity', 'UNKNOWN')).toMatchObject({
      incidents: 1,
      ack_met: 0,
      ack_breached: 0,
      ack_compliance: null,
    });
    // Severities without incidents still have their row.
    expect(byKey(result, 'severity', 'SEV1')).toMatchObject({
      incidents: 0,
      mtta_count: 0,
      mtta_mean_seconds: null,
      ack_compliance: null,
    });
    const checkout = byKey(result, 'service', await serviceId('checkout'));
    expect(checkout).toMatchObject({
      dimension_label: 'checkout',
      incidents: 2,
      mtta_count: 1,
      mttr_mean_seconds: 2400,
      ack_compliance: 1,
    });
    const search = byKey(result, 'team', await teamId('search'));
    expect(search).toMatchObject({ dimension_label: 'search', incidents: 2, open: 1, resolve_compliance: 0 });
    // reacked, unknown (and the merged one, counted only as merged) have no service.
    expect(byKey(result, 'service', null)).toMatchObject({ dimension_label: '(no service)', incidents: 2, merged: 1 });
  });
});

async function serviceId(name: string): Promise<string> {
  const row = await database.db.selectFrom('services').select('id').where('name', '=', name).executeTakeFirstOrThrow();
  return String(row.id);
}

async function teamId(name: string): Promise<string> {
  const row = await database.db.selectFrom('teams').select('id').where('name', '=', name).executeTakeFirstOrThrow();
  return String(row.id);
}

describe('as of an instant', () => {
  // SEV1: ack 15 min, resolve 1 h.
  beforeEach(async () => {
    await rows.incidents([
      { id: 'silent', created: '2026-03-10T10:00:00Z', severity: 'SEV1' },
      {
        id: 'on-the-second',
        created: '2026-03-10T10:00:00Z',
        ack: '2026-03-10T10:15:00Z',
        resolved: '2026-03-10T11:00:00Z',
        severity: 'SEV1',
      },
      { id: 'later', created: '2026-03-10T10:30:00Z', severity: 'SEV1' },
    ]);
  });

  it.each([
    // Before every deadline nothing is decided; the ack at 10:15 has not happened yet.
    {
      asOf: '2026-03-10T10:14:59Z',
      incidents: 2,
      mttaCount: 0,
      ack: [0, 0, 2],
      resolve: [0, 0, 2],
      silent: ['pending', 'pending'],
    },
    // At the deadline: the silent incident breaches, the ack at exactly 15 min is met.
    {
      asOf: '2026-03-10T10:15:00Z',
      incidents: 2,
      mttaCount: 1,
      ack: [1, 1, 0],
      resolve: [0, 0, 2],
      silent: ['breached', 'pending'],
    },
    {
      asOf: '2026-03-10T10:59:59Z',
      incidents: 3,
      mttaCount: 1,
      ack: [1, 2, 0],
      resolve: [0, 0, 3],
      silent: ['breached', 'pending'],
    },
    // The resolve at exactly 1 h is met; the silent one breaches it; `later` (10:30) is still pending.
    {
      asOf: '2026-03-10T11:00:00Z',
      incidents: 3,
      mttaCount: 1,
      ack: [1, 2, 0],
      resolve: [1, 1, 1],
      silent: ['breached', 'breached'],
    },
  ])('as of $asOf', async (expected) => {
    const total = totalRow(await periodMetrics(database.db, 'day', '2026-03-10', expected.asOf, 'UTC'));
    expect([total.incidents, total.mtta_count, total.unacknowledged]).toEqual([
      expected.incidents,
      expected.mttaCount,
      expected.incidents - expected.mttaCount,
    ]);
    expect([total.ack_met, total.ack_breached, total.ack_pending]).toEqual(expected.ack);
    expect([total.resolve_met, total.resolve_breached, total.resolve_pending]).toEqual(expected.resolve);
    const facts = await outcomes('2026-03-10T00:00:00Z', '2026-03-11T00:00:00Z', expected.asOf);
    expect([facts.get('silent')!.ack_outcome, facts.get('silent')!.resolve_outcome]).toEqual(expected.silent);
  });

  it('counts an escalation from its log entry, or from creation when the source logged none', async () => {
    await rows.incidents([
      { id: 'escalated-unlogged', created: '2026-03-10T10:00:00Z', severity: 'SEV1', escalated: true },
    ]);
    await sql`UPDATE incidents SET escalated = true WHERE external_id = 'silent'`.execute(database.db);
    await sql`INSERT INTO incident_events (incident_id, source_id, external_id, type, raw_type, occurred_at)
              VALUES (${rows.incidentId('silent')}, ${rows.pagerdutyId}, 'LE-ESC', 'escalate', 'escalate_log_entry', '2026-03-10T10:20:00Z')`.execute(
      database.db
    );
    const before = await outcomes('2026-03-10T00:00:00Z', '2026-03-11T00:00:00Z', '2026-03-10T10:19:59Z');
    expect([before.get('silent')!.escalated, before.get('escalated-unlogged')!.escalated]).toEqual([false, true]);
    const after = await outcomes('2026-03-10T00:00:00Z', '2026-03-11T00:00:00Z', '2026-03-10T10:20:00Z');
    expect(after.get('silent')!.escalated).toBe(true);
  });

  it('counts an incident resolved after as_of as open, and its ack after as_of as none', async () => {
    const facts = await outcomes('2026-03-10T00:00:00Z', '2026-03-11T00:00:00Z', '2026-03-10T10:10:00Z');
    expect(facts.get('on-the-second')).toMatchObject({
      acknowledged_at: null,
      resolved_at: null,
      is_open: true,
      tta_seconds: null,
    });
  });
});

describe('percentiles', () => {
  // One incident per value on its own day; percentile_cont interpolates linearly between ranks.
  it.each([
    { day: '2026-04-01', values: [], count: 0, mean: null, median: null, p90: null, p95: null },
    { day: '2026-04-02', values: [100], count: 1, mean: 100, median: 100, p90: 100, p95: 100 },
    { day: '2026-04-03', values: [200, 100], count: 2, mean: 150, median: 150, p90: 190, p95: 195 },
    // ranks: median 1.5 -> 25; p90 2.7 -> 30 + 0.7 * 10; p95 2.85 -> 30 + 0.85 * 10
    { day: '2026-04-04', values: [40, 10, 30, 20], count: 4, mean: 25, median: 25, p90: 37, p95: 38.5 },
  ])('$values', async (expected) => {
    await rows.incidents(
      expected.values.map((seconds, index) => ({
        id: `${expected.day}-${index}`,
        created: `${expected.day}T08:00:00Z`,
        ack: new Date(Date.parse(`${expected.day}T08:00:00Z`) + seconds * 1000).toISOString(),
      }))
    );
    const total = totalRow(await periodMetrics(database.db, 'day', expected.day, '2026-05-01T00:00:00Z', 'UTC'));
    expect(total.mtta_count).toBe(expected.count);
    expect(total.mtta_mean_seconds).toBe(expected.mean);
    expect(total.mtta_median_seconds).toBe(expected.median);
    // Interpolation happens in floating point: equal to 9 decimals.
    for (const [figure, value] of [
      [total.mtta_p90_seconds, expected.p90],
      [total.mtta_p95_seconds, expected.p95],
    ] as const) {
      if (value === null) {
        expect(figure).toBeNull();
      } else {
        expect(figure).toBeCloseTo(value, 9);
      }
    }
  });
});

describe('post-mortems', () => {
  // SEV1: a post-mortem is due 48 h after the resolve. All created 2026-05-01, resolved at 01:00.
  beforeEach(async () => {
    await rows.incidents([
      { id: 'on-time', created: '2026-05-01T00:00:00Z', resolved: '2026-05-01T01:00:00Z', severity: 'SEV1' },
      { id: 'late', created: '2026-05-01T00:00:00Z', resolved: '2026-05-01T01:00:00Z', severity: 'SEV1' },
      { id: 'missing', created: '2026-05-01T00:00:00Z', resolved: '2026-05-01T01:00:00Z', severity: 'SEV1' },
      { id: 'unresolved', created: '2026-05-01T00:00:00Z', severity: 'SEV1' },
      { id: 'not-required', created: '2026-05-01T00:00:00Z', resolved: '2026-05-01T01:00:00Z', severity: 'SEV3' },
    ]);
    await rows.postmortems([
      { id: 'PM-1', incident: 'on-time', created: '2026-05-01T02:00:00Z', completed: '2026-05-03T01:00:00Z' },
      { id: 'PM-2', incident: 'late', created: '2026-05-01T02:00:00Z', completed: '2026-05-03T01:00:01Z' },
    ]);
  });

  it.each([
    {
      asOf: '2026-05-03T00:59:59Z',
      completed: 0,
      onTime: 0,
      overdue: 0,
      outcomes: ['pending', 'pending', 'pending', 'pending', null],
    },
    // At the deadline: PM-1 is done on the second; the missing one is overdue; PM-2 not done yet is overdue too.
    {
      asOf: '2026-05-03T01:00:00Z',
      completed: 1,
      onTime: 1,
      overdue: 2,
      outcomes: ['on_time', 'overdue', 'overdue', 'pending', null],
    },
    {
      asOf: '2026-06-01T00:00:00Z',
      completed: 2,
      onTime: 1,
      overdue: 1,
      outcomes: ['on_time', 'late', 'overdue', 'pending', null],
    },
  ])('as of $asOf', async (expected) => {
    const total = totalRow(await periodMetrics(database.db, 'month', '2026-05-01', expected.asOf, 'UTC'));
    expect(total).toMatchObject({
      postmortems_required: 4,
      postmortems_completed: expected.completed,
      postmortems_completed_on_time: expected.onTime,
      postmortems_overdue: expected.overdue,
    });
    const facts = await outcomes('2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z', expected.asOf);
    expect(
      ['on-time', 'late', 'missing', 'unresolved', 'not-required'].map((id) => facts.get(id)!.postmortem_outcome)
    ).toEqual(expected.outcomes);
  });
});

describe('action items', () => {
  // October 2026 in Europe/Berlin. Due 2026-10-15 means done before 2026-10-16T00:00 local = 2026-10-15T22:00Z.
  beforeEach(async () => {
    await rows.incidents([
      {
        id: 'incident',
        created: '2026-10-01T08:00:00Z',
        resolved: '2026-10-01T09:00:00Z',
        service: 'checkout',
        team: 'payments',
      },
    ]);
    await rows.actionItems([
      {
        id: 'AI-ON-TIME',
        incident: 'incident',
        created: '2026-10-02T00:00:00Z',
        due: '2026-10-15',
        completed: '2026-10-15T21:59:59Z',
        owner: 'Ana',
      },
      {
        id: 'AI-LATE',
        incident: 'incident',
        created: '2026-10-02T00:00:00Z',
        due: '2026-10-15',
        completed: '2026-10-15T22:00:00Z',
        owner: 'Ben',
      },
      { id: 'AI-OPEN', incident: 'incident', created: '2026-10-02T00:00:00Z', due: '2026-10-15', owner: 'Cleo' },
      // Reopened after being done: open again, whatever it says about a past completion.
      {
        id: 'AI-REOPENED',
        incident: 'incident',
        created: '2026-10-02T00:00:00Z',
        due: '2026-10-20',
        category: 'indeterminate',
        owner: 'Dev',
      },
      // Due in September and still open: in no October figure but in openOverdueTotal.
      { id: 'AI-SEPTEMBER', incident: 'incident', created: '2026-09-01T00:00:00Z', due: '2026-09-30', owner: 'Eve' },
      { id: 'AI-UNDATED', incident: 'incident', created: '2026-10-05T00:00:00Z' },
      // Created after as_of: does not exist yet.
      { id: 'AI-FUTURE', incident: 'incident', created: '2026-11-10T00:00:00Z', due: '2026-10-31' },
    ]);
  });

  async function itemMetrics(asOf: string, tz: string) {
    const result = await sql<Record<string, unknown>>`
      SELECT m.* FROM lens.period_bounds('month', '2026-10-01', ${tz}) p
      CROSS JOIN LATERAL lens.action_item_metrics(p.period_start, p.period_end, ${asOf}::timestamptz, ${tz}, 'month') m`.execute(
      database.db
    );
    return result.rows;
  }

  async function openOverdue(asOf: string, tz: string): Promise<string[]> {
    const result = await sql<{ external_id: string }>`
      SELECT external_id FROM lens.open_overdue_action_items(${asOf}::timestamptz, ${tz})`.execute(database.db);
    return result.rows.map((row) => row.external_id);
  }

  it('counts the period in the report zone, with noDueDate apart', async () => {
    const total = (await itemMetrics('2026-11-01T00:00:00Z', 'Europe/Berlin')).find((row) => row.dimension === 'total');
    expect(total).toMatchObject({
      total: 4,
      completed: 2,
      completed_on_time: 1,
      open: 2,
      overdue: 2, // AI-OPEN and AI-REOPENED
      completion_rate: 0.5,
      on_time_rate: 0.25,
      no_due_date: 1,
    });
    const service = (await itemMetrics('2026-11-01T00:00:00Z', 'Europe/Berlin')).find(
      (row) => row.dimension === 'service'
    );
    expect(service).toMatchObject({ dimension_label: 'checkout', total: 4, no_due_date: 1 });
  });

  it('puts the deadline at the end of the due day in the zone of the report', async () => {
    // In UTC the day of 2026-10-15 ends at 2026-10-16T00:00Z: AI-LATE was on time there.
    const utc = (await itemMetrics('2026-11-01T00:00:00Z', 'UTC')).find((row) => row.dimension === 'total');
    expect(utc).toMatchObject({ completed_on_time: 2 });
    expect(await openOverdue('2026-10-15T21:59:59Z', 'Europe/Berlin')).toEqual(['AI-SEPTEMBER']);
    expect(await openOverdue('2026-10-15T22:00:00Z', 'Europe/Berlin')).toEqual(['AI-SEPTEMBER', 'AI-OPEN']);
    expect(await openOverdue('2026-10-15T22:00:00Z', 'UTC')).toEqual(['AI-SEPTEMBER']);
  });

  it('lists as overdue exactly the items past lens.due_deadline, where clocks go back at midnight too', async () => {
    // Havana goes back from 01:00 to 00:00 on 2026-11-01, so the first hour of that day happens
    // twice; Santiago moves its midnight in April and September. Open items due on each day
    // around those changes; every half hour the list must equal the definition.
    await rows.actionItems(
      [
        '2026-03-31',
        '2026-04-03',
        '2026-04-04',
        '2026-04-05',
        '2026-09-04',
        '2026-09-05',
        '2026-09-06',
        '2026-10-29',
        '2026-10-30',
        '2026-10-31',
        '2026-11-01',
        '2026-11-02',
      ].map((due) => ({
        id: `AI-DUE-${due}`,
        incident: 'incident',
        created: '2026-03-01T00:00:00Z',
        due,
      }))
    );
    let compared = 0;
    for (const [tz, from, to] of [
      ['America/Havana', '2026-10-30T00:00:00Z', '2026-11-03T12:00:00Z'],
      ['America/Santiago', '2026-04-02T00:00:00Z', '2026-04-07T00:00:00Z'],
      ['America/Santiago', '2026-09-03T00:00:00Z', '2026-09-08T00:00:00Z'],
    ] as const) {
      const result = await sql<{ as_of: string; listed: string[]; defined: string[] }>`
        SELECT a.as_of::text,
          ARRAY(SELECT o.external_id FROM lens.open_overdue_action_items(a.as_of, ${tz}) o
                WHERE o.external_id LIKE 'AI-DUE-%' ORDER BY 1) AS listed,
          ARRAY(SELECT i.external_id FROM public.action_items i
                WHERE i.external_id LIKE 'AI-DUE-%' AND lens.due_deadline(i.due_date, ${tz}) <= a.as_of ORDER BY 1)
            AS defined
        FROM generate_series(${from}::timestamptz, ${to}::timestamptz, interval '30 minutes') a(as_of)`.execute(
        database.db
      );
      for (const row of result.rows) {
        expect(row.listed, `${tz} as of ${row.as_of}`).toEqual(row.defined);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(600);
  });

  it('treats a completion after as_of as not done yet', async () => {
    // As of 2026-10-15T21:59:59Z AI-LATE is open and not yet overdue; AI-ON-TIME is done on the second.
    const total = (await itemMetrics('2026-10-15T21:59:59Z', 'Europe/Berlin')).find((row) => row.dimension === 'total');
    expect(total).toMatchObject({ total: 4, completed: 1, completed_on_time: 1, open: 3, overdue: 0 });
    expect(await openOverdue('2026-10-16T00:00:00Z', 'UTC')).toEqual(['AI-SEPTEMBER', 'AI-OPEN']);
  });

  it('lists an overdue item with its owner, incident and team', async () => {
    const result = await sql<Record<string, unknown>>`
      SELECT * FROM lens.open_overdue_action_items('2026-11-01T00:00:00Z', 'Europe/Berlin') WHERE external_id = 'AI-OPEN'`.execute(
      database.db
    );
    expect(result.rows[0]).toMatchObject({
      owner: 'Cleo',
      due_date: '2026-10-15',
      incident_external_id: 'incident',
      service_name: 'checkout',
      team_name: 'payments',
      // From 2026-10-16T00:00+02:00 to 2026-11-01T01:00+01:00: 16 days and 2 hours.
      overdue_seconds: 16 * 86400 + 2 * 3600,
    });
  });
});

describe('repeat root causes', () => {
  it.each<[string, string | null]>([
    ['DB Connection Pool', 'db-connection-pool'],
    ['  db_connection__pool ', 'db-connection-pool'],
    ['(Expired TLS certificate!)', 'expired-tls-certificate'],
    ['Bad_Deploy', 'bad-deploy'],
    ['---', null],
  ])('keys the cause written %j as %j', async (raw, key) => {
    const { rows: slugs } = await sql<{ key: string | null }>`SELECT lens.root_cause_slug(${raw}) AS key`.execute(
      database.db
    );
    expect(slugs[0]!.key).toBe(key);
  });

  // 2026-01-01 to 2026-04-01 is 90 days (31 + 28 + 31).
  beforeEach(async () => {
    await rows.incidents([
      { id: 'pool-1', created: '2026-01-01T00:00:00Z', rootCause: 'DB  Pool' },
      { id: 'pool-2', created: '2026-04-01T00:00:00Z', rootCause: 'db-pool' },
      { id: 'cache-1', created: '2026-01-01T00:00:00Z', rootCause: 'cache' },
      { id: 'cache-2', created: '2026-04-01T00:00:01Z', rootCause: 'cache' },
      // A merged duplicate is no earlier occurrence.
      { id: 'dns-merged', created: '2026-03-30T00:00:00Z', rootCause: 'dns', merged: true },
      { id: 'dns', created: '2026-04-02T00:00:00Z', rootCause: 'dns' },
      // The post-mortem's root cause wins over the incident's own.
      { id: 'deploy-1', created: '2026-03-15T00:00:00Z', rootCause: 'unknown yet' },
      { id: 'deploy-2', created: '2026-04-03T00:00:00Z', rootCause: 'Bad deploy!' },
    ]);
    await rows.postmortems([
      { id: 'PM-DEPLOY', incident: 'deploy-1', created: '2026-03-16T00:00:00Z', rootCause: 'bad deploy!' },
    ]);
  });

  async function causes(asOf = '2026-05-01T00:00:00Z') {
    const result = await sql<{
      root_cause: string;
      incidents: number;
      repeats: number;
      incident_external_ids: string[];
    }>`
      SELECT * FROM lens.repeat_root_causes('2026-04-01T00:00:00Z', '2026-05-01T00:00:00Z', ${asOf}::timestamptz, 'UTC')`.execute(
      database.db
    );
    return result.rows;
  }

  it('counts exactly repeatWindowDays earlier, not one second more', async () => {
    expect(await causes()).toEqual([
      { root_cause: 'bad-deploy', incidents: 1, repeats: 1, incident_external_ids: ['deploy-2'] },
      { root_cause: 'db-pool', incidents: 1, repeats: 1, incident_external_ids: ['pool-2'] },
    ]);
    const total = totalRow(await periodMetrics(database.db, 'month', '2026-04-01', '2026-05-01T00:00:00Z', 'UTC'));
    // Four incidents with a key in April, two of them repeats.
    expect(total).toMatchObject({ root_cause_incidents: 4, repeat_incidents: 2, repeat_rate: 0.5 });
  });

  it('follows a new repeat window at once', async () => {
    await sql`UPDATE metric_settings SET repeat_window_days = 91`.execute(database.db);
    expect((await causes()).map((row) => row.root_cause)).toEqual(['bad-deploy', 'cache', 'db-pool']);
  });

  it('follows a late change of the chain: a new earlier incident, a merge, a new key', async () => {
    await rows.incidents([{ id: 'dns-0', created: '2026-02-01T00:00:00Z', rootCause: 'DNS' }]);
    expect((await causes()).map((row) => row.root_cause)).toContain('dns');
    await sql`UPDATE incidents SET merged = true WHERE external_id = 'pool-1'`.execute(database.db);
    expect((await causes()).map((row) => row.root_cause)).not.toContain('db-pool');
    await sql`UPDATE incidents SET root_cause_key = 'cache' WHERE external_id = 'dns-0'`.execute(database.db);
    expect((await causes()).map((row) => row.root_cause)).toEqual(['bad-deploy', 'cache']);
  });
});

describe('business hours and detection', () => {
  it('splits by local Mon-Fri 08:00-18:00 and averages the time to detect where known', async () => {
    await rows.incidents([
      // 07:30 UTC is 08:30 in Berlin (CET) on Tuesday 2026-03-10.
      { id: 'morning', created: '2026-03-10T07:30:00Z', detected: '2026-03-10T07:20:00Z' },
      // Saturday.
      { id: 'weekend', created: '2026-03-14T12:00:00Z', detected: '2026-03-14T11:30:00Z' },
      { id: 'evening', created: '2026-03-10T17:00:00Z' }, // 18:00 in Berlin: off hours there
    ]);
    const berlin = totalRow(
      await periodMetrics(database.db, 'month', '2026-03-01', '2026-04-01T00:00:00Z', 'Europe/Berlin')
    );
    const utc = totalRow(await periodMetrics(database.db, 'month', '2026-03-01', '2026-04-01T00:00:00Z', 'UTC'));
    expect([berlin.business_hours, berlin.off_hours]).toEqual([1, 2]);
    expect([utc.business_hours, utc.off_hours]).toEqual([1, 2]);
    const facts = await outcomes(
      '2026-03-01T00:00:00Z',
      '2026-04-01T00:00:00Z',
      '2026-04-01T00:00:00Z',
      'Europe/Berlin'
    );
    expect(facts.get('morning')!.business_hours).toBe(true);
    expect(facts.get('evening')!.business_hours).toBe(false);
    const utcFacts = await outcomes('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z', '2026-04-01T00:00:00Z', 'UTC');
    expect(utcFacts.get('morning')!.business_hours).toBe(false);
    expect(utcFacts.get('evening')!.business_hours).toBe(true);
    // 600 s and 1800 s.
    expect(berlin).toMatchObject({ mttd_count: 2, mttd_mean_seconds: 1200, mttd_median_seconds: 1200 });
  });
});
