import { formatDuration, formatRate } from '@incident-lens/common/format';
import { ALL_SEVERITIES, SEVERITIES, type ReportJson } from '@incident-lens/common/report';
import * as echarts from 'echarts';
import type { SlaPolicy } from '../config.ts';
import { dataQualityNotes } from './data-quality.ts';
import { describeChange, type Change } from './format-values.ts';
import { onCallSection } from './oncall-html.ts';
import { describeReconciled } from './published.ts';

/**
 * The report leadership receives: one self-contained HTML file (inline CSS,
 * charts rendered here to inline SVG by ECharts' server-side renderer, no
 * script, nothing fetched when opened). Every figure comes from the report
 * data; the policy only labels the targets.
 */

export const COLORS = {
  text: '#1f2430',
  muted: '#6b7280',
  grid: '#e5e7eb',
  blue: '#3d71d9',
  green: '#2f9e63',
  red: '#d44a3a',
  orange: '#e8912d',
  purple: '#8e5bd6',
  severity: { SEV1: '#d44a3a', SEV2: '#e8912d', SEV3: '#e0c341', SEV4: '#3d71d9', UNKNOWN: '#9ca3af' } as Record<
    string,
    string
  >,
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** One chart of the report, drawn by ECharts' server-side renderer as SVG. */
export interface ReportChart {
  /** Stable within a report: `mtta-trend`, `severity`... */
  name: string;
  svg: string;
  width: number;
  height: number;
}

/** The markup that stands for a chart in the page; by default the SVG itself. */
export type ChartMarkup = (chart: ReportChart) => string;

const inlineSvg: ChartMarkup = (chart) => chart.svg;

export function drawChart(
  name: string,
  option: echarts.EChartsOption,
  width: number,
  height: number,
  markup: ChartMarkup
): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({
    animation: false,
    textStyle: { fontFamily: 'Inter, Helvetica, Arial, sans-serif', color: COLORS.text },
    ...option,
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return markup({ name, svg, width, height });
}

const minutes = (seconds: number | null) => (seconds === null ? null : Math.round((seconds / 60) * 10) / 10);
const hours = (seconds: number | null) => (seconds === null ? null : Math.round((seconds / 3600) * 100) / 100);
const percent = (rate: number | null) => (rate === null ? null : Math.round(rate * 1000) / 10);

function trendCharts(report: ReportJson, markup: ChartMarkup): string {
  const labels = report.trend.map((period) => period.label);
  const axis = { type: 'category' as const, data: labels, axisLabel: { color: COLORS.muted, fontSize: 10 } };
  const valueAxis = (name: string) => ({
    type: 'value' as const,
    name,
    nameTextStyle: { color: COLORS.muted, fontSize: 10 },
    axisLabel: { color: COLORS.muted, fontSize: 10 },
    splitLine: { lineStyle: { color: COLORS.grid } },
  });
  const legend = { top: 0, textStyle: { fontSize: 11 } };
  const grid = { left: 50, right: 20, top: 36, bottom: 28 };
  const mtta = drawChart(
    'mtta-trend',
    {
      legend,
      grid,
      xAxis: axis,
      yAxis: valueAxis('minutes'),
      series: [
        {
          name: 'MTTA mean',
          type: 'line',
          data: report.trend.map((period) => minutes(period.mtta.meanSeconds)),
          color: COLORS.blue,
        },
        {
          name: 'MTTA median',
          type: 'line',
          data: report.trend.map((period) => minutes(period.mtta.medianSeconds)),
          color: COLORS.purple,
          lineStyle: { type: 'dashed' },
        },
      ],
    },
    520,
    240,
    markup
  );
  const mttr = drawChart(
    'mttr-trend',
    {
      legend,
      grid,
      xAxis: axis,
      yAxis: valueAxis('hours'),
      series: [
        {
          name: 'MTTR mean',
          type: 'line',
          data: report.trend.map((period) => hours(period.mttr.meanSeconds)),
          color: COLORS.orange,
        },
        {
          name: 'MTTR median',
          type: 'line',
          data: report.trend.map((period) => hours(period.mttr.medianSeconds)),
          color: COLORS.red,
          lineStyle: { type: 'dashed' },
        },
      ],
    },
    520,
    240,
    markup
  );
  const counts = drawChart(
    'incidents-trend',
    {
      legend,
      grid,
      xAxis: axis,
      yAxis: [valueAxis('incidents'), { ...valueAxis('compliance %'), min: 0, max: 100, splitLine: { show: false } }],
      series: [
        {
          name: 'Incidents',
          type: 'bar',
          data: report.trend.map((period) => period.incidents.total),
          color: COLORS.blue,
          barMaxWidth: 24,
        },
        {
          name: 'Ack SLA %',
          type: 'line',
          yAxisIndex: 1,
          data: report.trend.map((period) => percent(period.sla.ack.compliance)),
          color: COLORS.green,
        },
        {
          name: 'Resolve SLA %',
          type: 'line',
          yAxisIndex: 1,
          data: report.trend.map((period) => percent(period.sla.resolve.compliance)),
          color: COLORS.orange,
        },
      ],
    },
    1060,
    260,
    markup
  );
  return `
    ${columns([
      `<figure><figcaption>Time to acknowledge, last ${labels.length} periods</figcaption>${mtta}</figure>`,
      `<figure><figcaption>Time to resolve, last ${labels.length} periods</figcaption>${mttr}</figure>`,
    ])}
    <figure><figcaption>Incidents and SLA compliance, last ${labels.length} periods</figcaption>${counts}</figure>`;
}

function severityChart(report: ReportJson, markup: ChartMarkup): string {
  const severities = ALL_SEVERITIES;
  return drawChart(
    'severity',
    {
      grid: { left: 70, right: 40, top: 10, bottom: 20 },
      xAxis: {
        type: 'value',
        axisLabel: { color: COLORS.muted, fontSize: 10 },
        splitLine: { lineStyle: { color: COLORS.grid } },
      },
      yAxis: { type: 'category', data: [...severities].reverse(), axisLabel: { fontSize: 11 } },
      series: [
        {
          type: 'bar',
          barMaxWidth: 18,
          label: { show: true, position: 'right', fontSize: 10 },
          data: [...severities].reverse().map((severity) => ({
            value: report.incidents.bySeverity[severity],
            itemStyle: { color: COLORS.severity[severity] },
          })),
        },
      ],
    },
    400,
    200,
    markup
  );
}

function complianceChart(report: ReportJson, markup: ChartMarkup): string {
  return drawChart(
    'compliance',
    {
      legend: { top: 0, textStyle: { fontSize: 11 } },
      grid: { left: 50, right: 20, top: 36, bottom: 24 },
      xAxis: { type: 'category', data: [...SEVERITIES] },
      yAxis: {
        type: 'value',
        min: 0,
        max: 100,
        axisLabel: { formatter: '{value}%', color: COLORS.muted, fontSize: 10 },
        splitLine: { lineStyle: { color: COLORS.grid } },
      },
      series: [
        {
          name: 'Ack within target',
          type: 'bar',
          barMaxWidth: 22,
          color: COLORS.blue,
          data: SEVERITIES.map((severity) => percent(report.sla.bySeverity[severity].ack.compliance)),
        },
        {
          name: 'Resolved within target',
          type: 'bar',
          barMaxWidth: 22,
          color: COLORS.green,
          data: SEVERITIES.map((severity) => percent(report.sla.bySeverity[severity].resolve.compliance)),
        },
      ],
    },
    560,
    240,
    markup
  );
}

/** `change` is 'not compared' for a figure that is not per period. */
function kpi(
  title: string,
  value: string,
  change: Change | null | 'not compared',
  lowerIsBetter: boolean,
  note: string
): string {
  let tone = 'neutral';
  let text = 'no previous period';
  if (change === 'not compared') {
    text = '';
  } else if (change) {
    text = change.text;
    if (change.direction !== 'same') {
      tone = (change.direction === 'down') === lowerIsBetter ? 'good' : 'bad';
    }
  }
  return `<div class="kpi"><div class="kpi-title">${escapeHtml(title)}</div><div class="kpi-value">${escapeHtml(value)}</div>
    <div class="kpi-change ${tone}">${escapeHtml(text)}</div><div class="kpi-note">${escapeHtml(note)}</div></div>`;
}

function revisionBanner(report: ReportJson): string {
  const reconciled = report.published?.reconciled ?? [];
  if (!report.published || (report.published.revisions.length === 0 && reconciled.length === 0)) {
    return '';
  }
  const items = report.published.revisions
    .map(
      (revision) =>
        `${escapeHtml(revision.figure)}: ${revision.published ?? '–'} published, ${revision.current ?? '–'} now`
    )
    .join('; ');
  const found = reconciled.map((change) => escapeHtml(describeReconciled(change))).join('; ');
  return `<div class="revised"><strong>Revised since it was published on ${escapeHtml(report.published.publishedAt)}.</strong>${items ? ` Late data changed: ${items}.` : ''}${found ? ` Reconciling with the sources found: ${found}.` : ''}</div>`;
}

/** Shown under the headline figures, so that nobody quotes one without its holes; nothing when there are none. */
function dataQualitySection(report: ReportJson): string {
  const notes = dataQualityNotes(report.dataQuality);
  if (notes.length === 0) {
    return '';
  }
  return `<h2>What these figures cannot see</h2>
  <ul class="holes">${notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`;
}

/**
 * Blocks side by side in a layout table rather than CSS grid: Outlook on
 * Windows ignores grid and would stack them. The spacing is inline, where
 * every mail client reads it, and overrides the data tables' cell style.
 */
export function columns(cells: readonly string[], widths?: readonly string[]): string {
  const last = cells.length - 1;
  const tds = cells
    .map((cell, index) => {
      const width = widths?.[index] ?? `${(100 / cells.length).toFixed(2)}%`;
      const padding = `0 ${index === last ? 0 : 6}px 0 ${index === 0 ? 0 : 6}px`;
      return `<td style="width:${width};padding:${padding};vertical-align:top;border:0;background:transparent">${cell}</td>`;
    })
    .join('');
  return `<table role="presentation" style="width:100%;border-collapse:collapse;border:0;background:transparent;font-size:inherit"><tr>${tds}</tr></table>`;
}

export interface HtmlReportOptions {
  /** The SLA policy in force, to label the targets. */
  policy: SlaPolicy;
  /** Shown in the title: e.g. the organisation. */
  title?: string;
  /** How each chart appears; default inline SVG. E-mail passes images (mail clients drop SVG). */
  chartMarkup?: ChartMarkup;
}

export function renderHtml(report: ReportJson, options: HtmlReportOptions): string {
  const { period, previous, postmortems, actionItems } = report;
  const markup = options.chartMarkup ?? inlineSvg;
  const title = `${options.title ?? 'Incident response'}: ${period.label}${report.source ? `, ${report.source.name}` : ''}`;
  const kpis = [
    kpi(
      'Incidents',
      String(report.incidents.total),
      describeChange(report.incidents.total, previous?.incidents.total, 'count'),
      true,
      `${report.incidents.open} open, ${report.incidents.merged} merged left out`
    ),
    kpi(
      'MTTA (mean)',
      formatDuration(report.mtta.meanSeconds),
      describeChange(report.mtta.meanSeconds, previous?.mtta.meanSeconds, 'duration'),
      true,
      `median ${formatDuration(report.mtta.medianSeconds)}, p90 ${formatDuration(report.mtta.p90Seconds)}`
    ),
    kpi(
      'MTTR (mean)',
      formatDuration(report.mttr.meanSeconds),
      describeChange(report.mttr.meanSeconds, previous?.mttr.meanSeconds, 'duration'),
      true,
      `median ${formatDuration(report.mttr.medianSeconds)}, p90 ${formatDuration(report.mttr.p90Seconds)}`
    ),
    kpi(
      'Ack SLA',
      formatRate(report.sla.ack.compliance),
      describeChange(report.sla.ack.compliance, previous?.sla.ack.compliance, 'rate'),
      false,
      `${report.sla.ack.breached} breached, ${report.sla.ack.pending} pending`
    ),
    kpi(
      'Resolve SLA',
      formatRate(report.sla.resolve.compliance),
      describeChange(report.sla.resolve.compliance, previous?.sla.resolve.compliance, 'rate'),
      false,
      `${report.sla.resolve.breached} breached, ${report.sla.resolve.pending} pending`
    ),
    kpi(
      'Overdue action items',
      String(actionItems.openOverdueTotal),
      'not compared',
      true,
      'open and past due, all periods'
    ),
  ];

  const slaRows = SEVERITIES.map((severity) => {
    const sla = report.sla.bySeverity[severity];
    const target = options.policy[severity];
    const figures = report.bySeverity[severity];
    return `<tr><td><span class="sev" style="background:${COLORS.severity[severity]}">${severity}</span></td><td class="num">${figures.count}</td>
      <td class="num">${formatDuration(target.ack)}</td><td class="num">${formatRate(sla.ack.compliance)}</td><td class="num">${sla.ack.met} / ${sla.ack.breached} / ${sla.ack.pending}</td>
      <td class="num">${formatDuration(target.resolve)}</td><td class="num">${formatRate(sla.resolve.compliance)}</td><td class="num">${sla.resolve.met} / ${sla.resolve.breached} / ${sla.resolve.pending}</td>
      <td class="num">${formatDuration(figures.mtta.medianSeconds)}</td><td class="num">${formatDuration(figures.mttr.medianSeconds)}</td></tr>`;
  }).join('');

  const repeatRows =
    report.repeatRootCauses.length === 0
      ? '<tr><td colspan="4" class="muted">No root cause repeated in this period.</td></tr>'
      : report.repeatRootCauses
          .slice(0, 10)
          .map(
            (cause) =>
              `<tr><td>${escapeHtml(cause.rootCause)}</td><td class="num">${cause.count}</td><td class="num">${cause.repeats}</td><td class="muted">${escapeHtml(cause.incidents.join(', '))}</td></tr>`
          )
          .join('');

  const overdueRows =
    report.overdueActionItems.length === 0
      ? '<tr><td colspan="6" class="muted">None.</td></tr>'
      : report.overdueActionItems
          .slice(0, 25)
          .map(
            (
              item
            ) => `<tr><td>${escapeHtml(item.externalId)}</td><td>${escapeHtml(item.title)}</td><td>${escapeHtml(item.owner ?? 'unassigned')}</td>
              <td class="num">${escapeHtml(item.dueDate)}</td><td class="num">${formatDuration(item.overdueSeconds)}</td><td>${escapeHtml(item.team ?? '–')}</td></tr>`
          )
          .join('');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: Inter, Helvetica, Arial, sans-serif; color: ${COLORS.text}; margin: 0; background: #f6f7f9; }
  main { max-width: 1120px; margin: 0 auto; padding: 32px 28px 48px; }
  h1 { font-size: 26px; margin: 0 0 4px; }
  h2 { font-size: 17px; margin: 32px 0 12px; }
  .sub { color: ${COLORS.muted}; font-size: 13px; }
  .revised { background: #fff7e6; border: 1px solid #f0c36d; border-radius: 8px; padding: 10px 14px; margin-top: 16px; font-size: 13px; }
  .kpis { margin-top: 24px; }
  .kpi { background: #fff; border: 1px solid ${COLORS.grid}; border-radius: 8px; padding: 14px; }
  .kpi-title { font-size: 12px; color: ${COLORS.muted}; text-transform: uppercase; letter-spacing: .04em; }
  .kpi-value { font-size: 26px; font-weight: 600; margin: 6px 0 2px; }
  .kpi-change { font-size: 12px; font-weight: 600; }
  .kpi-change.good { color: ${COLORS.green}; } .kpi-change.bad { color: ${COLORS.red}; } .kpi-change.neutral { color: ${COLORS.muted}; }
  .kpi-note { font-size: 11px; color: ${COLORS.muted}; margin-top: 4px; }
  figure { background: #fff; border: 1px solid ${COLORS.grid}; border-radius: 8px; margin: 12px 0 0; padding: 12px; }
  figcaption { font-size: 13px; font-weight: 600; margin-bottom: 6px; }
  figure svg, figure img { max-width: 100%; height: auto; }
  table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid ${COLORS.grid}; border-radius: 8px; font-size: 13px; }
  th, td { padding: 7px 8px; border-bottom: 1px solid ${COLORS.grid}; text-align: left; vertical-align: top; }
  th { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: ${COLORS.muted}; background: #fafbfc; }
  td.num, th.num { text-align: right; }
  td.num { white-space: nowrap; }
  .muted { color: ${COLORS.muted}; }
  .sev { color: #fff; border-radius: 4px; padding: 2px 6px; font-size: 11px; font-weight: 600; }
  .box { background: #fff; border: 1px solid ${COLORS.grid}; border-radius: 8px; padding: 14px; font-size: 13px; line-height: 1.7; }
  footer { margin-top: 32px; font-size: 11px; color: ${COLORS.muted}; }
</style>
</head>
<body>
<main>
  <h1>${escapeHtml(title)}</h1>
  <div class="sub">${escapeHtml(period.granularity)} from ${escapeHtml(period.start)} to ${escapeHtml(period.end)} (${escapeHtml(period.timezone)}); figures as of ${escapeHtml(period.asOf)}${previous ? `; changes against ${escapeHtml(previous.label)}` : ''}</div>
  ${revisionBanner(report)}
  <section class="kpis">${columns(kpis)}</section>
  ${dataQualitySection(report)}

  <h2>Trends</h2>
  ${trendCharts(report, markup)}

  <h2>SLA compliance by severity</h2>
  ${columns(
    [
      `<figure><figcaption>Incidents by severity</figcaption>${severityChart(report, markup)}</figure>`,
      `<figure><figcaption>Share of incidents within target</figcaption>${complianceChart(report, markup)}</figure>`,
    ],
    ['400px', 'auto']
  )}
  <table>
    <thead><tr><th>Severity</th><th class="num">Incidents</th><th class="num">Ack target</th><th class="num">Ack compliance</th><th class="num">Met / breached / pending</th>
      <th class="num">Resolve target</th><th class="num">Resolve compliance</th><th class="num">Met / breached / pending</th><th class="num">MTTA median</th><th class="num">MTTR median</th></tr></thead>
    <tbody>${slaRows}</tbody>
  </table>

  <h2>Repeat root causes</h2>
  <table>
    <thead><tr><th>Root cause</th><th class="num">Incidents</th><th class="num">Repeats</th><th>Incidents</th></tr></thead>
    <tbody>${repeatRows}</tbody>
  </table>

  ${onCallSection(report, markup)}

  <h2>Post-mortem and action-item follow-through</h2>
  ${columns([
    `<div class="box"><strong>Post-mortems</strong><br>${postmortems.required} required, ${postmortems.completed} completed, ${postmortems.completedOnTime} on time<br>${postmortems.overdue} overdue</div>`,
    `<div class="box"><strong>Action items due this period</strong><br>${actionItems.total} due, ${actionItems.completed} completed (${formatRate(actionItems.completionRate)}), ${actionItems.completedOnTime} on time (${formatRate(actionItems.onTimeRate)})<br>
      ${actionItems.open} open, ${actionItems.overdue} overdue; ${actionItems.noDueDate} created without a due date</div>`,
  ])}

  <h2>Overdue action items (${actionItems.openOverdueTotal} across all periods)</h2>
  <table>
    <thead><tr><th>Item</th><th>Title</th><th>Owner</th><th class="num">Due</th><th class="num">Overdue by</th><th>Team</th></tr></thead>
    <tbody>${overdueRows}</tbody>
  </table>

  <footer>Generated by Incident Lens. Definitions: MTTA and MTTR as PagerDuty computes them; SLA response is the earlier of acknowledgement and resolution; merged duplicates are left out of every figure.</footer>
</main>
</body>
</html>
`;
}
