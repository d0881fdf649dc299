import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationMethod, ResolvedBy } from '../collector/src/db/schema.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { MetricRows, type IncidentSpec, type NotificationSpec } from './support/metrics-rows.ts';

// The on-call figures of a range of every account are composed of cached
// local months and days, the partial days at its ends and the nights shared
// by adjacent pieces (sql/lens/75_oncall.sql, lens.oncall_figures). They must
// equal the plain computation of the range (lens.compute_oncall) exactly.

let database: TestDatabase;
let rows: MetricRows;

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
// The cache is filled as of this instant: every day of the data is closed and settled by then.
const FILLED_AS_OF = '2026-06-01T00:00:00Z';
const DATA_START = Date.parse('2026-02-01T00:00:00Z');
const DATA_DAYS = 98;

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Incidents at any hour over 98 days around the spring DST changes (New York
 * 03-08, Berlin 03-29, Adelaide 04-05), each paging responders in six zones
 * (one without a zone) up to five times over a few hours: many nights are
 * woken on both sides of a report zone's midnight.
 */
async function loadHistory(): Promise<void> {
  const next = random(14);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Adelaide', null, 'UTC', null];
  await rows.users(zones.map((zone, index) => ({ id: `P${index}`, zone })));
  const users = zones.map((_, index) => `P${index}`);
  const methods: NotificationMethod[] = ['sms', 'phone', 'push', 'push', 'sms', 'email', 'unknown'];
  const resolvers: ResolvedBy[] = ['user', 'service', 'integration', 'timeout', 'other'];
  const incidents: IncidentSpec[] = [];
  const notifications: NotificationSpec[] = [];
  for (let index = 0; index < 320; index++) {
    const created = DATA_START + Math.floor(next() * DATA_DAYS * 86_400_000);
    const at = (offset: number) => new Date(created + offset).toISOString();
    const acknowledged = next() < 0.7 ? Math.floor(next() * 7_200_000) : null;
    const resolved =
      next() < 0.85 ? (next() < 0.3 ? Math.floor(next() * 400_000) : Math.floor(next() * 21_600_000)) : null;
    incidents.push({
      id: `I${index}`,
      created: at(0),
      ack: acknowledged === null ? null : at(acknowledged),
      ackBy: acknowledged !== null && next() < 0.8 ? pick(users) : null,
      resolved: resolved === null ? null : at(Math.max(resolved, acknowledged ?? 0)),
      resolvedBy: resolved === null ? null : pick(resolvers),
      service: pick(['api', 'web', 'batch', null]),
      team: pick(['core', 'edge', null]),
      merged: next() < 0.05,
    });
    // Mostly the one on call, paged again until someone answers.
    const onCall = pick(users);
    let offset = Math.floor(next() * 600_000);
    for (let page = 0; page < 1 + Math.floor(next() * 5); page++) {
      const user = next() < 0.8 ? onCall : pick(users);
      notifications.push({ incident: `I${index}`, user, at: at(offset), method: pick(methods) });
      offset += 300_000 + Math.floor(next() * 5_400_000);
    }
  }
  await rows.incidents(incidents);
  await rows.notifications(notifications);
}

async function fillCache(): Promise<void> {
  for (const zone of ZONES) {
    await sql`SELECT lens.refresh_closed_periods(${zone}, ${FILLED_AS_OF}::timestamptz)`.execute(database.db);
  }
}

interface Range {
  start: string;
  end: string;
  asOf: string;
  zone: string;
}

/** The composed figures and the plain computation of one range, as text. */
async function bothWays(range: Range): Promise<{ composed: string; plain: string }> {
  const result = await sql<{ composed: string; plain: string }>`
    SELECT lens.oncall_figures(${range.start}::timestamptz, ${range.end}::timestamptz, ${range.asOf}::timestamptz,
                               ${range.zone})::text AS composed,
           (SELECT c.figures FROM lens.compute_oncall(${range.start}::timestamptz, ${range.end}::timestamptz,
                                                      ${range.asOf}::timestamptz, ${range.zone}) c)::text AS plain`.execute(
    database.db
  );
  return result.rows[0]!;
}

/** lens.oncall_metrics as a dashboard reads it; with the account named, every bucket is computed from the rows. */
async function metrics(range: Range, granularity: string | null, account: string | null, dimensions?: string[]) {
  const result = await sql<Record<string, unknown>>`
    SELECT * FROM lens.oncall_metrics(${range.start}::timestamptz, ${range.end}::timestamptz, ${range.asOf}::timestamptz,
                                      ${range.zone}, ${granularity}::text, account => ${account}::text,
                                      dimensions => ${dimensions ?? null}::text[])`.execute(database.db);
  return result.rows;
}

beforeAll(async () => {
  database = await createTestDatabase();
  rows = await MetricRows.create(database.db);
  await loadHistory();
  await fillCache();
});

afterAll(async () => {
  await database.destroy();
});

/**
 * A range from an instant of the data, its ends optionally moved to the start
 * of their local day or month (so whole months, whole days and ranges of less
 * than a day all occur), read as of its end, after everything, or in between.
 */
// Minutes from DATA_START: anywhere, or within seven hours of a UTC midnight, so close to every zone's
// midnight, where a night shared by two days meets the end of a range.
const minute = fc.oneof(
  fc.integer({ min: -3 * 1440, max: (DATA_DAYS + 3) * 1440 }),
  fc
    .record({ day: fc.integer({ min: 0, max: DATA_DAYS }), offset: fc.integer({ min: -420, max: 420 }) })
    .map(({ day, offset }) => day * 1440 + offset)
);
const ranges = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    startMinute: minute,
    lengthMinutes: fc.oneof(
      fc.integer({ min: 1, max: 2 * 1440 }),
      fc.integer({ min: 1, max: 20 * 1440 }),
      fc.integer({ min: 1, max: (DATA_DAYS + 6) * 1440 }),
      minute
    ),
    alignStart: fc.constantFrom('none', 'day', 'month'),
    alignEnd: fc.constantFrom('none', 'day', 'month'),
    asOf: fc.oneof(fc.constant('after'), fc.constant('end'), fc.double({ min: 0, max: 1, noNaN: true })),
  })
  .map((drawn) => ({
    ...drawn,
    start: new Date(DATA_START + drawn.startMinute * 60_000).toISOString(),
    end: new Date(DATA_START + (drawn.startMinute + drawn.lengthMinutes) * 60_000).toISOString(),
  }));

/** The drawn range with its ends aligned in its zone (PostgreSQL's calendar), and its as_of. */
async function resolve(drawn: typeof ranges extends fc.Arbitrary<infer T> ? T : never): Promise<Range | null> {
  const result = await sql<{ start: Date; end: Date }>`
    SELECT CASE ${drawn.alignStart} WHEN 'none' THEN ${drawn.start}::timestamptz
             ELSE date_trunc(${drawn.alignStart}, ${drawn.start}::timestamptz AT TIME ZONE ${drawn.zone}) AT TIME ZONE ${drawn.zone} END AS start,
           CASE ${drawn.alignEnd} WHEN 'none' THEN ${drawn.end}::timestamptz
             ELSE date_trunc(${drawn.alignEnd}, ${drawn.end}::timestamptz AT TIME ZONE ${drawn.zone}) AT TIME ZONE ${drawn.zone} END AS end`.execute(
    database.db
  );
  const { start, end } = result.rows[0]!;
  if (start >= end) {
    return null;
  }
  const asOf =
    drawn.asOf === 'after'
      ? FILLED_AS_OF
      : drawn.asOf === 'end'
        ? end.toISOString()
        : new Date(start.getTime() + drawn.asOf * (end.getTime() - start.getTime())).toISOString();
  return { start: start.toISOString(), end: end.toISOString(), asOf, zone: drawn.zone };
}

describe('on-call figures composed of cached pieces', () => {
  it('fills a day and a midnight row for every closed day since the first incident, in each zone', async () => {
    for (const zone of ZONES) {
      const result = await sql<{ day: number; midnight: number; closed: number }>`
        SELECT count(*) FILTER (WHERE r.granularity = 'day')::integer AS day,
               count(*) FILTER (WHERE r.granularity = 'midnight')::integer AS midnight,
               -- The local days from the first incident's to the last that ends by the fill's as_of.
               (SELECT (${FILLED_AS_OF}::timestamptz AT TIME ZONE ${zone})::date - 1
                       - (min(i.created_at) AT TIME ZONE ${zone})::date + 1 FROM incidents i)::integer AS closed
        FROM lens.oncall_rollup r WHERE r.tz = ${zone}`.execute(database.db);
      const { day, midnight, closed } = result.rows[0]!;
      expect(closed, zone).toBeGreaterThanOrEqual(119);
      expect([day, midnight], zone).toEqual([closed, closed]);
    }
  });

  it('equal the plain computation for any range, zone and as_of, across DST changes and in Asia/Kolkata', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(ranges, async (drawn) => {
        const range = await resolve(drawn);
        if (!range) {
          return;
        }
        const { composed, plain } = await bothWays(range);
        expect(composed).toBe(plain);
        compared++;
      }),
      { numRuns: 400, seed: 1914 }
    );
    expect(compared).toBeGreaterThan(300);
  });

  it('give every bucket of a week or month chart the figures of its rows', async () => {
    await fc.assert(
      fc.asyncProperty(ranges, fc.constantFrom('day', 'week', 'month'), async (drawn, granularity) => {
        const range = await resolve(drawn);
        if (!range) {
          return;
        }
        const every = await metrics(range, granularity, null);
        expect(every).toEqual(await metrics(range, granularity, 'PagerDuty'));
        // A chart of totals reads only the first row of each bucket's figures: the same rows.
        const totals = every.filter((row) => row.dimension === 'total');
        expect(totals.length).toBeGreaterThan(0);
        expect(await metrics(range, granularity, null, ['total'])).toEqual(totals);
        expect(await metrics(range, granularity, null, ['total', 'team'])).toEqual(
          every.filter((row) => row.dimension === 'total' || row.dimension === 'team')
        );
      }),
      { numRuns: 25, seed: 1915 }
    );
  });

  it('reads the cached days and midnights, and ignores them once late data makes them stale', async () => {
    // Berlin is UTC+1 in February. PL (UTC) is woken at 22:30 and 00:30 UTC, 23:30 and 01:30 in Berlin:
    // one night, on both sides of Berlin's midnight of 02-11 (23:00 UTC on 02-10).
    const range = {
      start: '2026-02-09T23:00:00Z',
      end: '2026-02-13T23:00:00Z',
      asOf: FILLED_AS_OF,
      zone: 'Europe/Berlin',
    };
    const nights = async () =>
      (await metrics(range, null, null)).find((row) => row.dimension === 'responder' && row.external_id === 'PL')
        ?.nights_interrupted;
    const before = await bothWays(range);
    expect(before.composed).toBe(before.plain);

    await rows.users([{ id: 'PL', zone: 'UTC' }]);
    await rows.incidents([{ id: 'LATE', created: '2026-02-10T21:00:00Z', service: 'api' }]);
    await rows.notifications([
      { incident: 'LATE', user: 'PL', at: '2026-02-10T22:30:00Z', method: 'sms' },
      { incident: 'LATE', user: 'PL', at: '2026-02-11T00:30:00Z', method: 'phone' },
    ]);
    // Late data: the day either side and the midnight between them are stale, so computed again;
    // so is February, whose other days stand in for it.
    const late = await bothWays(range);
    expect(late.composed).toBe(late.plain);
    expect(late.plain).not.toBe(before.plain);
    expect(await nights()).toBe(1);
    const months = { ...range, start: '2026-01-31T23:00:00Z', end: '2026-04-30T22:00:00Z' };
    const lateMonths = await bothWays(months);
    expect(lateMonths.composed).toBe(lateMonths.plain);

    // February is cached again, of its days.
    await fillCache();
    expect((await bothWays(range)).composed).toBe(late.plain);
    expect((await bothWays(months)).composed).toBe(lateMonths.plain);
    // Ranges that end or start between PL's two interruptions (partial days, live): the night is
    // shared with the midnight's other side only within the range.
    for (const [start, end] of [
      ['2026-02-10T22:45:00Z', '2026-02-13T23:00:00Z'],
      ['2026-02-10T23:15:00Z', '2026-02-12T23:00:00Z'],
      ['2026-02-09T23:00:00Z', '2026-02-11T00:00:00Z'],
      ['2026-02-09T21:00:00Z', '2026-02-10T22:45:00Z'],
      ['2026-02-10T22:00:00Z', '2026-02-11T00:00:00Z'],
    ]) {
      const edge = await bothWays({ ...range, start: start!, end: end! });
      expect(edge.composed, `${start} - ${end}`).toBe(edge.plain);
    }

    // The rows are read, not recomputed: a midnight row that claimed no shared night counts PL's twice.
    await sql`UPDATE lens.oncall_rollup SET figures = '{}'
              WHERE granularity = 'midnight' AND tz = 'Europe/Berlin' AND period_start = '2026-02-09T23:00:00Z'`.execute(
      database.db
    );
    expect(await nights()).toBe(2);
  });

  it('caches a month of its cached weeks and days', async () => {
    // Berlin's March 2026 is [02-28 23:00Z, 03-31 22:00Z); its 10th starts at 03-09 23:00Z, in the ISO
    // week [03-08 23:00Z, 03-15 23:00Z); the next week is [03-15 23:00Z, 03-22 23:00Z).
    const month = ['2026-02-28T23:00:00Z', '2026-03-31T22:00:00Z'] as const;
    const total = async () =>
      (
        await sql<{ notifications: number }>`
          SELECT f.notifications FROM lens.oncall_rollup r CROSS JOIN LATERAL unnest(r.figures) f
          WHERE r.granularity = 'month' AND r.tz = 'Europe/Berlin' AND r.period_start = ${month[0]}
            AND f.dimension = 'total'`.execute(database.db)
      ).rows[0]?.notifications;
    const claim = (granularity: string, start: string, more: number) => sql`
      UPDATE lens.oncall_rollup
      SET figures = ARRAY(SELECT CASE WHEN f.dimension = 'total'
                                      THEN ROW(f.dimension, f.dimension_key, f.notifications + ${more}::integer,
                                               f.unknown_method, f.interruptions, f.business, f.off, f.sleep,
                                               f.nights_interrupted, f.acknowledged, f.incidents, f.auto_resolved,
                                               f.transient)::lens.oncall_metrics
                                      ELSE f END
                          FROM unnest(figures) f)
      WHERE granularity = ${granularity} AND tz = 'Europe/Berlin' AND period_start = ${start}::timestamptz`;
    const cached = await total();
    expect(cached).toBeGreaterThan(0);
    // The 10th claims 1000 more notifications and its week is not cached; the next week claims 1 more.
    await claim('day', '2026-03-09T23:00:00Z', 1000).execute(database.db);
    await sql`DELETE FROM lens.oncall_rollup
              WHERE granularity = 'week' AND tz = 'Europe/Berlin' AND period_start = '2026-03-08T23:00:00Z'`.execute(
      database.db
    );
    await claim('week', '2026-03-15T23:00:00Z', 1).execute(database.db);
    // Cached again, the month is the sum of those pieces.
    await sql`DELETE FROM lens.oncall_rollup WHERE granularity = 'month' AND tz = 'Europe/Berlin' AND period_start = ${month[0]}`.execute(
      database.db
    );
    await sql`SELECT lens.cache_oncall_period_figures('month', ${month[0]}, ${month[1]}, 'Europe/Berlin')`.execute(
      database.db
    );
    expect(await total()).toBe(cached! + 1001);
  });
});
