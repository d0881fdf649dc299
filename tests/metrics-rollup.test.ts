import fc from 'fast-check';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { MetricRows, periodMetrics, totalRow } from './support/metrics-rows.ts';

// The derived state of sql/lens must never hide late data:
// lens.incident_fact (kept by triggers) and lens.period_rollup (the cache of
// closed periods, which readers only read and the collector fills). Each test
// caches September 2026, poisons the cached row so that using it would show,
// changes the data late, and reads again.

let database: TestDatabase;
let rows: MetricRows;

const AS_OF = '2026-11-01T00:00:00Z';
const SEPTEMBER = ['2026-09-01T00:00:00Z', '2026-10-01T00:00:00Z'] as const;
const POISON = 999_999;

beforeAll(async () => {
  database = await createTestDatabase();
  rows = await MetricRows.create(database.db);
});

afterAll(async () => {
  await database.destroy();
});

beforeEach(async () => {
  await rows.clear();
  await sql`DELETE FROM lens.period_rollup`.execute(database.db);
  await sql`DELETE FROM lens.oncall_rollup`.execute(database.db);
  await sql`UPDATE metric_settings SET repeat_window_days = 90`.execute(database.db);
  await sql`UPDATE sla_policy SET ack_target_seconds = 1800 WHERE severity = 'SEV2'`.execute(database.db);
  await rows.incidents([
    {
      id: 'a',
      created: '2026-09-03T10:00:00Z',
      ack: '2026-09-03T10:10:00Z',
      resolved: '2026-09-03T11:00:00Z',
      rootCause: 'dns',
    },
    {
      id: 'b',
      created: '2026-09-10T10:00:00Z',
      ack: '2026-09-10T10:20:00Z',
      resolved: '2026-09-10T12:00:00Z',
      rootCause: 'dns',
    },
    { id: 'c', created: '2026-09-20T10:00:00Z', severity: 'SEV3', resolved: '2026-09-20T10:30:00Z' },
    { id: 'october', created: '2026-10-05T10:00:00Z', ack: '2026-10-05T10:01:00Z', resolved: '2026-10-05T10:30:00Z' },
  ]);
});

async function septemberTotal() {
  return totalRow(await periodMetrics(database.db, 'month', '2026-09-01', AS_OF, 'UTC'));
}

/** What a computation that bypasses the cache says, for comparison. */
async function liveTotal() {
  const result = await sql<Record<string, unknown>>`
    SELECT f.* FROM lens.compute_figures(${SEPTEMBER[0]}::timestamptz, ${SEPTEMBER[1]}::timestamptz, ${AS_OF}::timestamptz, 'UTC') c
    CROSS JOIN LATERAL unnest(c.figures) f WHERE f.dimension = 'total'`.execute(database.db);
  // Labels are filled in by lens.metrics; the figures are what must agree.
  const { period_label: _label, dimension_label: _dimensionLabel, ...figures } = result.rows[0]!;
  return figures;
}

/** Writes an impossible count into the cached September, without recording a change. */
async function poisonCache(): Promise<void> {
  const updated = await sql`
    UPDATE lens.period_rollup r
    SET figures = ARRAY(SELECT CASE WHEN f.dimension = 'total'
                                    THEN ROW((f).period_start, (f).period_end, (f).period_label, (f).dimension, (f).dimension_key,
                                             (f).dimension_label, ${POISON}::integer,
                                             (f).share, (f).merged, (f).open, (f).unclassified, (f).sev1, (f).sev2, (f).sev3, (f).sev4,
                                             (f).unknown, (f).mtta_count, (f).unacknowledged, (f).mtta_mean_seconds, (f).mtta_median_seconds,
                                             (f).mtta_p90_seconds, (f).mtta_p95_seconds, (f).mttr_count, (f).mttr_mean_seconds,
                                             (f).mttr_median_seconds, (f).mttr_p90_seconds, (f).mttr_p95_seconds, (f).ack_met, (f).ack_breached,
                                             (f).ack_pending, (f).ack_compliance, (f).resolve_met, (f).resolve_breached, (f).resolve_pending,
                                             (f).resolve_compliance, (f).postmortems_required, (f).postmortems_completed,
                                             (f).postmortems_completed_on_time, (f).postmortems_overdue, (f).escalated, (f).escalation_rate,
                                             (f).business_hours, (f).off_hours, (f).mttd_count, (f).mttd_mean_seconds, (f).mttd_median_seconds,
                                             (f).mttd_p90_seconds, (f).mttd_p95_seconds, (f).root_cause_incidents, (f).repeat_incidents,
                                             (f).repeat_rate)::lens.incident_metrics
                                    ELSE f END
                        FROM unnest(r.figures) f)
    WHERE r.granularity = 'month' AND r.tz = 'UTC' AND r.period_start = ${SEPTEMBER[0]}::timestamptz`.execute(
    database.db
  );
  expect(Number(updated.numAffectedRows)).toBe(1);
}

/** What the collector does after a sync, for September alone; true when it wrote the row. */
async function cacheSeptember(): Promise<boolean> {
  const result = await sql<{ written: boolean }>`
    SELECT lens.cache_period_figures('month', ${SEPTEMBER[0]}::timestamptz, ${SEPTEMBER[1]}::timestamptz, 'UTC') AS written`.execute(
    database.db
  );
  return result.rows[0]!.written;
}

async function cachedAndPoisoned(): Promise<void> {
  expect((await septemberTotal()).incidents).toBe(3);
  expect(await cacheSeptember()).toBe(true);
  await poisonCache();
  // The poisoned row is what a read returns: the cache is in use.
  expect((await septemberTotal()).incidents).toBe(POISON);
}

describe('period cache', () => {
  it('is never written by reading, and filled once per closed period', async () => {
    await periodMetrics(database.db, 'month', '2026-09-01', '2026-09-25T00:00:00Z', 'UTC');
    await septemberTotal();
    expect((await sql`SELECT 1 FROM lens.period_rollup`.execute(database.db)).rows).toHaveLength(0);

    expect(await cacheSeptember()).toBe(true);
    const cached = await sql<{ stable_from: Date }>`SELECT stable_from FROM lens.period_rollup`.execute(database.db);
    expect(cached.rows).toHaveLength(1);
    // The latest instant of September's figures: c's 24 h resolve target ends 2026-09-21T10:00Z,
    // b's post-mortem (SEV2, 7 days after 12:00 on 2026-09-10) on 2026-09-17; the period end is later.
    expect(cached.rows[0]!.stable_from.toISOString()).toBe('2026-10-01T00:00:00.000Z');
    // A current row is not computed again.
    expect(await cacheSeptember()).toBe(false);
  });

  it('is not filled for a period that is still running', async () => {
    const written = await sql<{ written: boolean }>`
      SELECT lens.cache_period_figures('day', date_trunc('day', now(), 'UTC'), date_trunc('day', now(), 'UTC') + interval '1 day', 'UTC') AS written`.execute(
      database.db
    );
    expect(written.rows[0]!.written).toBe(false);
    expect((await sql`SELECT 1 FROM lens.period_rollup`.execute(database.db)).rows).toHaveLength(0);
  });

  it('is filled for every closed day, week, month and year since the first incident, then has nothing to do', async () => {
    // The first incident, 2026-09-03, is in the ISO week from Monday 2026-08-31 and in September.
    // Counted on Berlin's calendar: around midnight UTC and Berlin disagree on the day, and on the month.
    const ended = await sql<{ days: number; weeks: number; months: number; years: number }>`
      SELECT t.today - date '2026-09-03' AS days, (t.today - date '2026-08-31') / 7 AS weeks,
             (extract(year FROM t.today) * 12 + extract(month FROM t.today))::integer - (2026 * 12 + 9) AS months,
             extract(year FROM t.today)::integer - 2026 AS years
      FROM (SELECT (now() AT TIME ZONE 'Europe/Berlin')::date AS today) t`.execute(database.db);
    const { days: closedDays, weeks: closedWeeks, months: closedMonths, years: closedYears } = ended.rows[0]!;
    const first = await sql<{
      written: number;
    }>`SELECT lens.refresh_closed_periods('Europe/Berlin') AS written`.execute(database.db);
    const cached = await sql<{ granularity: string; periods: number; running: number }>`
      SELECT granularity, count(*)::integer AS periods, count(*) FILTER (WHERE period_end > now())::integer AS running
      FROM lens.period_rollup WHERE tz = 'Europe/Berlin' GROUP BY granularity ORDER BY granularity`.execute(
      database.db
    );
    expect(cached.rows).toEqual([
      { granularity: 'day', periods: closedDays, running: 0 },
      { granularity: 'month', periods: closedMonths, running: 0 },
      { granularity: 'week', periods: closedWeeks, running: 0 },
      // Years (for ranges of years) once 2026 has ended.
      ...(closedYears > 0 ? [{ granularity: 'year', periods: closedYears, running: 0 }] : []),
    ]);
    // Each day, week and month also has its on-call figures cached, and on-call caches the nights
    // shared across the midnight that ends each closed day.
    expect(first.rows[0]!.written).toBe(2 * (closedDays + closedMonths + closedWeeks) + closedDays + closedYears);
    const again = await sql<{
      written: number;
    }>`SELECT lens.refresh_closed_periods('Europe/Berlin') AS written`.execute(database.db);
    expect(again.rows[0]!.written).toBe(0);
  });

  const lateChanges: Array<{ change: string; apply: () => Promise<unknown> }> = [
    {
      change: 'a late first ack',
      apply: () =>
        sql`UPDATE incidents SET acknowledged_at = '2026-09-20T10:05:00Z' WHERE external_id = 'c'`.execute(database.db),
    },
    {
      change: 'a late resolve of a reopened incident',
      apply: () => sql`UPDATE incidents SET resolved_at = NULL WHERE external_id = 'a'`.execute(database.db),
    },
    { change: 'a new incident', apply: () => rows.incidents([{ id: 'late', created: '2026-09-30T23:59:59Z' }]) },
    {
      change: 'an incident deleted',
      apply: () => sql`DELETE FROM incidents WHERE external_id = 'c'`.execute(database.db),
    },
    {
      change: 'an incident merged',
      apply: () => sql`UPDATE incidents SET merged = true WHERE external_id = 'b'`.execute(database.db),
    },
    {
      change: 'an incident moved into the period',
      apply: () =>
        sql`UPDATE incidents SET created_at = '2026-09-30T10:00:00Z' WHERE external_id = 'october'`.execute(
          database.db
        ),
    },
    {
      change: 'a new severity',
      apply: () => sql`UPDATE incidents SET severity = 'SEV1' WHERE external_id = 'a'`.execute(database.db),
    },
    {
      change: 'a post-mortem completed',
      apply: () =>
        rows.postmortems([
          { id: 'PM-B', incident: 'b', created: '2026-09-11T00:00:00Z', completed: '2026-09-12T00:00:00Z' },
        ]),
    },
    {
      change: 'a post-mortem root cause that breaks a repeat',
      apply: async () => {
        await rows.postmortems([
          { id: 'PM-A', incident: 'a', created: '2026-09-04T00:00:00Z', rootCause: 'Disk full' },
        ]);
      },
    },
    {
      // The sync writes the escalate log entry, then flags the incident (docs/metrics.md §1).
      change: 'an escalation',
      apply: async () => {
        await sql`INSERT INTO incident_events (incident_id, source_id, external_id, type, raw_type, occurred_at)
                  VALUES (${rows.incidentId('a')}, ${rows.pagerdutyId}, 'LE-1', 'escalate', 'escalate_log_entry', '2026-09-03T10:05:00Z')`.execute(
          database.db
        );
        await sql`UPDATE incidents SET escalated = true WHERE external_id = 'a'`.execute(database.db);
      },
    },
    {
      change: 'an escalation time corrected',
      apply: async () => {
        await sql`UPDATE incidents SET escalated = true WHERE external_id = 'a'`.execute(database.db);
        await sql`INSERT INTO incident_events (incident_id, source_id, external_id, type, raw_type, occurred_at)
                  VALUES (${rows.incidentId('a')}, ${rows.pagerdutyId}, 'LE-2', 'escalate', 'escalate_log_entry', '2026-09-03T10:05:00Z')`.execute(
          database.db
        );
      },
    },
    {
      change: 'a new SLA policy',
      apply: () => sql`UPDATE sla_policy SET ack_target_seconds = 900 WHERE severity = 'SEV2'`.execute(database.db),
    },
    {
      change: 'a new repeat window',
      apply: () => sql`UPDATE metric_settings SET repeat_window_days = 1`.execute(database.db),
    },
  ];

  it.each(lateChanges)('shows $change at once', async ({ apply }) => {
    await cachedAndPoisoned();
    await apply();
    const after = await septemberTotal();
    expect(after.incidents).not.toBe(POISON);
    expect(after).toMatchObject(await liveTotal());
  });

  it('keeps using the cache when the change is in another period', async () => {
    await cachedAndPoisoned();
    await sql`UPDATE incidents SET acknowledged_at = '2026-10-05T10:02:00Z' WHERE external_id = 'october'`.execute(
      database.db
    );
    await rows.incidents([{ id: 'november', created: '2026-10-20T00:00:00Z' }]);
    expect((await septemberTotal()).incidents).toBe(POISON);
  });

  /** In `reader`'s open snapshot: caches September, and reads its MTTA count there. */
  async function cacheSeptemberIn(reader: pg.Client): Promise<unknown> {
    const result = await reader.query(
      `SELECT lens.cache_period_figures('month', $1, $2, 'UTC') AS written,
              (SELECT mtta_count FROM lens.period_metrics('month', '2026-09-01', $3, 'UTC') WHERE dimension = 'total')`,
      [SEPTEMBER[0], SEPTEMBER[1], AS_OF]
    );
    return result.rows[0];
  }

  /** September's row is cached, and a reader that sees the late ack gets the month computed again. */
  async function expectCachedYetComputedAgain(): Promise<void> {
    expect((await sql`SELECT 1 FROM lens.period_rollup`.execute(database.db)).rows).toHaveLength(1);
    expect((await septemberTotal()).mtta_count).toBe(3);
  }

  it('does not trust a period cached from a snapshot older than a committed change', async () => {
    await sql`DELETE FROM lens.period_rollup`.execute(database.db);
    const reader = new pg.Client({ connectionString: database.url });
    await reader.connect();
    try {
      // The reader's snapshot is taken before the late ack commits...
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await reader.query('SELECT 1');
      await sql`UPDATE incidents SET acknowledged_at = '2026-09-20T10:05:00Z' WHERE external_id = 'c'`.execute(
        database.db
      );
      // ...so it caches September without it, consistently with what it sees.
      expect(await cacheSeptemberIn(reader)).toEqual({ written: true, mtta_count: 2 });
      await reader.query('COMMIT');
    } finally {
      await reader.end();
    }
    // Everyone else sees the ack.
    await expectCachedYetComputedAgain();
  });

  it('does not trust a period cached while a change to it was in progress, once that change commits', async () => {
    await sql`DELETE FROM lens.period_rollup`.execute(database.db);
    const writer = new pg.Client({ connectionString: database.url });
    const reader = new pg.Client({ connectionString: database.url });
    await writer.connect();
    await reader.connect();
    try {
      // The late ack is written, not yet committed, when the reader takes its snapshot...
      await writer.query('BEGIN');
      await writer.query(`UPDATE incidents SET acknowledged_at = '2026-09-20T10:05:00Z' WHERE external_id = 'c'`);
      // A later transaction commits first: the snapshot's xmax passes the writer's, which it lists as in progress.
      await sql`SELECT pg_current_xact_id()`.execute(database.db);
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await reader.query('SELECT 1');
      // ...so the reader caches September without it.
      expect(await cacheSeptemberIn(reader)).toEqual({ written: true, mtta_count: 2 });
      const snapshot = await reader.query<{ listed: boolean }>(
        `SELECT $1::xid8 = ANY (ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot()))) AS listed`,
        [(await writer.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).rows[0]!.xid]
      );
      expect(snapshot.rows[0]!.listed).toBe(true);
      await reader.query('COMMIT');
      await writer.query('COMMIT');
    } finally {
      await reader.end();
      await writer.end();
    }
    // The change was in progress for that snapshot: committed, everyone sees it.
    await expectCachedYetComputedAgain();
  });

  it('answers in a read-only transaction without caching', async () => {
    const reader = new pg.Client({ connectionString: database.url });
    await reader.connect();
    try {
      await reader.query('BEGIN READ ONLY');
      const result = await reader.query(
        `SELECT incidents FROM lens.period_metrics('month', '2026-09-01', $1, 'UTC') WHERE dimension = 'total'`,
        [AS_OF]
      );
      expect(result.rows[0].incidents).toBe(3);
      await reader.query('COMMIT');
    } finally {
      await reader.end();
    }
    expect((await sql`SELECT 1 FROM lens.period_rollup`.execute(database.db)).rows).toHaveLength(0);
  });

  it('compacts the change log, keeping the cached periods that saw every change', async () => {
    await cachedAndPoisoned();
    await sql`SELECT lens.cache_oncall_period_figures('month', ${SEPTEMBER[0]}::timestamptz, ${SEPTEMBER[1]}::timestamptz, 'UTC')`.execute(
      database.db
    );
    await sql`UPDATE incidents SET acknowledged_at = '2026-10-05T10:02:00Z' WHERE external_id = 'october'`.execute(
      database.db
    );
    await sql`SELECT lens.compact_rollups()`.execute(database.db);
    expect((await sql`SELECT 1 FROM lens.fact_changes`.execute(database.db)).rows).toHaveLength(0);
    // September saw every change that overlaps it: still cached, its on-call figures too.
    expect((await septemberTotal()).incidents).toBe(POISON);
    const onCall = await sql<{ current: boolean }>`
      SELECT lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot) AS current
      FROM lens.oncall_rollup r WHERE r.granularity = 'month' AND r.tz = 'UTC' AND r.period_start = ${SEPTEMBER[0]}::timestamptz`.execute(
      database.db
    );
    expect(onCall.rows).toEqual([{ current: true }]);
    await sql`UPDATE incidents SET acknowledged_at = '2026-09-20T10:05:00Z' WHERE external_id = 'c'`.execute(
      database.db
    );
    expect(await septemberTotal()).toMatchObject(await liveTotal());
  });
});

describe('incident facts under any sequence of late changes', () => {
  // After every batch, the facts the triggers kept must equal facts rebuilt from scratch.
  const incidentIds = ['a', 'b', 'c', 'october'];
  const change = fc.oneof(
    fc.record({
      kind: fc.constant('key' as const),
      incident: fc.constantFrom(...incidentIds),
      key: fc.constantFrom('dns', 'DNS ', 'disk', null),
    }),
    fc.record({ kind: fc.constant('merge' as const), incident: fc.constantFrom(...incidentIds), merged: fc.boolean() }),
    fc.record({
      kind: fc.constant('move' as const),
      incident: fc.constantFrom(...incidentIds),
      day: fc.integer({ min: 1, max: 60 }),
    }),
    fc.record({
      kind: fc.constant('insert' as const),
      day: fc.integer({ min: 1, max: 60 }),
      key: fc.constantFrom('dns', 'disk', null),
    }),
    fc.record({
      kind: fc.constant('postmortem' as const),
      incident: fc.constantFrom(...incidentIds),
      key: fc.constantFrom('dns', 'disk', null),
    }),
    fc.record({ kind: fc.constant('delete' as const), incident: fc.constantFrom(...incidentIds) })
  );

  function dayOf(day: number): string {
    return new Date(Date.UTC(2026, 8, day, 10)).toISOString();
  }

  it('matches a rebuild after every batch', async () => {
    let counter = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 6 }), async (changes) => {
        for (const step of changes) {
          counter += 1;
          const id = 'incident' in step ? rows.incidentIds.get(step.incident) : undefined;
          if (step.kind === 'insert') {
            await rows.incidents([{ id: `new-${counter}`, created: dayOf(step.day), rootCause: step.key }]);
          } else if (id === undefined) {
            continue;
          } else if (step.kind === 'key') {
            await sql`UPDATE incidents SET root_cause_key = ${step.key} WHERE id = ${id}`.execute(database.db);
          } else if (step.kind === 'merge') {
            await sql`UPDATE incidents SET merged = ${step.merged} WHERE id = ${id}`.execute(database.db);
          } else if (step.kind === 'move') {
            await sql`UPDATE incidents SET created_at = ${dayOf(step.day)}, acknowledged_at = NULL, resolved_at = NULL WHERE id = ${id}`.execute(
              database.db
            );
          } else if (step.kind === 'postmortem') {
            await sql`WITH pm AS (
                        INSERT INTO postmortems (source_id, external_id, title, status, status_category, created_at, root_cause_key)
                        VALUES (${rows.jiraId}, ${`PM-${counter}`}, 'pm', 'Open', 'new', ${dayOf((counter % 60) + 1)}, ${step.key})
                        RETURNING id)
                      INSERT INTO postmortem_incidents (postmortem_id, incident_id) SELECT pm.id, ${id} FROM pm`.execute(
              database.db
            );
          } else {
            await sql`DELETE FROM postmortems WHERE id IN (SELECT postmortem_id FROM postmortem_incidents WHERE incident_id = ${id})`.execute(
              database.db
            );
            await sql`DELETE FROM incidents WHERE id = ${id}`.execute(database.db);
            rows.incidentIds.delete(step.incident);
          }
        }
        const kept = await sql<Record<string, unknown>>`SELECT * FROM lens.incident_fact ORDER BY incident_id`.execute(
          database.db
        );
        await database.db.transaction().execute(async (trx) => {
          await sql`DELETE FROM lens.incident_fact`.execute(trx);
          await sql`SELECT lens.refresh_incident_facts(ARRAY(SELECT id FROM incidents))`.execute(trx);
          const rebuilt = await sql<
            Record<string, unknown>
          >`SELECT * FROM lens.incident_fact ORDER BY incident_id`.execute(trx);
          expect(kept.rows).toEqual(rebuilt.rows);
        });
      }),
      // LENS_FC_RUNS=300 searches harder when the fact upkeep changes.
      { numRuns: Number(process.env.LENS_FC_RUNS ?? 15) }
    );
  });
});
