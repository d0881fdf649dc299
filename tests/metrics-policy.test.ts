import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../collector/src/config.ts';
import { applyPolicy } from '../collector/src/metrics/policy.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database.destroy();
});

async function policy() {
  const result = await sql<Record<string, unknown>>`
    SELECT severity, ack_target_seconds, resolve_target_seconds, postmortem_due_seconds, postmortem_required
    FROM lens.sla_policy ORDER BY severity`.execute(database.db);
  return result.rows;
}

async function changeCount(): Promise<number> {
  const result = await sql<{ count: number }>`SELECT count(*) AS count FROM lens.fact_changes`.execute(database.db);
  return result.rows[0]!.count;
}

describe('SLA policy', () => {
  it('is seeded with the default policy of docs/metrics.md §5', async () => {
    expect(await policy()).toEqual([
      {
        severity: 'SEV1',
        ack_target_seconds: 900,
        resolve_target_seconds: 3600,
        postmortem_due_seconds: 172800,
        postmortem_required: true,
      },
      {
        severity: 'SEV2',
        ack_target_seconds: 1800,
        resolve_target_seconds: 14400,
        postmortem_due_seconds: 604800,
        postmortem_required: true,
      },
      {
        severity: 'SEV3',
        ack_target_seconds: 7200,
        resolve_target_seconds: 86400,
        postmortem_due_seconds: null,
        postmortem_required: false,
      },
      {
        severity: 'SEV4',
        ack_target_seconds: 86400,
        resolve_target_seconds: 604800,
        postmortem_due_seconds: null,
        postmortem_required: false,
      },
    ]);
    const settings = await sql<Record<string, unknown>>`SELECT repeat_window_days, timezone FROM lens.settings`.execute(
      database.db
    );
    expect(settings.rows).toEqual([{ repeat_window_days: 90, timezone: 'UTC' }]);
  });

  it('takes the YAML configuration, and writing it again changes nothing', async () => {
    const config = parseFileConfig({
      timezone: 'Europe/Berlin',
      repeatWindowDays: 30,
      sla: { SEV1: { ack: '5m', resolve: '30m' }, SEV3: { ack: '1h', resolve: '8h', postmortem: '14d' } },
    });
    await applyPolicy(database.db, config);
    expect(await policy()).toEqual([
      // A severity configured without `postmortem` needs none.
      {
        severity: 'SEV1',
        ack_target_seconds: 300,
        resolve_target_seconds: 1800,
        postmortem_due_seconds: null,
        postmortem_required: false,
      },
      {
        severity: 'SEV2',
        ack_target_seconds: 1800,
        resolve_target_seconds: 14400,
        postmortem_due_seconds: 604800,
        postmortem_required: true,
      },
      {
        severity: 'SEV3',
        ack_target_seconds: 3600,
        resolve_target_seconds: 28800,
        postmortem_due_seconds: 1209600,
        postmortem_required: true,
      },
      {
        severity: 'SEV4',
        ack_target_seconds: 86400,
        resolve_target_seconds: 604800,
        postmortem_due_seconds: null,
        postmortem_required: false,
      },
    ]);
    const settings = await sql<Record<string, unknown>>`SELECT repeat_window_days, timezone FROM lens.settings`.execute(
      database.db
    );
    expect(settings.rows).toEqual([{ repeat_window_days: 30, timezone: 'Europe/Berlin' }]);

    // The same policy again does not invalidate the cached periods.
    const before = await changeCount();
    await applyPolicy(database.db, config);
    await applyPolicy(database.db, { sla: config.sla, repeatWindowDays: config.repeatWindowDays });
    expect(await changeCount()).toBe(before);
    expect(
      (await sql<{ timezone: string }>`SELECT timezone FROM lens.settings`.execute(database.db)).rows[0]!.timezone
    ).toBe('Europe/Berlin');
  });
});
