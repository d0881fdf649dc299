import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Severity } from '../collector/src/config.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { MetricRows, type IncidentSpec } from './support/metrics-rows.ts';

// A range that is not whole periods is summed from the cached years, months,
// weeks and days it contains (lens.range_figures), its total's percentiles
// placed by their bin counts, and a cached period holds only over its
// interval of as_of. All must give, to the last bit, what computing the range
// from its incidents gives (lens.compute_figures).

let database: TestDatabase;
let rows: MetricRows;

const DAY = 86_400_000;
const ZONES = ['UTC', 'Europe/Berlin', 'Asia/Kolkata'];
/** Deterministic, so that a failure names a range that can be run again. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}
const random = generator(20_261_130);
const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
const iso = (ms: number) => new Date(ms).toISOString();

/** Six hundred incidents from 1 July to 10 November 2026 (the October DST change included), some open, merged, late. */
function history(): IncidentSpec[] {
  const start = Date.parse('2026-07-01T00:00:00Z');
  const span = Date.parse('2026-11-10T00:00:00Z') - start;
  return Array.from({ length: 600 }, (_, index) => {
    const created = start + Math.floor(random() * span);
    const ack = random() < 0.9 ? created + Math.floor(random() * 3 * 3_600_000) : null;
    const resolved = random() < 0.95 ? (ack ?? created) + Math.floor(random() * 3 * DAY) : null;
    return {
      id: `r${index}`,
      created: iso(created),
      ack: ack === null ? null : iso(ack),
      resolved: resolved === null ? null : iso(resolved),
      severity: pick<Severity>(['SEV1', 'SEV2', 'SEV3', 'SEV4', 'UNKNOWN']),
      service: pick(['api', 'db', 'web', null]),
      team: pick(['core', 'edge', null]),
      merged: random() < 0.05,
      escalated: random() < 0.2,
      rootCause: random() < 0.4 ? pick(['dns', 'disk', 'deploy']) : null,
      detected: random() < 0.3 ? iso(created - Math.floor(random() * 3_600_000)) : null,
    };
  });
}

/**
 * Durations at the edges of the bins (sql/019_duration_bins.sql): none, under
 * a second, exactly one, and
 * ties that fall in one bin from several months.
 */
function edges(): IncidentSpec[] {
  const offsets = [0, 400, 1, 999, 1_000, 300_000, 300_000, 300_000, 300_000, 300_000];
  return ['2026-07-09T10:00:00Z', '2026-08-17T04:00:00Z', '2026-10-21T22:00:00Z'].flatMap((day, dayIndex) =>
    offsets.map((offset, index) => {
      const created = Date.parse(day) + index * 60_000;
      return {
        id: `edge${dayIndex}-${index}`,
        created: iso(created),
        ack: iso(created + offset),
        resolved: iso(created + offset * 12),
        severity: pick<Severity>(['SEV1', 'SEV2', 'SEV3', 'SEV4']),
        detected: iso(created - offset),
      };
    })
  );
}

/** Three hundred incidents from November 2024 to February 2026: a whole year, 2025, ended and cached. */
function earlier(): IncidentSpec[] {
  const start = Date.parse('2024-11-01T00:00:00Z');
  const span = Date.parse('2026-02-01T00:00:00Z') - start;
  return Array.from({ length: 300 }, (_, index) => {
    const created = start + Math.floor(random() * span);
    const ack = random() < 0.9 ? created + Math.floor(random() * 2 * 3_600_000) : null;
    return {
      id: `e${index}`,
      created: iso(created),
      ack: ack === null ? null : iso(ack),
      resolved: iso((ack ?? created) + Math.floor(random() * 2 * DAY)),
      severity: pick<Severity>(['SEV1', 'SEV2', 'SEV3', 'SEV4']),
      service: pick(['api', 'db', null]),
      team: pick(['core', 'edge']),
      merged: random() < 0.05,
      detected: random() < 0.3 ? iso(created - Math.floor(random() * 3_600_000)) : null,
    };
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  rows = await MetricRows.create(database.db);
  await rows.incidents([...history(), ...edges(), ...earlier()]);
  for (const zone of ZONES) {
    await sql`SELECT lens.refresh_closed_periods(${zone})`.execute(database.db);
  }
});

afterAll(async () => {
  await database.destroy();
});

type Figures = Record<string, unknown>;

/** Every row of lens.metrics for one range without granularity, without the labels it adds. */
async function summed(from: string, to: string, asOf: string, zone: string, percentiles = true): Promise<Figures[]> {
  const result = await sql<Figures>`
    SELECT m.* FROM lens.metrics(${from}::timestamptz, ${to}::timestamptz, ${asOf}::timestamptz, ${zone}, NULL,
                                 ARRAY['total', 'severity', 'service', 'team'], percentiles => ${percentiles}) m`.execute(
    database.db
  );
  return result.rows.map(({ period_label: _label, dimension_label: _name, ...figures }) => figures);
}

/** The same range computed from its incidents, bypassing every cache. */
async function computed(from: string, to: string, asOf: string, zone: string): Promise<Figures[]> {
  const result = await sql<Figures>`
    SELECT f.* FROM lens.compute_figures(${from}::timestamptz, ${to}::timestamptz, ${asOf}::timestamptz, ${zone}) c
    CROSS JOIN LATERAL unnest(c.figures) f`.execute(database.db);
  return result.rows.map(({ period_label: _label, dimension_label: _name, ...figures }) => figures);
}

const PERCENTILES = /_(median|p90|p95)_seconds$/;

describe('a range summed from cached periods', () => {
  it('equals the range computed from its incidents, for random ranges, instants and zones', async () => {
    const first = Date.parse('2026-06-20T00:00:00Z');
    const last = Date.parse('2026-11-20T00:00:00Z');
    for (let trial = 0; trial < 24; trial++) {
      const a = first + Math.floor(random() * (last - first));
      const b = first + Math.floor(random() * (last - first));
      const [from, to] = [iso(Math.min(a, b)), iso(Math.max(a, b) + 1)];
      // As of the range's end, a moment inside it, or now.
      const asOf = pick([to, iso(Math.min(a, b) + Math.floor(Math.abs(b - a) / 2)), new Date().toISOString()]);
      const zone = pick(ZONES);
      const context = `${from} .. ${to} as of ${asOf} in ${zone}`;
      const expected = await computed(from, to, asOf, zone);
      expect(await summed(from, to, asOf, zone), context).toEqual(expected);
      // Without percentiles every other figure is the same.
      const withoutPercentiles = await summed(from, to, asOf, zone, false);
      expect(withoutPercentiles.length, context).toBe(expected.length);
      withoutPercentiles.forEach((row, index) => {
        for (const [name, value] of Object.entries(row)) {
          if (!PERCENTILES.test(name)) {
            expect(value, `${context}: ${name}`).toEqual(expected[index]![name]);
          }
        }
      });
    }
  });

  it('reads the cached months and days of the range (poisoned, they show)', async () => {
    const [from, to, asOf] = ['2026-07-14T13:00:00Z', '2026-10-03T07:30:00Z', '2026-11-15T00:00:00Z'];
    const before = await summed(from, to, asOf, 'UTC');
    // August (a whole month inside the range) and 2 October (a whole day) each count one incident more.
    const bumped = await sql`
      UPDATE lens.period_rollup r
      SET figures = ARRAY(SELECT f FROM unnest(r.figures) f WHERE f.dimension <> 'total')
                    || ARRAY(SELECT lens.with_rates(
                               jsonb_populate_record(f, jsonb_build_object('incidents', f.incidents + 1)), 0)
                             FROM unnest(r.figures) f WHERE f.dimension = 'total')
      WHERE r.tz = 'UTC' AND ((r.granularity = 'month' AND r.period_start = '2026-08-01T00:00:00Z')
                              OR (r.granularity = 'day' AND r.period_start = '2026-10-02T00:00:00Z'))`.execute(
      database.db
    );
    expect(Number(bumped.numAffectedRows)).toBe(2);
    const total = (figures: Figures[]) => figures.find((row) => row.dimension === 'total')!.incidents as number;
    expect(total(await summed(from, to, asOf, 'UTC'))).toBe(total(before) + 2);
    // A recorded change in August makes its cached row unusable again: computed, it is right.
    await sql`SELECT lens.record_fact_change(ARRAY['2026-08-15T12:00:00Z'::timestamptz])`.execute(database.db);
    expect(total(await summed(from, to, asOf, 'UTC'))).toBe(total(before) + 1);
    await sql`SELECT lens.record_fact_change(ARRAY['2026-10-02T12:00:00Z'::timestamptz])`.execute(database.db);
    expect(await summed(from, to, asOf, 'UTC')).toEqual(before);
    await sql`SELECT lens.refresh_closed_periods('UTC')`.execute(database.db);
  });
});

describe('percentiles of a range placed by bin counts', () => {
  const medianOfTotal = (figures: Figures[]) =>
    figures.find((row) => row.dimension === 'total')!.mtta_median_seconds as number;

  it('equal those sorted from the incidents, across a cached year', async () => {
    const first = Date.parse('2024-10-15T00:00:00Z');
    const last = Date.parse('2026-03-01T00:00:00Z');
    for (let trial = 0; trial < 12; trial++) {
      const from = first + Math.floor(random() * 60 * DAY);
      const to = last - Math.floor(random() * 60 * DAY);
      const zone = pick(ZONES);
      const asOf = pick([iso(to), new Date().toISOString()]);
      const context = `${iso(from)} .. ${iso(to)} as of ${asOf} in ${zone}`;
      expect(await summed(iso(from), iso(to), asOf, zone), context).toEqual(
        await computed(iso(from), iso(to), asOf, zone)
      );
    }
  });

  it('leave out what happened after as_of in the bin they read', async () => {
    // June 2026 holds only these: eleven acknowledged and resolved after 100..110 s, and ten
    // created just before as_of whose 102.5 s (in the median's bin) end after it.
    const asOf = '2026-06-20T12:00:00Z';
    const settled = Array.from({ length: 11 }, (_, index) => {
      const created = Date.parse('2026-06-10T08:00:00Z') + index * 3_600_000;
      const done = iso(created + (100 + index) * 1000);
      return { id: `june${index}`, created: iso(created), ack: done, resolved: done, severity: 'SEV2' as const };
    });
    const pending = Array.from({ length: 10 }, (_, index) => {
      const created = Date.parse(asOf) - 60_000 + index;
      const done = iso(created + 102_500);
      return { id: `late${index}`, created: iso(created), ack: done, resolved: done, severity: 'SEV2' as const };
    });
    await rows.incidents([...settled, ...pending]);
    await sql`SELECT lens.refresh_closed_periods('UTC')`.execute(database.db);
    const [from, to] = ['2026-06-01T00:00:00Z', '2026-06-21T00:00:00Z'];
    const figures = await summed(from, to, asOf, 'UTC');
    expect(figures).toEqual(await computed(from, to, asOf, 'UTC'));
    const total = figures.find((row) => row.dimension === 'total')!;
    expect([total.mtta_median_seconds, total.mttr_median_seconds]).toEqual([105, 105]);
  });

  it('reads the bin counts of the cached pieces (poisoned, they show; missing, durations are sorted)', async () => {
    const [from, to, asOf] = ['2024-12-20T05:00:00Z', '2026-01-10T17:00:00Z', '2026-11-15T00:00:00Z'];
    const expected = await computed(from, to, asOf, 'UTC');
    const year = sql`r.tz = 'UTC' AND r.granularity = 'year' AND r.period_start = '2025-01-01T00:00:00Z'`;
    const cachedYear = await sql`SELECT 1 FROM lens.period_rollup r WHERE ${year}`.execute(database.db);
    expect(cachedYear.rows).toHaveLength(1);
    // 2025 without its acknowledgement counts: the ranks are placed among too few durations.
    await sql`
      UPDATE lens.period_rollup r SET histograms = ARRAY(SELECT h FROM unnest(r.histograms) h WHERE h.metric <> 'tta')
      WHERE ${year}`.execute(database.db);
    expect(medianOfTotal(await summed(from, to, asOf, 'UTC'))).not.toEqual(medianOfTotal(expected));
    // A piece without counts (cached before they existed): every duration of the range is sorted.
    await sql`UPDATE lens.period_rollup r SET histograms = NULL WHERE ${year}`.execute(database.db);
    expect(await summed(from, to, asOf, 'UTC')).toEqual(expected);
    await sql`DELETE FROM lens.period_rollup r WHERE ${year}`.execute(database.db);
    await sql`SELECT lens.refresh_closed_periods('UTC')`.execute(database.db);
    expect(await summed(from, to, asOf, 'UTC')).toEqual(expected);
  });
});

describe('duration figures per dimension', () => {
  // What lens.duration_figures gives both compute_figures and range_figures,
  // against the definition written out: percentile_cont and a numeric sum over
  // the masked durations lens.incident_outcomes gives each incident.
  const GROUPS = [
    ['total', 'NULL::text'],
    ['severity', 'o.severity'],
    ['service', 'o.service_id::text'],
    ['team', 'o.team_id::text'],
  ] as const;
  const KINDS = ['tta', 'ttr', 'ttd'] as const;
  type Row = Record<string, unknown> & { dimension: string; dimension_key: string | null };
  const byKey = (rows: Row[]) => new Map(rows.map((row) => [`${row.dimension}/${row.dimension_key}`, row]));

  it('equal percentile_cont and numeric sums of the outcomes, for random ranges, instants and zones', async () => {
    const first = Date.parse('2026-06-20T00:00:00Z');
    const last = Date.parse('2026-11-20T00:00:00Z');
    let compared = 0;
    for (let trial = 0; trial < 12; trial++) {
      const a = first + Math.floor(random() * (last - first));
      const b = first + Math.floor(random() * (last - first));
      const [from, to] = [iso(Math.min(a, b)), iso(Math.max(a, b) + 1)];
      const asOf = pick([to, iso(Math.min(a, b) + Math.floor(Math.abs(b - a) / 2))]);
      const context = `${from} .. ${to} as of ${asOf}`;
      const actual = byKey(
        (
          await sql<Row>`SELECT * FROM lens.duration_figures(${from}::timestamptz, ${to}::timestamptz,
                           ${asOf}::timestamptz, ARRAY['total', 'severity', 'service', 'team'])`.execute(database.db)
        ).rows
      );
      for (const [dimension, key] of GROUPS) {
        const measures = KINDS.map(
          (
            kind
          ) => `count(o.${kind}_seconds)::integer AS m${kind}_count, sum(o.${kind}_seconds::numeric) AS m${kind}_sum,
             percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY o.${kind}_seconds) AS m${kind}_p`
        );
        const expected = await sql<Row>`
          SELECT ${dimension}::text AS dimension, ${sql.raw(key)} AS dimension_key, ${sql.raw(measures.join(', '))}
          FROM lens.incident_outcomes(${from}::timestamptz, ${to}::timestamptz, ${asOf}::timestamptz, 'UTC') o
          WHERE NOT o.merged GROUP BY 2`.execute(database.db);
        for (const row of expected.rows) {
          const name = `${context}: ${row.dimension}/${row.dimension_key}`;
          const got = actual.get(`${row.dimension}/${row.dimension_key}`);
          expect(got, name).toBeDefined();
          for (const kind of KINDS) {
            expect(got![`m${kind}_count`], name).toBe(row[`m${kind}_count`]);
            expect(got![`m${kind}_p`], name).toEqual(row[`m${kind}_p`]);
            // The same decimal: exact sums in either way.
            expect(Number(got![`m${kind}_sum`]), name).toBe(Number(row[`m${kind}_sum`]));
          }
          compared++;
        }
      }
      // No group the definition does not have.
      expect(actual.size, context).toBe(
        (
          await sql<{ n: number }>`
          SELECT (1 + count(DISTINCT o.severity) + count(DISTINCT coalesce(o.service_id, -1))
                    + count(DISTINCT coalesce(o.team_id, -1)))::integer AS n
          FROM lens.incident_outcomes(${from}::timestamptz, ${to}::timestamptz, ${asOf}::timestamptz, 'UTC') o
          WHERE NOT o.merged`.execute(database.db)
        ).rows[0]!.n
      );
    }
    expect(compared).toBeGreaterThan(100);
  });
});

describe('a cached day', () => {
  it('holds past a deadline whose outcome was settled before it: only open outcomes end it', async () => {
    // As of 00:30 on 16 November, three incidents of the 15th:
    // a SEV4 acknowledged at once (its 24-hour target ends at 01:00, too late to matter), still open;
    // a SEV2 resolved and written up that day (its post-mortem is due on 22 November, done already);
    // a SEV2 resolved in time (its resolve target ends at 02:00), its post-mortem not written.
    await rows.incidents([
      { id: 'acked', created: '2026-11-15T01:00:00Z', ack: '2026-11-15T01:01:00Z', severity: 'SEV4' },
      {
        id: 'reviewed',
        created: '2026-11-15T10:00:00Z',
        ack: '2026-11-15T10:05:00Z',
        resolved: '2026-11-15T11:00:00Z',
        severity: 'SEV2',
      },
      {
        id: 'unreviewed',
        created: '2026-11-15T22:00:00Z',
        ack: '2026-11-15T22:10:00Z',
        resolved: '2026-11-15T23:00:00Z',
        severity: 'SEV2',
      },
    ]);
    await rows.postmortems([
      { id: 'pm-reviewed', incident: 'reviewed', created: '2026-11-15T12:00:00Z', completed: '2026-11-15T20:00:00Z' },
    ]);
    const [from, to, asOf] = ['2026-11-15T00:00:00Z', '2026-11-16T00:00:00Z', '2026-11-16T00:30:00Z'];
    const outcomes = await sql<{ external_id: string; next_change_at: Date | null }>`
      SELECT i.external_id, o.next_change_at
      FROM lens.incident_outcomes(${from}::timestamptz, ${to}::timestamptz, ${asOf}::timestamptz, 'UTC') o
      JOIN incidents i ON i.id = o.incident_id ORDER BY o.created_at`.execute(database.db);
    expect(outcomes.rows.map((row) => [row.external_id, row.next_change_at?.toISOString() ?? null])).toEqual([
      // Its resolve target, not its acknowledgement target.
      ['acked', '2026-11-22T01:00:00.000Z'],
      // Nothing left to happen.
      ['reviewed', null],
      // Its post-mortem's deadline, not its resolve target.
      ['unreviewed', '2026-11-22T23:00:00.000Z'],
    ]);
    const day = await sql<{ valid_until: Date }>`
      SELECT c.valid_until FROM lens.compute_figures(${from}::timestamptz, ${to}::timestamptz, ${asOf}::timestamptz, 'UTC') c`.execute(
      database.db
    );
    expect(day.rows[0]!.valid_until.toISOString()).toBe('2026-11-22T01:00:00.000Z');
    // The interval is the figures': the same until its last instant, other at its end.
    const figures = await computed(from, to, asOf, 'UTC');
    expect(await computed(from, to, '2026-11-22T00:59:59.999Z', 'UTC')).toEqual(figures);
    expect(await computed(from, to, '2026-11-22T01:00:00Z', 'UTC')).not.toEqual(figures);
  });

  it('holds only until the next deadline of its incidents, then is computed again', async () => {
    // Yesterday's SEV4, acknowledged but open: its 7-day resolve target ends next week, after now.
    const now = Date.now();
    const created = Math.floor((now - DAY) / DAY) * DAY + 3_600_000;
    const deadline = created + 7 * DAY;
    await rows.incidents([{ id: 'pending', created: iso(created), ack: iso(created + 60_000), severity: 'SEV4' }]);
    const day = iso(Math.floor(created / DAY) * DAY);
    await sql`SELECT lens.refresh_closed_periods('UTC')`.execute(database.db);
    const cached = await sql<{ valid_until: Date }>`
      SELECT valid_until FROM lens.period_rollup
      WHERE granularity = 'day' AND tz = 'UTC' AND period_start = ${day}::timestamptz`.execute(database.db);
    expect(cached.rows[0]!.valid_until.toISOString()).toBe(iso(deadline));

    // A range holding that day, read before and after the deadline.
    const [from, to] = [iso(created - 5 * DAY - 1_234), iso(created + DAY + 1_234)];
    for (const asOf of [iso(now), iso(deadline - 1), iso(deadline), iso(deadline + DAY)]) {
      const figures = await summed(from, to, asOf, 'UTC');
      expect(figures, `as of ${asOf}`).toEqual(await computed(from, to, asOf, 'UTC'));
      const sev4 = figures.find((row) => row.dimension_key === 'SEV4')!;
      expect([sev4.resolve_pending, sev4.resolve_breached], `as of ${asOf}`).toEqual(
        asOf < iso(deadline) ? [1, 0] : [0, 1]
      );
    }
  });
});
