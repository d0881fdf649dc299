import { formatDuration, formatRate } from '@incident-lens/common/format';
import { SEVERITIES, type PeriodHeadline, type ReportJson } from '@incident-lens/common/report';
import { dataQualityNotes } from './data-quality.ts';
import { describeChange } from './format-values.ts';
import { describeReconciled } from './published.ts';

/** The most overdue items first; a retrospective needs the worst, not all of them. */
const MARKDOWN_OVERDUE_ROWS = 15;

type Unit = 'count' | 'duration' | 'rate';
type Headline = Pick<PeriodHeadline, 'incidents' | 'mtta' | 'mttr' | 'sla' | 'escalationRate' | 'repeatRate'>;

/** The headline rows, each compared with the previous period. */
const HEADLINES: ReadonlyArray<[string, Unit, (report: Headline) => number | null]> = [
  ['Incidents', 'count', (report) => report.incidents.total],
  ['MTTA (mean)', 'duration', (report) => report.mtta.meanSeconds],
  ['MTTA (median)', 'duration', (report) => report.mtta.medianSeconds],
  ['MTTR (mean)', 'duration', (report) => report.mttr.meanSeconds],
  ['MTTR (median)', 'duration', (report) => report.mttr.medianSeconds],
  ['Ack SLA compliance', 'rate', (report) => report.sla.ack.compliance],
  ['Resolve SLA compliance', 'rate', (report) => report.sla.resolve.compliance],
  ['Escalation rate', 'rate', (report) => report.escalationRate],
  ['Repeat rate', 'rate', (report) => report.repeatRate],
];

const FORMAT: Record<Unit, (value: number | null) => string> = {
  count: (value) => (value === null ? '–' : String(value)),
  duration: formatDuration,
  rate: formatRate,
};

/**
 * A concise report to paste into a retrospective: headline figures against
 * the previous period, SLA by severity, repeat root causes and the overdue
 * action items with their owners. Every figure comes from the report data.
 */
export function renderMarkdown(report: ReportJson): string {
  const { period, previous } = report;
  const lines: string[] = [];
  lines.push(`# Incident report ${period.label} (${period.granularity}, ${period.timezone})`);
  lines.push('');
  lines.push(
    `Period ${period.start} to ${period.end}, figures as of ${period.asOf}` +
      (report.source ? `, account ${report.source.name} (${report.source.kind}) only.` : '.')
  );
  lines.push('');
  if (report.published) {
    const { publishedAt, revisions, reconciled = [] } = report.published;
    if (revisions.length === 0 && reconciled.length === 0) {
      lines.push(`Unchanged since it was published on ${publishedAt}.`);
    } else {
      lines.push(`**Revised since it was published on ${publishedAt}** (late data changed these figures):`);
      lines.push('');
      for (const revision of revisions) {
        lines.push(`- ${revision.figure}: ${revision.published ?? '–'} published, ${revision.current ?? '–'} now`);
      }
      if (reconciled.length > 0) {
        lines.push('');
        lines.push('Reconciling with the sources found:');
        lines.push('');
        for (const change of reconciled) {
          lines.push(`- ${describeReconciled(change)}`);
        }
      }
    }
    lines.push('');
  }

  lines.push(`| | ${period.label} | ${previous ? `previous (${previous.label})` : 'previous'} | change |`);
  lines.push('|---|---:|---:|---|');
  for (const [name, unit, pick] of HEADLINES) {
    const current = pick(report);
    const before = previous ? pick(previous) : undefined;
    const change = describeChange(current, before, unit);
    lines.push(
      `| ${name} | ${FORMAT[unit](current)} | ${previous ? FORMAT[unit](before ?? null) : '–'} | ${change?.text ?? '–'} |`
    );
  }
  lines.push('');
  lines.push(
    `${report.incidents.open} still open, ${report.mtta.unacknowledged} never acknowledged, ` +
      `${report.incidents.merged} merged duplicates left out, ${report.incidents.unclassified} without a severity.`
  );
  lines.push('');

  const holes = dataQualityNotes(report.dataQuality);
  if (holes.length > 0) {
    lines.push('## What these figures cannot see');
    lines.push('');
    for (const note of holes) {
      lines.push(`- ${note}`);
    }
    lines.push('');
  }

  lines.push('## SLA by severity');
  lines.push('');
  lines.push(
    '| Severity | Incidents | Ack met / breached / pending | Ack compliance | Resolve met / breached / pending | Resolve compliance | MTTA median | MTTR median |'
  );
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const severity of SEVERITIES) {
    const sla = report.sla.bySeverity[severity];
    const figures = report.bySeverity[severity];
    lines.push(
      `| ${severity} | ${figures.count} | ${sla.ack.met} / ${sla.ack.breached} / ${sla.ack.pending} | ${formatRate(sla.ack.compliance)} | ` +
        `${sla.resolve.met} / ${sla.resolve.breached} / ${sla.resolve.pending} | ${formatRate(sla.resolve.compliance)} | ` +
        `${formatDuration(figures.mtta.medianSeconds)} | ${formatDuration(figures.mttr.medianSeconds)} |`
    );
  }
  lines.push('');

  lines.push('## Repeat root causes');
  lines.push('');
  if (report.repeatRootCauses.length === 0) {
    lines.push('No root cause repeated in this period.');
  } else {
    lines.push('| Root cause | Incidents | Repeats | Incidents |');
    lines.push('|---|---:|---:|---|');
    for (const cause of report.repeatRootCauses.slice(0, 10)) {
      lines.push(
        `| ${escapeCell(cause.rootCause)} | ${cause.count} | ${cause.repeats} | ${cause.incidents.join(', ')} |`
      );
    }
  }
  lines.push('');

  const { onCall, noise } = report;
  lines.push('## On-call load and noise');
  lines.push('');
  lines.push(
    `- Interruptions (sms, phone, push, in each responder's zone): ${onCall.interruptions.total}; ${onCall.interruptions.sleep} in sleep hours ` +
      `(${onCall.nightsInterrupted} nights interrupted), ${onCall.interruptions.off} off hours, ${onCall.interruptions.business} business hours.`
  );
  lines.push(
    `- Noise: ${noise.autoResolved} auto-resolved (${formatRate(noise.autoResolvedShare)}), ${noise.transient} transient (${formatRate(noise.transientShare)}).`
  );
  lines.push('');
  if (onCall.responders.length > 0) {
    lines.push('| Responder | Zone | Sleep | Nights | Off | Business | Total | Acknowledged |');
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|');
    for (const row of onCall.responders.slice(0, 10)) {
      lines.push(
        `| ${escapeCell(row.name)} | ${row.timeZone} | ${row.sleep} | ${row.nightsInterrupted} | ${row.off} | ${row.business} | ${row.total} | ${row.acknowledged} |`
      );
    }
    lines.push('');
  }
  const noisiest = [...noise.byService]
    .filter((row) => row.autoResolved + row.transient > 0)
    .sort((a, b) => b.autoResolved + b.transient - (a.autoResolved + a.transient) || a.service.localeCompare(b.service))
    .slice(0, 5);
  if (noisiest.length > 0) {
    lines.push(
      `Noisiest services: ${noisiest.map((row) => `${row.service} (${row.autoResolved} auto-resolved, ${row.transient} transient of ${row.incidents})`).join('; ')}.`
    );
    lines.push('');
  }

  const { postmortems, actionItems } = report;
  lines.push('## Follow-through');
  lines.push('');
  lines.push(
    `- Post-mortems: ${postmortems.required} required, ${postmortems.completed} completed (${postmortems.completedOnTime} on time), ${postmortems.overdue} overdue.`
  );
  lines.push(
    `- Action items due this period: ${actionItems.total}, ${actionItems.completed} completed (${formatRate(actionItems.completionRate)}), ` +
      `${actionItems.completedOnTime} on time (${formatRate(actionItems.onTimeRate)}), ${actionItems.open} open, ${actionItems.overdue} overdue; ` +
      `${actionItems.noDueDate} created without a due date.`
  );
  lines.push(`- Open overdue action items across all periods: ${actionItems.openOverdueTotal}.`);
  lines.push('');

  lines.push('## Overdue action items');
  lines.push('');
  if (report.overdueActionItems.length === 0) {
    lines.push('None.');
  } else {
    lines.push('| Item | Owner | Due | Overdue by | Incident | Team |');
    lines.push('|---|---|---|---:|---|---|');
    for (const item of report.overdueActionItems.slice(0, MARKDOWN_OVERDUE_ROWS)) {
      lines.push(
        `| ${item.externalId} ${escapeCell(item.title)} | ${escapeCell(item.owner ?? 'unassigned')} | ${item.dueDate} | ` +
          `${formatDuration(item.overdueSeconds)} | ${item.incident ?? '–'} | ${escapeCell(item.team ?? '–')} |`
      );
    }
    const listed = Math.min(report.overdueActionItems.length, MARKDOWN_OVERDUE_ROWS);
    if (listed < actionItems.openOverdueTotal) {
      lines.push('');
      lines.push(
        `(${actionItems.openOverdueTotal - listed} more; the HTML report and the Action items page list them.)`
      );
    }
  }
  lines.push('');
  return lines.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
