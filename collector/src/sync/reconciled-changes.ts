import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Logger } from '../logger.ts';

/**
 * A change a reconciliation found that the source's timeline never recorded
 * (a Jira issue deleted, no longer matching its search or moved; a
 * PagerDuty priority set after the fact): kept in reconciliation_changes
 * for published reports' revision notes and /metrics, and logged.
 */
export interface ReconciledChange {
  recordKind: 'incident' | 'postmortem' | 'action_item';
  /** The source's stable id: a Jira issue id, a PagerDuty incident id. */
  recordId: string;
  /** The key people know it by when the change was found. */
  recordKey: string;
  /** deleted | kind | key for Jira issues; the incident field for PagerDuty. */
  field: string;
  from: string | null;
  to: string | null;
}

/** Fields whose values may be logged: titles stay out of log lines. */
const LOGGED_VALUES = new Set([
  'deleted',
  'kind',
  'key',
  'priority',
  'urgency',
  'severity',
  'status',
  'service',
  'team',
]);

/** Records the changes and logs each at info level: the record and the field, never a secret. */
export async function recordReconciledChanges(
  db: Kysely<Database> | Transaction<Database>,
  sourceId: number,
  changes: readonly ReconciledChange[],
  foundAt: Date,
  logger: Logger
): Promise<void> {
  if (changes.length === 0) {
    return;
  }
  await db
    .insertInto('reconciliation_changes')
    .values(
      changes.map((change) => ({
        source_id: sourceId,
        record_kind: change.recordKind,
        record_id: change.recordId,
        record_key: change.recordKey,
        field: change.field,
        from_value: change.from,
        to_value: change.to,
        found_at: foundAt,
      }))
    )
    .execute();
  for (const change of changes) {
    const values = LOGGED_VALUES.has(change.field) ? { from: change.from, to: change.to } : {};
    logger.info(
      { record: change.recordKey, recordId: change.recordId, kind: change.recordKind, field: change.field, ...values },
      'reconciliation changed a record'
    );
  }
}
