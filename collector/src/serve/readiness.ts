import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { migrationsApplied } from '../db/migrate.ts';
import { errorMessage } from '../errors.ts';

/** One condition of /readyz, named so that an operator sees which one failed. */
export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: ReadinessCheck[];
}

export interface SourceFreshnessRule {
  /** The account's name. */
  source: string;
  /** The sync schedule's interval; a sync older than twice this is stale. */
  intervalMs: number;
}

/** How long /readyz waits for the database before calling it unreachable. */
export const DATABASE_CHECK_TIMEOUT_MS = 2000;

/** How old the state that /readyz and /metrics show may be: probes every second cost one query per this. */
export const PROBE_STATE_MAX_AGE_MS = 2000;

/**
 * `compute`, called at most once per `maxAgeMs`: callers within that time
 * share the last answer, and callers while it runs share the one under way,
 * so a flood of probes costs the database one query, not one per request.
 */
export function cachedFor<T>(maxAgeMs: number, compute: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = performance.now();
    if (last && now - last.at < maxAgeMs) {
      return last.value;
    }
    const value = compute();
    const entry = { at: now, value };
    last = entry;
    // A failure is not kept: the next caller tries again.
    value.catch(() => {
      if (last === entry) {
        last = undefined;
      }
    });
    return value;
  };
}

/** When each account last finished a sync that succeeded, from any process, by account name. */
export async function lastSuccessfulSyncs(db: Kysely<Database>): Promise<Map<string, Date>> {
  const rows = await db
    .selectFrom('sync_runs')
    .innerJoin('sources', 'sources.id', 'sync_runs.source_id')
    .select(['sources.name as name', (eb) => eb.fn.max('sync_runs.finished_at').as('finished_at')])
    .where('sync_runs.outcome', '=', 'succeeded')
    .groupBy('sources.name')
    .execute();
  const latest = new Map<string, Date>();
  for (const row of rows) {
    if (row.finished_at) {
      latest.set(row.name, new Date(row.finished_at));
    }
  }
  return latest;
}

/** Pure: is a source's last successful sync younger than twice its schedule's interval? */
export function freshnessCheck(rule: SourceFreshnessRule, lastSuccess: Date | undefined, now: Date): ReadinessCheck {
  const name = `${rule.source}_sync_fresh`;
  const limitSeconds = (2 * rule.intervalMs) / 1000;
  if (!lastSuccess) {
    return { name, ok: false, detail: `${rule.source} has no successful sync yet` };
  }
  const ageSeconds = (now.getTime() - lastSuccess.getTime()) / 1000;
  const ok = ageSeconds < limitSeconds;
  return {
    name,
    ok,
    detail:
      `${rule.source} last synced successfully at ${lastSuccess.toISOString()} (${ageSeconds.toFixed(0)} s ago); ` +
      `${ok ? 'within' : 'older than'} twice the sync schedule (${limitSeconds.toFixed(0)} s)`,
  };
}

/**
 * The conditions of /readyz: the database answers, every migration is
 * applied, and every source synced successfully within twice its schedule.
 */
export async function checkReadiness(
  db: Kysely<Database>,
  rules: readonly SourceFreshnessRule[],
  now: () => Date = () => new Date()
): Promise<ReadinessReport> {
  const checks: ReadinessCheck[] = [];
  try {
    await withTimeout(sql`SELECT 1`.execute(db), DATABASE_CHECK_TIMEOUT_MS, 'the database did not answer within 2 s');
    checks.push({ name: 'database', ok: true, detail: 'the database answers' });
  } catch (error) {
    checks.push({ name: 'database', ok: false, detail: `the database is unreachable: ${errorMessage(error)}` });
    // Nothing else can be checked without it.
    return { ready: false, checks };
  }

  try {
    const applied = await migrationsApplied(db);
    checks.push({
      name: 'migrations',
      ok: applied,
      detail: applied ? 'every migration is applied' : 'migrations are pending: run `incident-lens migrate`',
    });
    const latest = await lastSuccessfulSyncs(db);
    const at = now();
    for (const rule of rules) {
      checks.push(freshnessCheck(rule, latest.get(rule.source), at));
    }
  } catch (error) {
    checks.push({ name: 'database', ok: false, detail: `reading the sync state failed: ${errorMessage(error)}` });
  }
  return { ready: checks.every((check) => check.ok), checks };
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  // A late answer after the timeout is dropped; its rejection must not go unhandled.
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
