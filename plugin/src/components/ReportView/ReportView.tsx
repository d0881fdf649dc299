import type { GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { useStyles2 } from '@grafana/ui';
import React from 'react';
import { ALL_SEVERITIES, type DurationFigures, type ReportJson, type SlaOutcomes } from '@incident-lens/common/report';
import { formatCount, formatDuration, formatInstant, formatRate } from '../../utils/format';
import { SeverityBadge } from '../SeverityBadge/SeverityBadge';
import { StatTile, type StatTone } from '../StatTile/StatTile';

/** Below this an SLA figure is shown in red: the default of the ack-compliance alert rule. */
export const COMPLIANCE_WARNING = 0.95;

export function complianceTone(compliance: number | null): StatTone {
  if (compliance === null) {
    return 'neutral';
  }
  return compliance >= COMPLIANCE_WARNING ? 'good' : 'bad';
}

/** A figure with its exact value in data-value, so that tests compare numbers, not formatted text. */
function Figure({ id, value, text }: { id: string; value: number | null; text: string }) {
  return (
    <span data-testid={id} data-value={value === null ? 'null' : String(value)}>
      {text}
    </span>
  );
}

function slaDetail(counts: SlaOutcomes): string {
  return `${counts.met} met · ${counts.breached} breached · ${counts.pending} pending`;
}

function durationDetail(stats: DurationFigures): string {
  return `median ${formatDuration(stats.medianSeconds)} · p90 ${formatDuration(stats.p90Seconds)} · n=${stats.count}`;
}

/** The same figures and sections as `incident-lens report`, for one period. */
export function ReportView({ report }: { report: ReportJson }) {
  const styles = useStyles2(getStyles);
  const { period } = report;
  const severities = ALL_SEVERITIES.filter(
    (severity) => (report.incidents.bySeverity[severity] ?? 0) > 0 || report.bySeverity[severity] !== undefined
  );

  return (
    <div className={styles.report}>
      <div className={styles.periodLine} data-testid="report-period">
        {period.granularity} from <strong>{formatInstant(Date.parse(period.start), period.timezone)}</strong> to{' '}
        <strong>{formatInstant(Date.parse(period.end), period.timezone)}</strong> ({period.timezone}), as of{' '}
        {formatInstant(Date.parse(period.asOf), period.timezone)}
        {report.source && (
          <>
            , account <strong data-testid="report-source">{report.source.name}</strong> ({report.source.kind})
          </>
        )}
      </div>

      <div className={styles.tiles}>
        <StatTile
          title="Incidents"
          value={String(report.incidents.total)}
          detail={`${report.incidents.open} open · ${report.incidents.merged} merged · ${report.incidents.unclassified} unclassified`}
        />
        <StatTile
          title="MTTA (mean)"
          value={formatDuration(report.mtta.meanSeconds)}
          detail={`${durationDetail(report.mtta)} · ${report.mtta.unacknowledged} never acked`}
        />
        <StatTile
          title="MTTR (mean)"
          value={formatDuration(report.mttr.meanSeconds)}
          detail={durationDetail(report.mttr)}
        />
        <StatTile
          title="Ack SLA compliance"
          value={formatRate(report.sla.ack.compliance)}
          detail={slaDetail(report.sla.ack)}
          tone={complianceTone(report.sla.ack.compliance)}
        />
        <StatTile
          title="Resolve SLA compliance"
          value={formatRate(report.sla.resolve.compliance)}
          detail={slaDetail(report.sla.resolve)}
          tone={complianceTone(report.sla.resolve.compliance)}
        />
        <StatTile
          title="Open overdue action items"
          value={String(report.actionItems.openOverdueTotal)}
          detail="all periods, at the as-of instant"
          tone={report.actionItems.openOverdueTotal > 0 ? 'bad' : 'good'}
        />
      </div>

      <h3 className={styles.heading}>Response times</h3>
      <table className={styles.table} aria-label="Response times">
        <thead>
          <tr>
            <th />
            <th>count</th>
            <th>mean</th>
            <th>median</th>
            <th>p90</th>
            <th>p95</th>
          </tr>
        </thead>
        <tbody>
          {(
            [
              ['mtta', 'MTTA (time to acknowledge)', report.mtta],
              ['mttr', 'MTTR (time to resolve)', report.mttr],
            ] as const
          ).map(([id, label, stats]) => (
            <tr key={id}>
              <th scope="row">{label}</th>
              <td>
                <Figure id={`report-${id}-count`} value={stats.count} text={String(stats.count)} />
              </td>
              <td>
                <Figure id={`report-${id}-mean`} value={stats.meanSeconds} text={formatDuration(stats.meanSeconds)} />
              </td>
              <td>
                <Figure
                  id={`report-${id}-median`}
                  value={stats.medianSeconds}
                  text={formatDuration(stats.medianSeconds)}
                />
              </td>
              <td>
                <Figure id={`report-${id}-p90`} value={stats.p90Seconds} text={formatDuration(stats.p90Seconds)} />
              </td>
              <td>
                <Figure id={`report-${id}-p95`} value={stats.p95Seconds} text={formatDuration(stats.p95Seconds)} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3 className={styles.heading}>SLA compliance</h3>
      <table className={styles.table} aria-label="SLA compliance">
        <thead>
          <tr>
            <th />
            <th>met</th>
            <th>breached</th>
            <th>pending</th>
            <th>compliance</th>
          </tr>
        </thead>
        <tbody>
          {(
            [
              ['ack', 'First response', report.sla.ack],
              ['resolve', 'Resolve', report.sla.resolve],
            ] as const
          ).map(([id, label, counts]) => (
            <tr key={id}>
              <th scope="row">{label}</th>
              <td>
                <Figure id={`report-sla-${id}-met`} value={counts.met} text={String(counts.met)} />
              </td>
              <td>
                <Figure id={`report-sla-${id}-breached`} value={counts.breached} text={String(counts.breached)} />
              </td>
              <td>
                <Figure id={`report-sla-${id}-pending`} value={counts.pending} text={String(counts.pending)} />
              </td>
              <td>
                <Figure
                  id={`report-sla-${id}-compliance`}
                  value={counts.compliance}
                  text={formatRate(counts.compliance)}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3 className={styles.heading}>By severity</h3>
      <table className={styles.table} aria-label="By severity">
        <thead>
          <tr>
            <th>severity</th>
            <th>incidents</th>
            <th>MTTA mean</th>
            <th>MTTA p90</th>
            <th>MTTR mean</th>
            <th>MTTR p90</th>
            <th>ack SLA</th>
            <th>resolve SLA</th>
          </tr>
        </thead>
        <tbody>
          {severities.map((severity) => {
            const stats = report.bySeverity[severity];
            // UNKNOWN has no SLA target.
            const sla = severity === 'UNKNOWN' ? undefined : report.sla.bySeverity[severity];
            return (
              <tr key={severity}>
                <td>
                  <SeverityBadge severity={severity} />
                </td>
                <td>{formatCount(report.incidents.bySeverity[severity])}</td>
                <td>{formatDuration(stats?.mtta.meanSeconds)}</td>
                <td>{formatDuration(stats?.mtta.p90Seconds)}</td>
                <td>{formatDuration(stats?.mttr.meanSeconds)}</td>
                <td>{formatDuration(stats?.mttr.p90Seconds)}</td>
                <td>{sla ? formatRate(sla.ack.compliance) : 'no target'}</td>
                <td>{sla ? formatRate(sla.resolve.compliance) : 'no target'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>

      <div className={styles.columns}>
        <section>
          <h3 className={styles.heading}>Post-mortems</h3>
          <dl className={styles.figures}>
            <dt>required</dt>
            <dd>{report.postmortems.required}</dd>
            <dt>completed</dt>
            <dd>{report.postmortems.completed}</dd>
            <dt>on time</dt>
            <dd>{report.postmortems.completedOnTime}</dd>
            <dt>overdue</dt>
            <dd className={report.postmortems.overdue > 0 ? styles.bad : undefined}>{report.postmortems.overdue}</dd>
          </dl>
        </section>
        <section>
          <h3 className={styles.heading}>Action items due in the period</h3>
          <dl className={styles.figures}>
            <dt>due</dt>
            <dd>{report.actionItems.total}</dd>
            <dt>completed</dt>
            <dd>
              {report.actionItems.completed} ({formatRate(report.actionItems.completionRate)})
            </dd>
            <dt>on time</dt>
            <dd>
              {report.actionItems.completedOnTime} ({formatRate(report.actionItems.onTimeRate)})
            </dd>
            <dt>open</dt>
            <dd>{report.actionItems.open}</dd>
            <dt>overdue</dt>
            <dd className={report.actionItems.overdue > 0 ? styles.bad : undefined}>{report.actionItems.overdue}</dd>
            <dt>created without a due date</dt>
            <dd>{report.actionItems.noDueDate}</dd>
          </dl>
        </section>
        <section>
          <h3 className={styles.heading}>Process</h3>
          <dl className={styles.figures}>
            <dt>escalation rate</dt>
            <dd>
              <Figure
                id="report-escalation-rate"
                value={report.escalationRate}
                text={formatRate(report.escalationRate)}
              />
            </dd>
            <dt>repeat rate</dt>
            <dd>
              <Figure id="report-repeat-rate" value={report.repeatRate} text={formatRate(report.repeatRate)} />
            </dd>
          </dl>
        </section>
      </div>

      <h3 className={styles.heading}>Repeat root causes</h3>
      {report.repeatRootCauses.length === 0 ? (
        <div className={styles.muted}>No root cause repeated in this period.</div>
      ) : (
        <table className={styles.table} aria-label="Repeat root causes">
          <thead>
            <tr>
              <th>root cause</th>
              <th>incidents</th>
              <th>repeats</th>
              <th>incident ids</th>
            </tr>
          </thead>
          <tbody>
            {report.repeatRootCauses.map((cause) => (
              <tr key={cause.rootCause}>
                <td>{cause.rootCause}</td>
                <td>{cause.count}</td>
                <td>{cause.repeats}</td>
                <td>{cause.incidents.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  report: css({ display: 'flex', flexDirection: 'column', gap: theme.spacing(1) }),
  periodLine: css({ color: theme.colors.text.secondary }),
  tiles: css({ display: 'flex', flexWrap: 'wrap', gap: theme.spacing(1.5), margin: theme.spacing(1, 0) }),
  heading: css({
    marginTop: theme.spacing(2),
    marginBottom: theme.spacing(0.5),
    fontSize: theme.typography.h5.fontSize,
  }),
  table: css({
    borderCollapse: 'collapse',
    width: '100%',
    fontVariantNumeric: 'tabular-nums',
    'th, td': {
      padding: theme.spacing(0.75, 1.5),
      borderBottom: `1px solid ${theme.colors.border.weak}`,
      textAlign: 'right',
    },
    'th:first-child, td:first-child': { textAlign: 'left' },
    thead: { color: theme.colors.text.secondary, fontWeight: theme.typography.fontWeightMedium },
  }),
  columns: css({ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(240px, 1fr))', gap: theme.spacing(3) }),
  figures: css({
    display: 'grid',
    gridTemplateColumns: 'auto auto',
    justifyContent: 'start',
    columnGap: theme.spacing(3),
    rowGap: theme.spacing(0.5),
    dt: { color: theme.colors.text.secondary },
    dd: { margin: 0, fontVariantNumeric: 'tabular-nums' },
  }),
  bad: css({ color: theme.colors.error.text }),
  muted: css({ color: theme.colors.text.secondary }),
});
