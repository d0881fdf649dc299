import type { GrafanaTheme2, TimeRange } from '@grafana/data';
import { css } from '@emotion/css';
import { PluginPage } from '@grafana/runtime';
import { Button, Field, MultiSelect, TimeRangePicker, useStyles2 } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import { AccountPicker, useAccountParam } from '../components/AccountPicker/AccountPicker';
import { IncidentsTable } from '../components/IncidentsTable/IncidentsTable';
import { QueryStatus } from '../components/QueryStatus/QueryStatus';
import { SEVERITIES } from '../constants';
import { filterVariable } from '../data/filters';
import { accountVariable } from '../data/templateVariables';
import { toIncidentRow } from '../data/incidentRows';
import { INCIDENTS_PAGE_SIZE, INCIDENTS_SQL, INCIDENT_FILTER_OPTIONS_SQL } from '../data/queries';
import { useSqlQuery } from '../data/useSqlQuery';
import { relativeTimeRange, shiftTimeRange, zoomOutTimeRange } from '../utils/timeRange';
import { useAppSettings } from '../utils/utils.plugin';

const SEVERITY_OPTIONS = [...SEVERITIES, 'UNKNOWN'].map((severity) => ({ label: severity, value: severity }));

interface Filters {
  service: string[];
  team: string[];
  severity: string[];
  status: string[];
}

export function IncidentsPage() {
  const styles = useStyles2(getStyles);
  const { datasourceUid, timezone } = useAppSettings();
  const [timeRange, setTimeRange] = useState<TimeRange>(() => relativeTimeRange('now-30d'));
  const [filters, setFilters] = useState<Filters>({ service: [], team: [], severity: [], status: [] });
  // Where each page starts (the last page_cursor of the page before; '' for the newest): the server pages by keyset.
  const [pageStarts, setPageStarts] = useState<string[]>(['']);
  const firstPage = () => setPageStarts(['']);

  const [account, setAccount] = useAccountParam();
  const zone = useMemo(
    () => ({ timezone: { value: timezone }, source: accountVariable(account) }),
    [timezone, account]
  );
  const options = useSqlQuery(datasourceUid, INCIDENT_FILTER_OPTIONS_SQL, timeRange, zone);
  const choices = (kind: string) =>
    options.rows
      .filter((row) => row.kind === kind)
      .map((row) => ({ label: String(row.value), value: String(row.value) }));

  const variables = useMemo(
    () => ({
      timezone: { value: timezone },
      source: accountVariable(account),
      service: filterVariable(filters.service),
      team: filterVariable(filters.team),
      severity: filterVariable(filters.severity),
      status: filterVariable(filters.status),
      page_after: { value: pageStarts[pageStarts.length - 1]! },
    }),
    [filters, timezone, pageStarts, account]
  );
  const incidents = useSqlQuery(datasourceUid, INCIDENTS_SQL, timeRange, variables);
  const rows = useMemo(() => incidents.rows.map(toIncidentRow), [incidents.rows]);
  const nextPageStart = incidents.rows.length === INCIDENTS_PAGE_SIZE ? incidents.rows.at(-1)?.page_cursor : undefined;
  const changeTimeRange = (change: (range: TimeRange) => TimeRange) => {
    setTimeRange(change);
    firstPage();
  };

  const filter = (name: keyof Filters, label: string, choiceList: Array<{ label: string; value: string }>) => (
    <Field label={label} noMargin>
      <MultiSelect<string>
        aria-label={`Filter by ${name}`}
        placeholder={`All ${label.toLowerCase()}`}
        options={choiceList}
        value={filters[name]}
        width={28}
        onChange={(selected) => {
          setFilters((previous) => ({ ...previous, [name]: selected.map((item) => item.value ?? '').filter(Boolean) }));
          firstPage();
        }}
      />
    </Field>
  );

  return (
    <PluginPage subTitle="Every incident created in the range. Expand a row for its timeline; times are coloured against the SLA.">
      <div className={styles.controls}>
        <AccountPicker
          value={account}
          onChange={(next) => {
            setAccount(next);
            firstPage();
          }}
        />
        {filter('service', 'Services', choices('service'))}
        {filter('team', 'Teams', choices('team'))}
        {filter('severity', 'Severities', SEVERITY_OPTIONS)}
        {filter('status', 'Statuses', choices('status'))}
        <div className={styles.spacer} />
        <TimeRangePicker
          value={timeRange}
          timeZone={timezone}
          onChange={(range) => changeTimeRange(() => range)}
          onChangeTimeZone={() => {}}
          onMoveBackward={() => changeTimeRange((range) => shiftTimeRange(range, -1))}
          onMoveForward={() => changeTimeRange((range) => shiftTimeRange(range, 1))}
          onZoom={() => changeTimeRange(zoomOutTimeRange)}
        />
      </div>
      <QueryStatus loading={incidents.loading && rows.length === 0} error={incidents.error} subject="incidents">
        <div className={styles.pager}>
          <div data-testid="incidents-count" className={styles.count}>
            {rows.length} incidents, page {pageStarts.length}
          </div>
          <Button
            size="sm"
            variant="secondary"
            icon="angle-left"
            disabled={pageStarts.length === 1}
            onClick={() => setPageStarts((starts) => starts.slice(0, -1))}
          >
            Newer
          </Button>
          <Button
            size="sm"
            variant="secondary"
            icon="angle-right"
            disabled={typeof nextPageStart !== 'string'}
            onClick={() => setPageStarts((starts) => [...starts, String(nextPageStart)])}
          >
            Older
          </Button>
        </div>
        <IncidentsTable incidents={rows} timeZone={timezone} options={{ pageSize: 0 }} />
      </QueryStatus>
    </PluginPage>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  controls: css({
    display: 'flex',
    flexWrap: 'wrap',
    gap: theme.spacing(1.5),
    alignItems: 'flex-end',
    marginBottom: theme.spacing(2),
  }),
  spacer: css({ flexGrow: 1 }),
  count: css({ color: theme.colors.text.secondary }),
  pager: css({ display: 'flex', gap: theme.spacing(1), alignItems: 'center', marginBottom: theme.spacing(1) }),
});
