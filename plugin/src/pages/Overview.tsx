import type { GrafanaTheme2, TimeRange } from '@grafana/data';
import { css } from '@emotion/css';
import { PluginPage } from '@grafana/runtime';
import { useStyles2 } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import { AccountPicker, useAccountParam } from '../components/AccountPicker/AccountPicker';
import { RangePicker } from '../components/RangePicker/RangePicker';
import { QueryStatus } from '../components/QueryStatus/QueryStatus';
import { complianceTone } from '../components/ReportView/ReportView';
import { SeverityBadge } from '../components/SeverityBadge/SeverityBadge';
import { StatTile } from '../components/StatTile/StatTile';
import { TrendChart } from '../components/TrendChart/TrendChart';
import { accountVariable } from '../data/templateVariables';
import { OVERVIEW_BY_SEVERITY_SQL, OVERVIEW_SUMMARY_SQL, OVERVIEW_TRENDS_SQL } from '../data/queries';
import { numberOrNull } from '../data/rows';
import { useSqlQuery } from '../data/useSqlQuery';
import { formatDuration, formatRate } from '../utils/format';
import { relativeTimeRange } from '../utils/timeRange';
import { useAppSettings } from '../utils/utils.plugin';

export function OverviewPage() {
  const styles = useStyles2(getStyles);
  const { datasourceUid, timezone } = useAppSettings();
  const [timeRange, setTimeRange] = useState<TimeRange>(() => relativeTimeRange('now-90d'));
  const [account, setAccount] = useAccountParam();
  const variables = useMemo(
    () => ({ timezone: { value: timezone }, source: accountVariable(account) }),
    [timezone, account]
  );

  const summaryQuery = useSqlQuery(datasourceUid, OVERVIEW_SUMMARY_SQL, timeRange, variables);
  const severityQuery = useSqlQuery(datasourceUid, OVERVIEW_BY_SEVERITY_SQL, timeRange, variables);
  const trendQuery = useSqlQuery(datasourceUid, OVERVIEW_TRENDS_SQL, timeRange, variables);

  const summary = summaryQuery.rows[0] ?? {};
  const figure = (name: string) => numberOrNull(summary[name]);
  const trends = useMemo(() => {
    const rows = trendQuery.rows;
    const column = (name: string) => rows.map((row) => numberOrNull(row[name]));
    return {
      times: rows.map((row) => Number(row.time)),
      mtta: column('mtta_mean_seconds'),
      mttr: column('mttr_mean_seconds'),
      ack: column('ack_compliance'),
      resolve: column('resolve_compliance'),
    };
  }, [trendQuery.rows]);
  const severityTotal = severityQuery.rows.reduce((sum, row) => sum + Number(row.incidents ?? 0), 0);

  return (
    <PluginPage subTitle="How fast incidents are acknowledged and resolved, and whether the SLA holds, over the selected range.">
      <div className={styles.controls}>
        <AccountPicker value={account} onChange={setAccount} />
        <RangePicker value={timeRange} timeZone={timezone} onChange={setTimeRange} />
      </div>
      <QueryStatus
        loading={summaryQuery.loading && !summaryQuery.rows.length}
        error={summaryQuery.error}
        subject="the summary"
      >
        <div className={styles.tiles}>
          <StatTile
            title="Incidents"
            value={String(figure('incidents') ?? 0)}
            detail={`${figure('open_incidents') ?? 0} still open`}
          />
          <StatTile
            title="MTTA (mean)"
            value={formatDuration(figure('mtta_mean_seconds'))}
            detail={`median ${formatDuration(figure('mtta_median_seconds'))} · p90 ${formatDuration(figure('mtta_p90_seconds'))}`}
          />
          <StatTile
            title="MTTR (mean)"
            value={formatDuration(figure('mttr_mean_seconds'))}
            detail={`median ${formatDuration(figure('mttr_median_seconds'))} · p90 ${formatDuration(figure('mttr_p90_seconds'))}`}
          />
          <StatTile
            title="Ack SLA compliance"
            value={formatRate(figure('ack_compliance'))}
            detail={`${figure('ack_breached') ?? 0} breached`}
            tone={complianceTone(figure('ack_compliance'))}
          />
          <StatTile
            title="Resolve SLA compliance"
            value={formatRate(figure('resolve_compliance'))}
            detail={`${figure('resolve_breached') ?? 0} breached`}
            tone={complianceTone(figure('resolve_compliance'))}
          />
          <StatTile
            title="Open overdue action items"
            value={String(figure('open_overdue_action_items') ?? 0)}
            detail="across all incidents, now"
            tone={(figure('open_overdue_action_items') ?? 0) > 0 ? 'bad' : 'good'}
          />
        </div>
      </QueryStatus>
      <div className={styles.grid}>
        <section className={styles.panel} aria-label="Incidents by severity">
          <h3 className={styles.heading}>Incidents by severity</h3>
          <QueryStatus
            loading={severityQuery.loading && !severityQuery.rows.length}
            error={severityQuery.error}
            subject="severities"
          >
            <table className={styles.table}>
              <tbody>
                {severityQuery.rows.map((row) => {
                  const count = Number(row.incidents ?? 0);
                  const share = severityTotal === 0 ? 0 : count / severityTotal;
                  return (
                    <tr key={String(row.severity)}>
                      <td>
                        <SeverityBadge severity={String(row.severity)} />
                      </td>
                      <td className={styles.number}>{count}</td>
                      <td className={styles.barCell}>
                        <div className={styles.bar} style={{ width: `${Math.round(share * 100)}%` }} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </QueryStatus>
        </section>
        <QueryStatus loading={trendQuery.loading && !trendQuery.rows.length} error={trendQuery.error} subject="trends">
          <TrendChart
            title="MTTA and MTTR by week"
            times={trends.times}
            series={[
              { name: 'MTTA', values: trends.mtta },
              { name: 'MTTR', values: trends.mttr },
            ]}
            unit="s"
            timeRange={timeRange}
            timeZone={timezone}
          />
          <TrendChart
            title="SLA compliance by week"
            times={trends.times}
            series={[
              { name: 'Ack SLA', values: trends.ack },
              { name: 'Resolve SLA', values: trends.resolve },
            ]}
            unit="percentunit"
            timeRange={timeRange}
            timeZone={timezone}
          />
        </QueryStatus>
      </div>
    </PluginPage>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  controls: css({
    display: 'flex',
    justifyContent: 'flex-end',
    alignItems: 'flex-end',
    gap: theme.spacing(2),
    marginBottom: theme.spacing(2),
  }),
  tiles: css({ display: 'flex', flexWrap: 'wrap', gap: theme.spacing(1.5), marginBottom: theme.spacing(2) }),
  grid: css({
    display: 'grid',
    gridTemplateColumns: 'minmax(260px, 1fr) 2fr',
    gap: theme.spacing(2),
    alignItems: 'start',
  }),
  panel: css({
    background: theme.colors.background.primary,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    padding: theme.spacing(1.5, 2),
    gridRow: 'span 2',
  }),
  heading: css({ fontSize: theme.typography.h5.fontSize, marginBottom: theme.spacing(1) }),
  table: css({ width: '100%', td: { padding: theme.spacing(0.5) } }),
  number: css({ textAlign: 'right', fontVariantNumeric: 'tabular-nums', width: 48 }),
  barCell: css({ width: '60%' }),
  bar: css({
    height: 10,
    background: theme.colors.primary.main,
    borderRadius: theme.shape.radius.default,
    minWidth: 2,
  }),
});
