import { sql, type Kysely } from 'kysely';
import { SEVERITIES, type Config } from '../config.ts';
import type { Database } from '../db/schema.ts';

export type PolicyConfig = Pick<Config, 'sla' | 'repeatWindowDays'> & Partial<Pick<Config, 'timezone'>>;

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
              IS DISTINCT FROM (excluded.ack_target_seconds, excluded.resolve_target_seconds, excluded.postmortem_due_seconds)`,
          ),
      )
      .execute();
    const timezone = config.timezone;
    await trx
      .updateTable('metric_settings')
      .set((eb) => ({
        repeat_window_days: config.repeatWindowDays,
        timezone: timezone ?? eb.ref('timezone'),
        updated_at: sql`now()`,
      }))
      .where(sql<boolean>`(repeat_window_days, timezone) IS DISTINCT FROM (${config.repeatWindowDays}::integer, coalesce(${timezone ?? null}::text, timezone))`)
      .execute();
  });
}
