import { formatRate } from '@incident-lens/common/format';
import type { ReportJson } from '@incident-lens/common/report';
import { COLORS, columns, drawChart, escapeHtml, type ChartMarkup } from './html.ts';

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const HOURS = Array.from({ length: 24 }, (_, hour) => String(hour).padStart(2, '0'));

/** Interruptions by hour of week in the report's zone, as a heatmap chart. */
export function heatmapChart(report: ReportJson, markup: ChartMarkup): string {
  const cells = report.onCall.heatmap.map((cell) => [cell.hour, 7 - cell.weekday, cell.interruptions]);
  const most = Math.max(1, ...report.onCall.heatmap.map((cell) => cell.interruptions));
  return drawChart(
    'oncall-heatmap',
    {
      grid: { left: 44, right: 16, top: 8, bottom: 60 },
      xAxis: {
        type: 'category',
        data: HOURS,
        splitArea: { show: true },
        axisLabel: { fontSize: 10, color: COLORS.muted },
      },
      yAxis: {
        type: 'category',
        data: [...WEEKDAYS].reverse(),
        splitArea: { show: true },
        axisLabel: { fontSize: 11 },
      },
      visualMap: {
        min: 0,
        max: most,
        calculable: false,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        itemHeight: 120,
        textStyle: { fontSize: 10, color: COLORS.muted },
        inRange: { color: ['#eef3fc', COLORS.blue, COLORS.red] },
      },
      series: [{ type: 'heatmap', data: cells, label: { show: false } }],
    },
    1060,
    280,
    markup
  );
}

/** The On-call load and noise section: responders by sleep interruptions, the heatmap, the noisiest services. */
export function onCallSection(report: ReportJson, markup: ChartMarkup): string {
  const { onCall, noise, period } = report;
  const responders =
    onCall.responders.length === 0
      ? '<tr><td colspan="8" class="muted">Nobody was interrupted in this period.</td></tr>'
      : onCall.responders
          .slice(0, 10)
          .map(
            (
              row
            ) => `<tr><td>${escapeHtml(row.name)}</td><td class="muted">${escapeHtml(row.timeZone)}</td><td class="num">${row.sleep}</td>
              <td class="num">${row.nightsInterrupted}</td><td class="num">${row.off}</td><td class="num">${row.business}</td><td class="num">${row.total}</td><td class="num">${row.acknowledged}</td></tr>`
          )
          .join('');
  const noisiest = [...noise.byService]
    .sort(
      (a, b) =>
        b.autoResolved + b.transient - (a.autoResolved + a.transient) ||
        b.incidents - a.incidents ||
        a.service.localeCompare(b.service)
    )
    .slice(0, 10);
  const services =
    noisiest.length === 0
      ? '<tr><td colspan="4" class="muted">No incidents in this period.</td></tr>'
      : noisiest
          .map(
            (row) =>
              `<tr><td>${escapeHtml(row.service)}</td><td class="num">${row.incidents}</td><td class="num">${row.autoResolved}</td><td class="num">${row.transient}</td></tr>`
          )
          .join('');
  const { interruptions } = onCall;
  return `<h2>On-call load</h2>
  ${columns([
    `<div class="box"><strong>Interruptions</strong> (sms, phone, push; in each responder's own zone)<br>${interruptions.total} in all: ${interruptions.sleep} in sleep hours (${onCall.nightsInterrupted} nights interrupted), ${interruptions.off} off hours, ${interruptions.business} business hours<br>
      <span class="muted">${onCall.notifications} notifications, ${onCall.unknownMethod} by an unknown method</span></div>`,
    `<div class="box"><strong>Noise</strong> (counted beside MTTA and MTTR, never removed from them)<br>${noise.autoResolved} auto-resolved (${formatRate(noise.autoResolvedShare)}), ${noise.transient} transient (${formatRate(noise.transientShare)})</div>`,
  ])}
  <figure><figcaption>Interruptions by hour of week (${escapeHtml(period.timezone)})</figcaption>${heatmapChart(report, markup)}</figure>
  <h2>Responders with most sleep interruptions</h2>
  <table>
    <thead><tr><th>Responder</th><th>Zone</th><th class="num">Sleep</th><th class="num">Nights</th><th class="num">Off</th><th class="num">Business</th><th class="num">Total</th><th class="num">Acknowledged</th></tr></thead>
    <tbody>${responders}</tbody>
  </table>
  <h2>Noisiest services</h2>
  <table>
    <thead><tr><th>Service</th><th class="num">Incidents</th><th class="num">Auto-resolved</th><th class="num">Transient</th></tr></thead>
    <tbody>${services}</tbody>
  </table>`;
}
