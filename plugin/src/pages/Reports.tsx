import { InternalTimeZones, type GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { PluginPage } from '@grafana/runtime';
import { Field, TimeZonePicker, useStyles2 } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { AccountPicker, useAccountParam } from '../components/AccountPicker/AccountPicker';
import { PeriodPicker, type ReportPeriod } from '../components/PeriodPicker/PeriodPicker';
import { QueryStatus } from '../components/QueryStatus/QueryStatus';
import { ReportView } from '../components/ReportView/ReportView';
import { accountVariable } from '../data/templateVariables';
import { REPORT_SQL } from '../data/queries';
import type { ReportJson } from '@incident-lens/common/report';
import { parseReport } from '../data/report';
import { useSqlQuery } from '../data/useSqlQuery';
import { GRANULARITIES, isIsoDay, todayIn, type Granularity } from '../utils/period';
import { relativeTimeRange } from '../utils/timeRange';
import { useAppSettings } from '../utils/utils.plugin';

/**
 * The period report, the same as `incident-lens report --period --date --tz
 * --as-of`. The URL keeps the period (and an optional asOf), so a link to a
 * report shows the same figures later.
 */
export function ReportsPage() {
  const styles = useStyles2(getStyles);
  const settings = useAppSettings();
  const [params, setParams] = useSearchParams();
  const [timeRange] = useState(() => relativeTimeRange('now-1h'));

  const timezone = params.get('tz') || settings.timezone;
  const granularityParam = params.get('period') as Granularity | null;
  const period: ReportPeriod = {
    granularity: granularityParam && GRANULARITIES.includes(granularityParam) ? granularityParam : 'month',
    date: isIsoDay(params.get('date') ?? '') ? String(params.get('date')) : todayIn(timezone),
  };
  const asOf = params.get('asOf');
  const [account, setAccount] = useAccountParam();

  const update = (changes: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      next.set(name, value);
    }
    setParams(next, { replace: true });
  };

  const variables = useMemo(
    () => ({
      granularity: { value: period.granularity },
      date: { value: period.date },
      timezone: { value: timezone },
      // PostgreSQL reads the literal 'now' as the transaction's instant, as the CLI's default --as-of.
      as_of: { value: asOf ?? 'now' },
      source: accountVariable(account),
    }),
    [period.granularity, period.date, timezone, asOf, account]
  );
  const query = useSqlQuery(settings.datasourceUid, REPORT_SQL, timeRange, variables);
  const { report, parseError } = useMemo((): { report?: ReportJson; parseError?: string } => {
    if (query.rows.length === 0) {
      return {};
    }
    try {
      return { report: parseReport(query.rows[0]?.report) };
    } catch (error) {
      return { parseError: (error as Error).message };
    }
  }, [query.rows]);

  return (
    <PluginPage subTitle="The figures of incident-lens report for one day, ISO week or month, in the chosen time zone.">
      <div className={styles.controls}>
        <PeriodPicker value={period} onChange={(next) => update({ period: next.granularity, date: next.date })} />
        <Field label="Time zone" noMargin>
          <TimeZonePicker
            inputId="report-timezone"
            // 'utc' is one of Grafana's internal zones, which the picker lists only when asked.
            includeInternal={[InternalTimeZones.utc]}
            width={30}
            value={timezone === 'UTC' ? 'utc' : timezone}
            onChange={(zone) => zone && update({ tz: zone === 'utc' ? 'UTC' : zone })}
          />
        </Field>
        <AccountPicker value={account} onChange={setAccount} />
      </div>
      <QueryStatus loading={query.loading && !report} error={query.error ?? parseError} subject="the report">
        {report && <ReportView report={report} />}
      </QueryStatus>
    </PluginPage>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  controls: css({
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(2),
    alignItems: 'flex-end',
    marginBottom: theme.spacing(2),
  }),
});
