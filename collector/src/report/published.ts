import type { ReconciledRecord, ReportJson } from '@incident-lens/common/report';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

function key(report: ReportJson) {
  return { granularity: report.period.granularity, label: report.period.label, timezone: report.period.timezone };
}

/**
 * Freezes a closed period's report as published; the first publication
 * stands, so a later run never rewrites what leadership already received.
 * Returns whether this call published it.
 */
export async function publishReport(db: Kysely<Database>, report: ReportJson): Promise<boolean> {
  const { granularity, label, timezone } = key(report);
  const inserted = await db
    .insertInto('published_reports')
    .values({ granularity, period_label: label, timezone, as_of: report.period.asOf, report: JSON.stringify(report) })
    .onConflict((oc) => oc.columns(['granularity', 'period_label', 'timezone']).doNothing())
    .returning('period_label')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function readPublishedReport(
  db: Kysely<Database>,
  period: Pick<ReportJson['period'], 'granularity' | 'label' | 'timezone'>
): Promise<{ report: ReportJson; publishedAt: Date } | undefined> {
  const row = await db
    .selectFrom('published_reports')
    .select(['report', 'published_at'])
    .where('granularity', '=', period.granularity)
    .where('period_label', '=', period.label)
    .where('timezone', '=', period.timezone)
    .executeTakeFirst();
  return row ? { report: row.report as ReportJson, publishedAt: row.published_at } : undefined;
}

const KIND_NAMES: Record<ReconciledRecord['kind'], string> = {
  incident: 'incident',
  postmortem: 'post-mortem',
  action_item: 'action item',
};

/** A reconciliation's finding in a revision note, in words: "OPS-12 (action item, jira) deleted, found 2026-11-05T06:00:00Z". */
export function describeReconciled(change: ReconciledRecord): string {
  const what = `${change.record} (${KIND_NAMES[change.kind]}, ${change.source})`;
  const found = `found ${change.foundAt}`;
  if (change.field === 'deleted') {
    return `${what} deleted, ${found}`;
  }
  if (change.field === 'kind') {
    return change.to === null
      ? `${what} no longer matches its ${KIND_NAMES[change.kind]} search, ${found}`
      : `${what} matches its ${KIND_NAMES[change.kind]} search again, ${found}`;
  }
  if (change.field === 'key') {
    return `${what} moved from ${change.from ?? '–'}, ${found}`;
  }
  return `${what} ${change.field} changed from ${change.from ?? '–'} to ${change.to ?? '–'}, ${found}`;
}
