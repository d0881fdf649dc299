import type { ReportJson, Revision } from '@incident-lens/common/report';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/** The figures leadership quotes; a change in any of them after publication is shown. */
const HEADLINE: [figure: string, read: (report: ReportJson) => number | null][] = [
  ['incidents', (report) => report.incidents.total],
  ['open incidents', (report) => report.incidents.open],
  ['MTTA mean (s)', (report) => report.mtta.meanSeconds],
  ['MTTA median (s)', (report) => report.mtta.medianSeconds],
  ['MTTR mean (s)', (report) => report.mttr.meanSeconds],
  ['MTTR median (s)', (report) => report.mttr.medianSeconds],
  ['ack SLA compliance', (report) => report.sla.ack.compliance],
  ['resolve SLA compliance', (report) => report.sla.resolve.compliance],
  ['post-mortems completed', (report) => report.postmortems.completed],
  ['post-mortems overdue', (report) => report.postmortems.overdue],
  ['action items completed', (report) => report.actionItems.completed],
  ['action items overdue', (report) => report.actionItems.overdue],
  ['repeat rate', (report) => report.repeatRate],
  ['escalation rate', (report) => report.escalationRate],
];

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
  period: Pick<ReportJson['period'], 'granularity' | 'label' | 'timezone'>,
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

/** Pure: the headline figures that moved between the published report and a current one. */
export function revisions(published: ReportJson, current: ReportJson): Revision[] {
  const changed: Revision[] = [];
  for (const [figure, read] of HEADLINE) {
    const before = read(published);
    const now = read(current);
    const same = before === now || (before !== null && now !== null && Math.abs(before - now) < 1e-9);
    if (!same) changed.push({ figure, published: before, current: now });
  }
  return changed;
}

/** The report with a `published` field when this period was published before. */
export async function compareWithPublished(db: Kysely<Database>, report: ReportJson): Promise<ReportJson> {
  const stored = await readPublishedReport(db, report.period);
  if (!stored) return report;
  return {
    ...report,
    published: {
      publishedAt: stored.publishedAt.toISOString(),
      asOf: stored.report.period.asOf,
      revisions: revisions(stored.report, report),
    },
  };
}
