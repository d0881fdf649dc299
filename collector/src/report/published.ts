import type { ReportJson } from '@incident-lens/common/report';
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
