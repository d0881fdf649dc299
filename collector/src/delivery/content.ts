import { formatDuration, formatRate } from '@incident-lens/common/format';
import { SEVERITIES, type ReportJson } from '@incident-lens/common/report';
import type { SlaPolicy } from '../config.ts';
import { describeChange, type Change } from '../report/format-values.ts';
import { renderHtml, type ReportChart } from '../report/html.ts';
import { svgToPng } from './png.ts';

/** What goes out for a period: everything is derived from the report and the incident rows. */

const PERIOD_WORD = { day: 'Daily', week: 'Weekly', month: 'Monthly' } as const;

export interface HeadlineFigure {
  label: string;
  value: string;
  /** Against the previous period; null when there is none to compare. */
  change: Change | null;
  note: string;
}

/** The figures leadership reads first, with their change against the previous period. */
export function headlineFigures(report: ReportJson): HeadlineFigure[] {
  const previous = report.previous;
  return [
    {
      label: 'Incidents',
      value: String(report.incidents.total),
      change: describeChange(report.incidents.total, previous?.incidents.total, 'count'),
      note: `${report.incidents.open} open`,
    },
    {
      label: 'MTTA (mean)',
      value: formatDuration(report.mtta.meanSeconds),
      change: describeChange(report.mtta.meanSeconds, previous?.mtta.meanSeconds, 'duration'),
      note: `median ${formatDuration(report.mtta.medianSeconds)}`,
    },
    {
      label: 'MTTR (mean)',
      value: formatDuration(report.mttr.meanSeconds),
      change: describeChange(report.mttr.meanSeconds, previous?.mttr.meanSeconds, 'duration'),
      note: `median ${formatDuration(report.mttr.medianSeconds)}`,
    },
    {
      label: 'Ack SLA',
      value: formatRate(report.sla.ack.compliance),
      change: describeChange(report.sla.ack.compliance, previous?.sla.ack.compliance, 'rate'),
      note: `${report.sla.ack.breached} breached`,
    },
    {
      label: 'Resolve SLA',
      value: formatRate(report.sla.resolve.compliance),
      change: describeChange(report.sla.resolve.compliance, previous?.sla.resolve.compliance, 'rate'),
      note: `${report.sla.resolve.breached} breached`,
    },
  ];
}

export function reportTitle(report: ReportJson): string {
  return `${PERIOD_WORD[report.period.granularity]} incident report ${report.period.label}`;
}

/** Names the period and the two compliance figures, so the inbox alone tells how it went. */
export function emailSubject(report: ReportJson): string {
  return `${reportTitle(report)}: ack SLA ${formatRate(report.sla.ack.compliance)}, resolve SLA ${formatRate(report.sla.resolve.compliance)}`;
}

export interface InlineImage {
  filename: string;
  cid: string;
  content: Buffer;
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
  images: InlineImage[];
  csv: { filename: string; content: string; rows: number };
}

/**
 * The e-mail of a report: the HTML report with its charts as PNG images
 * referenced by Content-ID, a plain-text part with the headline figures, and
 * the period's incidents as CSV.
 */
export function composeEmail(report: ReportJson, incidentsCsv: string, policy: SlaPolicy): EmailContent {
  const images: InlineImage[] = [];
  const chartMarkup = (chart: ReportChart) => {
    const cid = `${chart.name}.${report.period.label}@incident-lens`;
    images.push({ filename: `${chart.name}.png`, cid, content: svgToPng(chart.svg) });
    return `<img src="cid:${cid}" width="${chart.width}" height="${chart.height}" alt="${chart.name} chart" style="display:block;max-width:100%;height:auto">`;
  };
  const html = renderHtml(report, { policy, chartMarkup });
  const rows = incidentsCsv.split('\r\n').filter((line) => line !== '').length - 1;
  return {
    subject: emailSubject(report),
    text: plainText(report),
    html,
    images,
    csv: { filename: `incidents-${report.period.label}.csv`, content: incidentsCsv, rows },
  };
}

function plainText(report: ReportJson): string {
  const { period } = report;
  const lines = [
    `${reportTitle(report)} (${period.timezone})`,
    `${period.start} to ${period.end}, figures as of ${period.asOf}${report.previous ? `; changes against ${report.previous.label}` : ''}`,
    '',
    ...headlineFigures(report).map(
      (figure) => `${figure.label}: ${figure.value} (${figure.note})${figure.change ? `, ${figure.change.text}` : ''}`
    ),
    `Post-mortems: ${report.postmortems.required} required, ${report.postmortems.completed} completed, ${report.postmortems.overdue} overdue`,
    `Overdue action items (all periods): ${report.actionItems.openOverdueTotal}`,
    '',
    'SLA breaches by severity (acknowledge / resolve):',
    ...SEVERITIES.map(
      (severity) =>
        `  ${severity}: ${report.sla.bySeverity[severity].ack.breached} / ${report.sla.bySeverity[severity].resolve.breached}`
    ),
    '',
    'The full report with charts is the HTML part of this message; the incidents of the period are attached as CSV.',
  ];
  return `${lines.join('\n')}\n`;
}

/** A Slack incoming-webhook message in Block Kit, with `text` as the notification fallback. */
export interface SlackMessage {
  text: string;
  blocks: Array<Record<string, unknown>>;
}

export function slackMessage(report: ReportJson): SlackMessage {
  const { period } = report;
  const figures = headlineFigures(report);
  const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
  const breaches = SEVERITIES.map((severity) => {
    const sla = report.sla.bySeverity[severity];
    return `${severity}: ${sla.ack.breached} ack, ${sla.resolve.breached} resolve`;
  });
  return {
    text: `${emailSubject(report)}; ${report.actionItems.openOverdueTotal} overdue action items`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: reportTitle(report) } },
      {
        type: 'context',
        elements: [
          mrkdwn(
            `${period.start} to ${period.end} (${period.timezone}), as of ${period.asOf}${report.previous ? `; change against ${report.previous.label}` : ''}`
          ),
        ],
      },
      {
        type: 'section',
        fields: figures.map((figure) =>
          mrkdwn(`*${figure.label}*\n${figure.value}  ${figure.change ? figure.change.text : 'no previous period'}`)
        ),
      },
      { type: 'section', text: mrkdwn(`*SLA breaches by severity*\n${breaches.join('\n')}`) },
      {
        type: 'section',
        text: mrkdwn(
          `*Overdue action items:* ${report.actionItems.openOverdueTotal} open past their due date (all periods)`
        ),
      },
    ],
  };
}
