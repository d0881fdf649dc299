import type { IncidentMetricsRow } from '@incident-lens/common/report';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { MetricRows, periodMetrics } from './support/metrics-rows.ts';

// MTTA and MTTR from SQL against a plain implementation of the definitions
// (docs/metrics.md §3): the mean, and percentile_cont's linear interpolation
// between the ranks of the sorted values.

let database: TestDatabase;
let rows: MetricRows;

beforeAll(async () => {
  database = await createTestDatabase();
  rows = await MetricRows.create(database.db);
});

afterAll(async () => {
  await database.destroy();
});

interface Reference {
  count: number;
  mean: number | null;
  median: number | null;
  p90: number | null;
  p95: number | null;
}

function percentile(sorted: number[], fraction: number): number {
  const rank = fraction * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  return sorted[lower]! + (rank - lower) * (sorted[upper]! - sorted[lower]!);
}

function reference(values: number[]): Reference {
  if (values.length === 0) {
    return { count: 0, mean: null, median: null, p90: null, p95: null };
  }
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: values.length,
    mean: values.reduce((sum, value) => sum + value, 0) / values.length,
    median: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p95: percentile(sorted, 0.95),
  };
}

function expectFigures(row: IncidentMetricsRow, prefix: 'mtta' | 'mttr', expected: Reference): void {
  expect(row[`${prefix}_count`]).toBe(expected.count);
  const pairs: Array<[unknown, number | null]> = [
    [row[`${prefix}_mean_seconds`], expected.mean],
    [row[`${prefix}_median_seconds`], expected.median],
    [row[`${prefix}_p90_seconds`], expected.p90],
    [row[`${prefix}_p95_seconds`], expected.p95],
  ];
  for (const [actual, wanted] of pairs) {
    if (wanted === null) {
      expect(actual).toBeNull();
    }
    // Durations are whole milliseconds up to ~12 days: agreement to the microsecond.
    else {
      expect(actual as number).toBeCloseTo(wanted, 6);
    }
  }
}

const incident = fc.record({
  severity: fc.constantFrom('SEV1' as const, 'SEV3' as const),
  // Milliseconds after creation; null: never acknowledged / still open.
  ackMs: fc.option(fc.integer({ min: 0, max: 1_000_000_000 }), { nil: null }),
  resolveMs: fc.option(fc.integer({ min: 0, max: 1_000_000_000 }), { nil: null }),
  createdMinute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
});

describe('MTTA and MTTR against a reference implementation', () => {
  it('agree on random incidents, in total and per severity', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(incident, { maxLength: 40 }), async (incidents) => {
        await rows.clear();
        await rows.incidents(
          incidents.map((spec, index) => {
            const created = Date.parse('2026-06-15T00:00:00Z') + spec.createdMinute * 60_000;
            return {
              id: `P${index}`,
              severity: spec.severity,
              created: new Date(created).toISOString(),
              ack: spec.ackMs === null ? null : new Date(created + spec.ackMs).toISOString(),
              resolved: spec.resolveMs === null ? null : new Date(created + spec.resolveMs).toISOString(),
            };
          })
        );
        // As of long after every instant: all acks and resolves have happened.
        const result = await periodMetrics(database.db, 'day', '2026-06-15', '2027-01-01T00:00:00Z', 'UTC');
        const groups: Array<[IncidentMetricsRow | undefined, typeof incidents]> = [
          [result.find((row) => row.dimension === 'total'), incidents],
          [result.find((row) => row.dimension_key === 'SEV1'), incidents.filter((spec) => spec.severity === 'SEV1')],
          [result.find((row) => row.dimension_key === 'SEV3'), incidents.filter((spec) => spec.severity === 'SEV3')],
        ];
        for (const [row, group] of groups) {
          expect(row).toBeDefined();
          const acks = group.flatMap((spec) => (spec.ackMs === null ? [] : [spec.ackMs / 1000]));
          const resolves = group.flatMap((spec) => (spec.resolveMs === null ? [] : [spec.resolveMs / 1000]));
          expectFigures(row!, 'mtta', reference(acks));
          expectFigures(row!, 'mttr', reference(resolves));
          expect(row!.unacknowledged).toBe(group.length - acks.length);
          expect(row!.open).toBe(group.length - resolves.length);
        }
      }),
      { numRuns: 30 }
    );
  });
});
