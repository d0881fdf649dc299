import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NotificationMethod } from '../collector/src/db/schema.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { MetricRows } from './support/metrics-rows.ts';

// On-call load and noise (lens.oncall_metrics, sql/008_oncall.sql) on
// hand-built rows. Every expected figure is worked out in the comments.

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
});

interface OnCallRow {
  period_label: string | null;
  dimension: string;
  dimension_key: string | null;
  external_id: string | null;
  dimension_label: string;
  time_zone: string | null;
  notifications: number;
  unknown_method: number;
  interruptions: number;
  business: number;
  off: number;
  sleep: number;
  nights_interrupted: number;
  acknowledged: number;
  incidents: number;
  auto_resolved: number;
  transient: number;
  auto_resolved_share: number | null;
  transient_share: number | null;
}

async function onCall(
  rangeStart: string,
  rangeEnd: string,
  asOf: string,
  tz = 'UTC',
  granularity: string | null = null
) {
  const result = await sql<OnCallRow>`
    SELECT * FROM lens.oncall_metrics(${rangeStart}::timestamptz, ${rangeEnd}::timestamptz, ${asOf}::timestamptz, ${tz},
                                      ${granularity}::text)`.execute(database.db);
  return result.rows;
}

function responder(result: OnCallRow[], user: string): OnCallRow {
  const row = result.find((candidate) => candidate.dimension === 'responder' && candidate.external_id === user);
  if (!row) {
    throw new Error(`no responder ${user}`);
  }
  return row;
}

function bands(row: OnCallRow) {
  return {
    total: row.interruptions,
    business: row.business,
    off: row.off,
    sleep: row.sleep,
    nights: row.nights_interrupted,
  };
}

function total(result: OnCallRow[]): OnCallRow {
  const row = result.find((candidate) => candidate.dimension === 'total');
  if (!row) {
    throw new Error('no total row');
  }
  return row;
}

describe('bands in the responder’s own zone', () => {
  it('puts 08:00:00, 18:00:00 and 22:00:00 exactly, and a weekend morning, in their half-open bands', async () => {
    // Europe/Berlin is UTC+1 in January. 2026-01-05 is a Monday, 2026-01-10 a Saturday.
    await rows.users([{ id: 'PA', name: 'Ada', zone: 'Europe/Berlin' }]);
    await rows.incidents([{ id: 'I1', created: '2026-01-04T06:00:00Z', service: 'checkout', team: 'payments' }]);
    const at = (instant: string, method: NotificationMethod = 'sms') => ({
      incident: 'I1',
      user: 'PA',
      at: instant,
      method,
    });
    await rows.notifications([
      at('2026-01-05T06:59:59Z'), // Mon 07:59:59 local: sleep, the night of Sun 01-04
      at('2026-01-05T07:00:00Z', 'phone'), // Mon 08:00:00: business
      at('2026-01-05T16:59:59Z', 'push'), // Mon 17:59:59: business
      at('2026-01-05T17:00:00Z'), // Mon 18:00:00: off
      at('2026-01-05T20:59:59Z'), // Mon 21:59:59: off
      at('2026-01-05T21:00:00Z'), // Mon 22:00:00: sleep, the night of 01-05
      at('2026-01-10T06:59:59Z'), // Sat 07:59:59: sleep, the night of Fri 01-09
      at('2026-01-10T07:00:00Z'), // Sat 08:00:00: off (weekend)
      at('2026-01-11T11:00:00Z'), // Sun 12:00: off
      at('2026-01-05T22:00:00Z', 'email'), // never an interruption
      at('2026-01-06T02:00:00Z', 'unknown'), // stored and counted as unknown, never an interruption
    ]);
    const result = await onCall('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z', 'UTC', 'month');
    const ada = responder(result, 'PA');
    expect(bands(ada)).toEqual({ total: 9, business: 2, off: 4, sleep: 3, nights: 3 });
    expect(ada.notifications).toBe(11);
    expect(ada.unknown_method).toBe(1);
    expect(ada.dimension_label).toBe('Ada');
    expect(ada.time_zone).toBe('Europe/Berlin');
    expect(bands(total(result))).toEqual({ total: 9, business: 2, off: 4, sleep: 3, nights: 3 });
    // The interruptions' service and team are their incident's.
    const service = result.find((row) => row.dimension === 'service')!;
    expect([service.dimension_label, service.interruptions]).toEqual(['checkout', 9]);
    const team = result.find((row) => row.dimension === 'team')!;
    expect([team.dimension_label, team.interruptions]).toEqual(['payments', 9]);
    // The heatmap is in the report's zone (UTC): Mon 07:00 UTC holds the 08:00:00 local one.
    const hours = result.filter((row) => row.dimension === 'hour_of_week');
    expect(hours.reduce((sum, row) => sum + row.interruptions, 0)).toBe(9);
    const mondaySeven = hours.find((row) => row.dimension_key === String(7))!;
    expect([mondaySeven.dimension_label, mondaySeven.interruptions]).toEqual(['Mon 07:00', 1]);
    const mondaySix = hours.find((row) => row.dimension_key === String(6))!;
    expect(mondaySix.interruptions).toBe(1);
  });

  it('names a night by the date of its 22:00, across midnight and a month boundary', async () => {
    // UTC user; 2026-02-01 is a Sunday.
    await rows.users([{ id: 'PB', zone: 'UTC' }]);
    await rows.incidents([{ id: 'I1', created: '2026-01-31T22:30:00Z' }]);
    await rows.notifications([
      { incident: 'I1', user: 'PB', at: '2026-01-31T23:00:00Z', method: 'push' }, // night of 01-31, in January
      { incident: 'I1', user: 'PB', at: '2026-02-01T02:00:00Z', method: 'phone' }, // same night, in February
      { incident: 'I1', user: 'PB', at: '2026-02-01T03:00:00Z', method: 'sms' }, // same night
      { incident: 'I1', user: 'PB', at: '2026-02-01T09:00:00Z', method: 'sms' }, // Sunday morning: off
    ]);
    const asOf = '2026-04-01T00:00:00Z';
    const january = responder(await onCall('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', asOf), 'PB');
    expect(bands(january)).toEqual({ total: 1, business: 0, off: 0, sleep: 1, nights: 1 });
    const february = responder(await onCall('2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z', asOf), 'PB');
    expect(bands(february)).toEqual({ total: 3, business: 0, off: 1, sleep: 2, nights: 1 });
    // Both months at once: one night, not two.
    const both = responder(await onCall('2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', asOf), 'PB');
    expect(bands(both)).toEqual({ total: 4, business: 0, off: 1, sleep: 3, nights: 1 });
    // Per month, each period holds the interruptions of its own instants.
    const months = (await onCall('2026-01-01T00:00:00Z', '2026-03-01T00:00:00Z', asOf, 'UTC', 'month'))
      .filter((row) => row.dimension === 'responder')
      .map((row) => [row.period_label, row.interruptions, row.nights_interrupted]);
    expect(months).toEqual([
      ['2026-01', 1, 1],
      ['2026-02', 3, 1],
    ]);
  });

  it('follows a responder’s zone through a DST change inside the period', async () => {
    // America/New_York moves from UTC-5 to UTC-4 on Sunday 2026-03-08.
    await rows.users([{ id: 'PC', zone: 'America/New_York' }]);
    await rows.incidents([{ id: 'I1', created: '2026-03-02T00:00:00Z' }]);
    await rows.notifications([
      { incident: 'I1', user: 'PC', at: '2026-03-06T12:30:00Z', method: 'sms' }, // Fri 07:30 EST: sleep (night of 03-05)
      { incident: 'I1', user: 'PC', at: '2026-03-09T12:30:00Z', method: 'sms' }, // Mon 08:30 EDT: business (07:30 in EST)
      { incident: 'I1', user: 'PC', at: '2026-03-10T22:30:00Z', method: 'sms' }, // Tue 18:30 EDT: off (17:30 in EST)
      { incident: 'I1', user: 'PC', at: '2026-03-11T02:00:00Z', method: 'sms' }, // Tue 22:00 EDT: sleep (21:00 in EST), night of 03-10
    ]);
    const result = await onCall('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z', '2026-04-01T00:00:00Z');
    expect(bands(responder(result, 'PC'))).toEqual({ total: 4, business: 1, off: 1, sleep: 2, nights: 2 });
  });

  it('reads a user without a zone in the report’s zone', async () => {
    // Asia/Kolkata is UTC+05:30; 2026-01-05 is a Monday.
    await rows.users([
      { id: 'PD', zone: null },
      { id: 'PU', zone: 'UTC' },
    ]);
    await rows.incidents([{ id: 'I1', created: '2026-01-04T00:00:00Z' }]);
    await rows.notifications([
      { incident: 'I1', user: 'PD', at: '2026-01-05T02:29:59Z', method: 'sms' }, // 07:59:59 IST: sleep
      { incident: 'I1', user: 'PD', at: '2026-01-05T02:30:00Z', method: 'sms' }, // 08:00:00 IST: business
      { incident: 'I1', user: 'PU', at: '2026-01-05T02:30:00Z', method: 'sms' }, // 02:30 UTC in PU's own zone: sleep
    ]);
    const result = await onCall(
      '2025-12-31T18:30:00Z',
      '2026-01-31T18:30:00Z',
      '2026-03-01T00:00:00Z',
      'Asia/Kolkata',
      'month'
    );
    const withoutZone = responder(result, 'PD');
    expect(bands(withoutZone)).toEqual({ total: 2, business: 1, off: 0, sleep: 1, nights: 1 });
    expect(withoutZone.time_zone).toBe('Asia/Kolkata');
    expect(bands(responder(result, 'PU'))).toEqual({ total: 1, business: 0, off: 0, sleep: 1, nights: 1 });
  });

  it('gives an interruption its incident’s service and team however long before the incident was created', async () => {
    await rows.users([{ id: 'PA', zone: 'UTC' }]);
    await rows.incidents([
      { id: 'OLD', created: '2025-11-01T10:00:00Z', service: 'legacy', team: 'core' },
      { id: 'NEW', created: '2026-01-31T23:00:00Z', service: 'fresh', team: 'edge' },
    ]);
    await rows.notifications([
      { incident: 'OLD', user: 'PA', at: '2026-02-10T10:00:00Z', method: 'sms' },
      { incident: 'NEW', user: 'PA', at: '2026-02-01T00:30:00Z', method: 'sms' },
    ]);
    const result = await onCall('2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z');
    const interrupted = (dimension: string) =>
      result.filter((row) => row.dimension === dimension).map((row) => [row.dimension_label, row.interruptions]);
    expect(interrupted('service')).toEqual([
      ['fresh', 1],
      ['legacy', 1],
    ]);
    expect(interrupted('team')).toEqual([
      ['core', 1],
      ['edge', 1],
    ]);
  });

  it('counts a service’s and a team’s nights as the distinct nights of each responder their incidents woke', async () => {
    // 2026-01-05 is a Monday. Asia/Kolkata is UTC+05:30.
    await rows.users([
      { id: 'PA', name: 'Ada', zone: 'UTC' },
      { id: 'PB', name: 'Bob', zone: 'Asia/Kolkata' },
      { id: 'PC', name: 'Cy', zone: 'UTC' },
    ]);
    await rows.incidents([
      { id: 'API', created: '2026-01-05T20:00:00Z', service: 'api', team: 'core' },
      { id: 'WEB', created: '2026-01-05T20:00:00Z', service: 'web', team: 'core' },
      { id: 'BATCH', created: '2026-01-07T09:00:00Z', service: 'batch', team: 'data' },
      { id: 'DOCS', created: '2026-01-07T09:00:00Z', service: 'docs', team: 'data' },
      { id: 'LOOSE', created: '2026-01-09T19:00:00Z' },
    ]);
    await rows.notifications([
      { incident: 'API', user: 'PA', at: '2026-01-05T23:00:00Z', method: 'sms' }, // Ada, night of 01-05
      { incident: 'WEB', user: 'PA', at: '2026-01-06T03:00:00Z', method: 'phone' }, // Ada, the same night, another service
      { incident: 'API', user: 'PB', at: '2026-01-05T17:00:00Z', method: 'push' }, // 22:30 in Kolkata: Bob, night of 01-05
      { incident: 'API', user: 'PA', at: '2026-01-06T22:30:00Z', method: 'sms' }, // Ada, night of 01-06
      { incident: 'DOCS', user: 'PC', at: '2026-01-07T10:00:00Z', method: 'sms' }, // Wed 10:00: business, no night
      { incident: 'BATCH', user: 'PC', at: '2026-01-07T23:00:00Z', method: 'email' }, // never an interruption
      { incident: 'BATCH', user: 'PC', at: '2026-01-08T01:00:00Z', method: 'sms' }, // Cy, night of 01-07
      { incident: 'BATCH', user: 'PC', at: '2026-01-08T02:00:00Z', method: 'push' }, // Cy, the same night
      { incident: 'LOOSE', user: 'PB', at: '2026-01-09T20:00:00Z', method: 'sms' }, // 01:30 on 01-10 in Kolkata: night of 01-09
    ]);
    const result = await onCall('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z');
    const nights = (dimension: string) =>
      result
        .filter((row) => row.dimension === dimension)
        .map((row) => [row.dimension_label, row.sleep, row.nights_interrupted]);
    // One incident each, so by name. api woke Ada on two nights and Bob on one (the same date as
    // one of Ada's: still his own night).
    expect(nights('service')).toEqual([
      ['(no service)', 1, 1],
      ['api', 3, 3],
      ['batch', 2, 1],
      ['docs', 0, 0],
      ['web', 1, 1],
    ]);
    // core holds api and web: Ada's night of 01-05 is one night although both services woke her.
    expect(nights('team')).toEqual([
      ['core', 4, 3],
      ['data', 2, 1],
      ['(no team)', 1, 1],
    ]);
    expect(nights('responder')).toEqual([
      ['Ada', 3, 2],
      ['Cy', 2, 1],
      ['Bob', 2, 2],
    ]);
    // The total is every responder's nights, not the sum over services (which counts Ada's 01-05 twice).
    expect([total(result).sleep, total(result).nights_interrupted]).toEqual([7, 5]);
    expect(
      result.filter((row) => row.dimension === 'hour_of_week').every((row) => row.nights_interrupted === null)
    ).toBe(true);
  });

  it('ignores notifications after as_of', async () => {
    await rows.users([{ id: 'PA', zone: 'UTC' }]);
    await rows.incidents([{ id: 'I1', created: '2026-01-05T09:00:00Z' }]);
    await rows.notifications([
      { incident: 'I1', user: 'PA', at: '2026-01-05T09:00:00Z', method: 'sms' },
      { incident: 'I1', user: 'PA', at: '2026-01-05T09:05:00Z', method: 'phone' },
    ]);
    const result = await onCall('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-01-05T09:04:59Z');
    expect(responder(result, 'PA').interruptions).toBe(1);
  });
});

describe('responders', () => {
  it('counts merged incidents’ notifications, first acknowledgements by user, and orders by sleep, total, name', async () => {
    await rows.users([
      { id: 'PA', name: 'Ada', zone: 'UTC' },
      { id: 'PB', name: 'Bob', zone: 'UTC' },
      { id: 'PC', name: 'Cy', zone: 'UTC' },
      { id: 'PE', name: 'Eve', zone: 'UTC' },
    ]);
    await rows.incidents([
      { id: 'I1', created: '2026-01-05T09:00:00Z', ack: '2026-01-05T09:01:00Z', ackBy: 'PA', service: 'api' },
      // Merged: its notification still interrupted Bob; its ack is no acknowledgement of the period.
      {
        id: 'I2',
        created: '2026-01-05T10:00:00Z',
        ack: '2026-01-05T10:01:00Z',
        ackBy: 'PB',
        merged: true,
        service: 'api',
      },
      // Acknowledged by Eve, who was never paged: she is a responder all the same.
      { id: 'I3', created: '2026-01-06T10:00:00Z', ack: '2026-01-06T10:02:00Z', ackBy: 'PE' },
      // Acknowledged only after as_of: not yet.
      { id: 'I4', created: '2026-01-07T10:00:00Z', ack: '2026-03-02T00:00:00Z', ackBy: 'PA' },
      // Acknowledged, but not by a user (an API key): nobody's acknowledgement.
      { id: 'I5', created: '2026-01-08T10:00:00Z', ack: '2026-01-08T10:05:00Z' },
    ]);
    await rows.notifications([
      { incident: 'I1', user: 'PA', at: '2026-01-05T09:00:00Z', method: 'sms' }, // business
      { incident: 'I2', user: 'PB', at: '2026-01-05T10:00:00Z', method: 'push' }, // business, merged incident
      { incident: 'I2', user: 'PB', at: '2026-01-06T23:00:00Z', method: 'phone' }, // sleep
      { incident: 'I1', user: 'PC', at: '2026-01-07T23:00:00Z', method: 'phone' }, // sleep
      { incident: 'I1', user: 'PA', at: '2026-01-05T09:00:00Z', method: 'email' }, // email: nothing
      { incident: 'I3', user: 'PC', at: '2026-01-06T10:00:00Z', method: 'email' },
    ]);
    const result = await onCall('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z');
    const responders = result
      .filter((row) => row.dimension === 'responder')
      .map((row) => [row.dimension_label, row.sleep, row.interruptions, row.acknowledged]);
    // Bob and Cy: 1 sleep each, Bob has 2 in all; Ada and Eve: no sleep, Ada 1 in all, Eve 0.
    expect(responders).toEqual([
      ['Bob', 1, 2, 0],
      ['Cy', 1, 1, 0],
      ['Ada', 0, 1, 1],
      ['Eve', 0, 0, 1],
    ]);
    expect(total(result).acknowledged).toBe(2);
    expect(total(result).interruptions).toBe(4);
    // Noise leaves the merged incident out: I1, I3, I4, I5.
    expect(total(result).incidents).toBe(4);
  });
});

describe('noise', () => {
  beforeEach(async () => {
    await rows.incidents([
      // Resolved by a user after 100 s, never acknowledged: transient only.
      {
        id: 'R1',
        created: '2026-01-02T10:00:00Z',
        resolved: '2026-01-02T10:01:40Z',
        resolvedBy: 'user',
        service: 'api',
      },
      // By an integration after 600 s: auto-resolved only.
      {
        id: 'R2',
        created: '2026-01-03T10:00:00Z',
        resolved: '2026-01-03T10:10:00Z',
        resolvedBy: 'integration',
        service: 'api',
      },
      // By an auto-resolve timeout: auto-resolved.
      {
        id: 'R3',
        created: '2026-01-04T10:00:00Z',
        resolved: '2026-01-04T11:00:00Z',
        resolvedBy: 'timeout',
        service: 'web',
      },
      // By the service after exactly 300 s, never acknowledged: both.
      {
        id: 'R4',
        created: '2026-01-05T10:00:00Z',
        resolved: '2026-01-05T10:05:00Z',
        resolvedBy: 'service',
        service: 'api',
      },
      // 301 s: not transient.
      {
        id: 'R5',
        created: '2026-01-06T10:00:00Z',
        resolved: '2026-01-06T10:05:01Z',
        resolvedBy: 'user',
        service: 'web',
      },
      // 200 s but acknowledged first: not transient.
      {
        id: 'R6',
        created: '2026-01-07T10:00:00Z',
        ack: '2026-01-07T10:01:40Z',
        resolved: '2026-01-07T10:03:20Z',
        resolvedBy: 'user',
        service: 'web',
      },
      // By an integration after 30 s: both, once it has happened.
      {
        id: 'R7',
        created: '2026-01-20T10:00:00Z',
        resolved: '2026-01-20T10:00:30Z',
        resolvedBy: 'integration',
        service: 'batch',
      },
      // Merged: left out.
      {
        id: 'R8',
        created: '2026-01-08T10:00:00Z',
        resolved: '2026-01-08T10:00:10Z',
        resolvedBy: 'integration',
        merged: true,
        service: 'api',
      },
      // Still open.
      { id: 'R9', created: '2026-01-09T10:00:00Z' },
    ]);
  });

  it('counts auto-resolved and transient incidents, their shares and per service', async () => {
    const result = await onCall('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z', 'UTC', 'month');
    const all = total(result);
    // 8 incidents (R8 merged); auto R2 R3 R4 R7; transient R1 R4 R7.
    expect([all.incidents, all.auto_resolved, all.transient]).toEqual([8, 4, 3]);
    expect(all.auto_resolved_share).toBe(0.5);
    expect(all.transient_share).toBe(0.375);
    const services = result
      .filter((row) => row.dimension === 'service')
      .map((row) => [row.dimension_label, row.incidents, row.auto_resolved, row.transient]);
    expect(services).toEqual([
      ['api', 3, 2, 2],
      ['web', 3, 1, 0],
      ['(no service)', 1, 0, 0],
      ['batch', 1, 1, 1],
    ]);
  });

  it('as of an instant: a resolve that has not happened yet is neither', async () => {
    // R7 is created at 10:00:00 and resolved at 10:00:30.
    const result = await onCall('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-01-20T10:00:10Z');
    expect([total(result).incidents, total(result).auto_resolved, total(result).transient]).toEqual([8, 3, 2]);
  });

  it('gives null shares for an empty period, and still a total row', async () => {
    const result = await onCall('2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z', '2026-03-01T00:00:00Z', 'UTC', 'month');
    expect(result).toHaveLength(1);
    expect(total(result)).toMatchObject({
      incidents: 0,
      interruptions: 0,
      auto_resolved_share: null,
      transient_share: null,
    });
  });
});

describe('cache of closed periods', () => {
  it('serves a closed period from lens.oncall_rollup and shows late data at once', async () => {
    await rows.users([{ id: 'PA', zone: 'UTC' }]);
    await rows.incidents([
      { id: 'I1', created: '2026-01-05T09:00:00Z', resolved: '2026-01-05T09:02:00Z', resolvedBy: 'user' },
    ]);
    await rows.notifications([{ incident: 'I1', user: 'PA', at: '2026-01-05T23:00:00Z', method: 'sms' }]);
    const read = () => onCall('2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z', 'UTC', 'month');
    expect(bands(responder(await read(), 'PA'))).toEqual({ total: 1, business: 0, off: 0, sleep: 1, nights: 1 });
    const cachedAt = async () =>
      (
        await sql<{ computed_at: Date }>`
        SELECT computed_at FROM lens.oncall_rollup
        WHERE granularity = 'month' AND tz = 'UTC' AND period_start = '2026-01-01T00:00:00Z'`.execute(database.db)
      ).rows[0]?.computed_at.getTime();
    // Reading writes nothing; the collector fills the cache (lens.refresh_closed_periods).
    expect(await cachedAt()).toBeUndefined();
    const fill = () =>
      sql`SELECT lens.cache_oncall_period_figures('month', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', 'UTC')`.execute(
        database.db
      );
    await fill();
    const first = await cachedAt();
    expect(first).toBeDefined();
    // Read again: served from the cache, not computed and written again.
    await read();
    expect(await cachedAt()).toBe(first);

    // A late notification, a zone change and a resolver change each show on the next read.
    await rows.notifications([{ incident: 'I1', user: 'PA', at: '2026-01-06T10:00:00Z', method: 'phone' }]);
    expect(bands(responder(await read(), 'PA'))).toEqual({ total: 2, business: 1, off: 0, sleep: 1, nights: 1 });
    await fill();
    expect(await cachedAt()).not.toBe(first);
    // Asia/Tokyo is UTC+9: 23:00Z Monday is 08:00 Tuesday (business), 10:00Z Tuesday is 19:00 (off).
    await sql`UPDATE users SET time_zone = 'Asia/Tokyo'`.execute(database.db);
    expect(bands(responder(await read(), 'PA'))).toEqual({ total: 2, business: 1, off: 1, sleep: 0, nights: 0 });
    expect(total(await read()).auto_resolved).toBe(0);
    await sql`UPDATE incidents SET resolved_by = 'integration'`.execute(database.db);
    expect(total(await read()).auto_resolved).toBe(1);
  });
});

describe('property: bands add up', () => {
  it('every interruption is in exactly one band, for any zone and instant', async () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Adelaide', null];
    const methods: NotificationMethod[] = ['sms', 'phone', 'push', 'email', 'unknown'];
    const january = Date.parse('2026-01-01T00:00:00Z');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...zones), { minLength: 1, maxLength: 4 }),
        fc.array(
          fc.record({
            user: fc.nat(),
            // Whole seconds over two months, so band edges are hit now and then.
            offset: fc.oneof(
              fc.integer({ min: 0, max: 59 * 86400 }),
              fc.integer({ min: 0, max: 59 * 24 }).map((hour) => hour * 3600)
            ),
            method: fc.constantFrom(...methods),
          }),
          { maxLength: 30 }
        ),
        fc.constantFrom('UTC', 'Europe/Berlin', 'Asia/Kolkata'),
        async (userZones, notes, reportZone) => {
          await rows.clear();
          await rows.users(userZones.map((zone, index) => ({ id: `P${index}`, zone })));
          await rows.incidents([{ id: 'I1', created: '2025-12-31T00:00:00Z' }]);
          await rows.notifications(
            notes.map((note) => ({
              incident: 'I1',
              user: `P${note.user % userZones.length}`,
              at: new Date(january + note.offset * 1000).toISOString(),
              method: note.method,
            }))
          );
          const result = await onCall(
            '2025-12-01T00:00:00Z',
            '2026-04-01T00:00:00Z',
            '2026-04-01T00:00:00Z',
            reportZone,
            'month'
          );
          const interrupting = notes.filter((note) => ['sms', 'phone', 'push'].includes(note.method)).length;
          const totals = result.filter((row) => row.dimension === 'total');
          expect(totals.reduce((sum, row) => sum + row.interruptions, 0)).toBe(interrupting);
          for (const row of result.filter((candidate) => candidate.dimension !== 'hour_of_week')) {
            expect(row.business + row.off + row.sleep).toBe(row.interruptions);
          }
          for (const row of result.filter((candidate) => ['total', 'responder'].includes(candidate.dimension))) {
            expect(row.nights_interrupted).toBeLessThanOrEqual(row.sleep);
          }
          for (const period of totals) {
            const of = result.filter((row) => row.period_label === period.period_label);
            const sum = (dimension: string) =>
              of.filter((row) => row.dimension === dimension).reduce((acc, row) => acc + row.interruptions, 0);
            expect(sum('responder')).toBe(period.interruptions);
            expect(sum('hour_of_week')).toBe(period.interruptions);
          }
        }
      ),
      { numRuns: 40 }
    );
  });
});

describe('the report’s onCall and noise', () => {
  it('carries the figures in the shape of README.md, and the CSV flags each incident', async () => {
    const { readReport, listPeriodIncidents } = await import('../collector/src/metrics/report-data.ts');
    const { renderCsv } = await import('../collector/src/report/csv.ts');
    await rows.users([
      { id: 'PA', name: 'Ada', zone: 'Europe/Berlin' },
      { id: 'PB', name: 'Bob', zone: null },
    ]);
    await rows.incidents([
      // Resolved by the monitoring integration after 120 s, never acknowledged: auto-resolved and transient.
      {
        id: 'I1',
        created: '2026-01-05T21:00:00Z',
        resolved: '2026-01-05T21:02:00Z',
        resolvedBy: 'integration',
        service: 'api',
      },
      // Acknowledged by Bob, resolved by him.
      {
        id: 'I2',
        created: '2026-01-06T09:00:00Z',
        ack: '2026-01-06T09:03:00Z',
        ackBy: 'PB',
        resolved: '2026-01-06T10:00:00Z',
        resolvedBy: 'user',
        service: 'web',
      },
    ]);
    await rows.notifications([
      { incident: 'I1', user: 'PA', at: '2026-01-05T21:00:00Z', method: 'push' }, // Mon 22:00 Berlin: sleep, night of 01-05
      { incident: 'I1', user: 'PA', at: '2026-01-05T21:01:00Z', method: 'email' }, // not an interruption
      { incident: 'I2', user: 'PB', at: '2026-01-06T09:00:00Z', method: 'sms' }, // Tue 09:00 UTC (report zone): business
    ]);
    const report = await readReport(database.db, {
      granularity: 'month',
      date: '2026-01',
      timezone: 'UTC',
      asOf: new Date('2026-03-01T00:00:00Z'),
    });
    expect(report.onCall).toEqual({
      interruptions: { total: 2, business: 1, off: 0, sleep: 1 },
      nightsInterrupted: 1,
      notifications: 3,
      unknownMethod: 0,
      responders: [
        {
          user: 'PA',
          name: 'Ada',
          timeZone: 'Europe/Berlin',
          total: 1,
          business: 0,
          off: 0,
          sleep: 1,
          nightsInterrupted: 1,
          acknowledged: 0,
        },
        {
          user: 'PB',
          name: 'Bob',
          timeZone: 'UTC',
          total: 1,
          business: 1,
          off: 0,
          sleep: 0,
          nightsInterrupted: 0,
          acknowledged: 1,
        },
      ],
      byService: [
        { service: 'api', total: 1, business: 0, off: 0, sleep: 1, nightsInterrupted: 1 },
        { service: 'web', total: 1, business: 1, off: 0, sleep: 0, nightsInterrupted: 0 },
      ],
      // Monday 21:00 UTC and Tuesday 09:00 UTC.
      heatmap: [
        { weekday: 1, hour: 21, interruptions: 1 },
        { weekday: 2, hour: 9, interruptions: 1 },
      ],
    });
    expect(report.noise).toEqual({
      autoResolved: 1,
      transient: 1,
      autoResolvedShare: 0.5,
      transientShare: 0.5,
      byService: [
        { service: 'api', incidents: 1, autoResolved: 1, transient: 1 },
        { service: 'web', incidents: 1, autoResolved: 0, transient: 0 },
      ],
    });
    const csv = renderCsv(
      await listPeriodIncidents(database.db, {
        granularity: 'month',
        date: '2026-01',
        timezone: 'UTC',
        asOf: new Date('2026-03-01T00:00:00Z'),
      })
    );
    const [header, ...lines] = csv.trim().split('\r\n');
    const columns = header!.split(',');
    // Named as in the report JSON's noise figures, as the on-call issue asks.
    expect(columns.slice(-2)).toEqual(['autoResolved', 'transient']);
    const flags = lines.map((line) => {
      const cells = line.split(',');
      return [cells[0], cells[columns.indexOf('autoResolved')], cells[columns.indexOf('transient')]];
    });
    expect(flags).toEqual([
      ['I1', 'true', 'true'],
      ['I2', 'false', 'false'],
    ]);
  });
});

describe('the sleep-hour interruption alert', () => {
  it('lists responders with at least the configured sleep interruptions in the 7 days before as_of', async () => {
    const { applyPolicy } = await import('../collector/src/metrics/policy.ts');
    await rows.users([
      { id: 'PA', name: 'Ada', zone: 'UTC' },
      { id: 'PB', name: 'Bob', zone: 'UTC' },
    ]);
    await rows.incidents([{ id: 'I1', created: '2026-01-01T00:00:00Z' }]);
    await rows.notifications([
      // Ada: three sleep interruptions on three nights within the 7 days before 2026-01-10T12:00Z.
      { incident: 'I1', user: 'PA', at: '2026-01-04T01:00:00Z', method: 'phone' },
      { incident: 'I1', user: 'PA', at: '2026-01-06T23:00:00Z', method: 'sms' },
      { incident: 'I1', user: 'PA', at: '2026-01-09T03:00:00Z', method: 'push' },
      // Bob: two inside, one exactly 7 days + 1 s before as_of (outside), one by email.
      { incident: 'I1', user: 'PB', at: '2026-01-08T02:00:00Z', method: 'sms' },
      { incident: 'I1', user: 'PB', at: '2026-01-09T02:00:00Z', method: 'sms' },
      { incident: 'I1', user: 'PB', at: '2026-01-03T11:59:59Z', method: 'sms' },
      { incident: 'I1', user: 'PB', at: '2026-01-09T04:00:00Z', method: 'email' },
    ]);
    const alerts = async () =>
      (
        await sql<{ responder: string; sleep: number; nights_interrupted: number; threshold: number }>`
        SELECT * FROM lens.sleep_interruption_alerts('2026-01-10T12:00:00Z')`.execute(database.db)
      ).rows.map((row) => [row.responder, row.sleep, row.nights_interrupted, row.threshold]);
    const policy = {
      sla: {
        SEV1: { ack: 900, resolve: 3600, postmortem: 172800 },
        SEV2: { ack: 1800, resolve: 14400 },
        SEV3: { ack: 7200, resolve: 86400 },
        SEV4: { ack: 86400, resolve: 604800 },
      },
      repeatWindowDays: 90,
    };
    await applyPolicy(database.db, { ...policy, onCall: { sleepInterruptionAlert: 3 } });
    expect(await alerts()).toEqual([['Ada', 3, 3, 3]]);
    await applyPolicy(database.db, { ...policy, onCall: { sleepInterruptionAlert: 2 } });
    expect(await alerts()).toEqual([
      ['Ada', 3, 3, 2],
      ['Bob', 2, 2, 2],
    ]);
    await applyPolicy(database.db, { ...policy, onCall: { sleepInterruptionAlert: 3 } });
  });
});
