import { sql, type Kysely } from 'kysely';
import { SEVERITIES, type Config } from '../config.ts';
import type { Database } from '../db/schema.ts';

export type PolicyConfig = Pick<Config, 'sla' | 'repeatWindowDays'> & Partial<Pick<Config, 'timezone' | 'onCall'>>;

/**
 * Writes the configured SLA policy, repeat window and (when given) report
 * zone into the tables the metric functions read, in one transaction. Rows
 * that already hold these values are left alone: a changed policy makes every
 * cached period be computed again, the same policy written at each start must not.
 */
export async function applyPolicy(db: Kysely<Database>, config: PolicyConfig): Promise<void> {
  const rows = SEVERITIES.map((severity) => {
    const target = config.sla[severity];
    return {
      severity,
      ack_target_seconds: target.ack,
      resolve_target_seconds: target.resolve,
      postmortem_due_seconds: target.postmortem ?? null,
    };
  });
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('sla_policy')
      .values(rows)
      .onConflict((conflict) =>
        conflict
          .column('severity')
          .doUpdateSet((eb) => ({
            ack_target_seconds: eb.ref('excluded.ack_target_seconds'),
            resolve_target_seconds: eb.ref('excluded.resolve_target_seconds'),
            postmortem_due_seconds: eb.ref('excluded.postmortem_due_seconds'),
            updated_at: sql`now()`,
          }))
          .where(
            sql<boolean>`(sla_policy.ack_target_seconds, sla_policy.resolve_target_seconds, sla_policy.postmortem_due_seconds)
              IS DISTINCT FROM (excluded.ack_target_seconds, excluded.resolve_target_seconds, excluded.postmortem_due_seconds)`
          )
      )
      .execute();
    const timezone = config.timezone;
    const sleepAlert = config.onCall?.sleepInterruptionAlert;
    await trx
      .updateTable('metric_settings')
      .set((eb) => ({
        repeat_window_days: config.repeatWindowDays,
        timezone: timezone ?? eb.ref('timezone'),
        sleep_interruption_alert: sleepAlert ?? eb.ref('sleep_interruption_alert'),
        updated_at: sql`now()`,
      }))
      .where(
        sql<boolean>`(repeat_window_days, timezone, sleep_interruption_alert) IS DISTINCT FROM
          (${config.repeatWindowDays}::integer, coalesce(${timezone ?? null}::text, timezone),
           coalesce(${sleepAlert ?? null}::integer, sleep_interruption_alert))`
      )
      .execute();
  });
}

/**
 * How the stored policy (what the metric functions read) differs from the
 * configured one, in words; empty when they agree. Read through the lens
 * views, so a read-only role can ask. The zone is not compared: a report
 * names its zone itself.
 */
export async function policyDifferences(db: Kysely<Database>, config: PolicyConfig): Promise<string[]> {
  const stored = await sql<{
    severity: string;
    ack_target_seconds: number;
    resolve_target_seconds: number;
    postmortem_due_seconds: number | null;
  }>`
    SELECT severity, ack_target_seconds, resolve_target_seconds, postmortem_due_seconds FROM lens.sla_policy`.execute(
    db
  );
  const settings = await sql<{ repeat_window_days: number }>`SELECT repeat_window_days FROM lens.settings`.execute(db);
  const differences: string[] = [];
  for (const severity of SEVERITIES) {
    const target = config.sla[severity];
    const row = stored.rows.find((candidate) => candidate.severity === severity);
    const pairs: Array<[string, number | null, number | null | undefined]> = [
      ['acknowledge target', target.ack, row?.ack_target_seconds],
      ['resolve target', target.resolve, row?.resolve_target_seconds],
      ['post-mortem due', target.postmortem ?? null, row?.postmortem_due_seconds],
    ];
    for (const [what, configured, actual] of pairs) {
      if (configured !== (actual ?? null)) {
        differences.push(`${severity} ${what}: configured ${configured ?? 'none'} s, stored ${actual ?? 'none'} s`);
      }
    }
  }
  const window = settings.rows[0]?.repeat_window_days;
  if (window !== config.repeatWindowDays) {
    differences.push(`repeat window: configured ${config.repeatWindowDays} days, stored ${window ?? 'none'} days`);
  }
  return differences;
}
