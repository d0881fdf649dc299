import type { DataQualityFigures } from '@incident-lens/common/report';

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * One sentence per hole in the data the figures are built on (docs/metrics.md §12),
 * for the "What these figures cannot see" section; empty when there is none.
 */
export function dataQualityNotes(figures: DataQualityFigures): string[] {
  const notes: Array<[number, string]> = [
    [
      figures.withoutSeverity,
      `${count(figures.withoutSeverity, 'incident has', 'incidents have')} no severity: no SLA target applies to them.`,
    ],
    [
      figures.postmortemMissing,
      `${count(figures.postmortemMissing, 'required post-mortem is', 'required post-mortems are')} missing past the due date.`,
    ],
    [
      figures.actionItemsWithoutOwner,
      `${count(figures.actionItemsWithoutOwner, 'action item has', 'action items have')} no owner.`,
    ],
    [
      figures.actionItemsWithoutDueDate,
      `${count(figures.actionItemsWithoutDueDate, 'action item has', 'action items have')} no due date, so no completion figure counts them.`,
    ],
    [
      figures.quarantinedLast30Days,
      `${count(figures.quarantinedLast30Days, 'record was', 'records were')} refused by the sync in the 30 days before the as-of instant; no figure includes them.`,
    ],
    [
      figures.unlinkedTickets,
      `${count(figures.unlinkedTickets, 'Jira incident ticket names', 'Jira incident tickets name')} a PagerDuty incident the database does not hold.`,
    ],
  ];
  return notes.filter(([n]) => n > 0).map(([, note]) => note);
}
