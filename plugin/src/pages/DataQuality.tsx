import type { GrafanaTheme2, TimeRange } from '@grafana/data';
import { css } from '@emotion/css';
import { PluginPage } from '@grafana/runtime';
import { useStyles2, type Column } from '@grafana/ui';
import React, { useMemo, useState } from 'react';
import { AccountPicker, useAccountParam } from '../components/AccountPicker/AccountPicker';
import { RangePicker } from '../components/RangePicker/RangePicker';
import { DataQualityList, SourceLink } from '../components/DataQualityList/DataQualityList';
import { QueryStatus } from '../components/QueryStatus/QueryStatus';
import { SeverityBadge } from '../components/SeverityBadge/SeverityBadge';
import { StatTile } from '../components/StatTile/StatTile';
import {
  ACTION_ITEMS_WITHOUT_OWNER_OR_DUE_DATE_SQL,
  DATA_QUALITY_PAGE_SIZE,
  DATA_QUALITY_SUMMARY_SQL,
  INCIDENTS_WITHOUT_SEVERITY_SQL,
  LAST_SYNCS_SQL,
  MISSING_POSTMORTEMS_SQL,
  QUARANTINED_RECORDS_SQL,
  UNLINKED_JIRA_TICKETS_SQL,
} from '../data/dataQualityQueries';
import { accountVariable } from '../data/templateVariables';
import { numberOrNull, type CellValue, type Row } from '../data/rows';
import { usePagedList } from '../data/usePagedList';
import { useSqlQuery } from '../data/useSqlQuery';
import { formatDuration, formatInstant } from '../utils/format';
import { relativeTimeRange } from '../utils/timeRange';
import { useAppSettings } from '../utils/utils.plugin';

interface DataQualityFigures {
  withoutSeverity: number;
  postmortemMissing: number;
  actionItemsWithoutOwner: number;
  actionItemsWithoutDueDate: number;
  quarantinedLast30Days: number;
  unlinkedTickets: number;
}

const incidentLabel = (row: Row) => `${row.number === null ? '' : `#${row.number} `}${row.title ?? row.external_id}`;

export function DataQualityPage() {
  const styles = useStyles2(getStyles);
  const { datasourceUid, timezone } = useAppSettings();
  const [timeRange, setTimeRange] = useState<TimeRange>(() => relativeTimeRange('now-30d'));
  const [account, setAccount] = useAccountParam();
  const variables = useMemo(
    () => ({ timezone: { value: timezone }, source: accountVariable(account) }),
    [timezone, account]
  );
  const query = (sql: string) => [datasourceUid, sql, timeRange, variables] as const;

  const summary = useSqlQuery(...query(DATA_QUALITY_SUMMARY_SQL));
  const figures = useMemo(() => {
    const text = summary.rows[0]?.figures;
    return typeof text === 'string' ? (JSON.parse(text) as DataQualityFigures) : undefined;
  }, [summary.rows]);
  // The sizes of the lists of the range and account shown, not of the ones before while they load.
  const sizes = useMemo(() => {
    const both = numberOrNull(summary.rows[0]?.action_items_without_both);
    return summary.loading || !figures || both === null
      ? undefined
      : {
          withoutSeverity: figures.withoutSeverity,
          actionItems: figures.actionItemsWithoutOwner + figures.actionItemsWithoutDueDate - both,
        };
  }, [summary.loading, summary.rows, figures]);

  const withoutSeverity = usePagedList(
    ...query(INCIDENTS_WITHOUT_SEVERITY_SQL),
    DATA_QUALITY_PAGE_SIZE,
    sizes?.withoutSeverity
  );
  const missingPostmortems = useSqlQuery(...query(MISSING_POSTMORTEMS_SQL));
  const actionItems = usePagedList(
    ...query(ACTION_ITEMS_WITHOUT_OWNER_OR_DUE_DATE_SQL),
    DATA_QUALITY_PAGE_SIZE,
    sizes?.actionItems
  );
  const quarantined = useSqlQuery(...query(QUARANTINED_RECORDS_SQL));
  const unlinked = useSqlQuery(...query(UNLINKED_JIRA_TICKETS_SQL));
  const syncs = useSqlQuery(...query(LAST_SYNCS_SQL));
  const instant = (value: CellValue | undefined) => formatInstant(numberOrNull(value), timezone);

  const columns = useMemo(
    () => ({
      withoutSeverity: [
        {
          id: 'incident',
          header: 'Incident',
          cell: ({ row }) => <SourceLink href={row.original.html_url}>{incidentLabel(row.original)}</SourceLink>,
        },
        {
          id: 'priority_raw',
          header: 'Priority in the source',
          cell: ({ row }) => row.original.priority_raw ?? 'none',
        },
        { id: 'created_at', header: 'Created', cell: ({ row }) => instant(row.original.created_at) },
      ] satisfies Array<Column<Row>>,
      missingPostmortems: [
        {
          id: 'incident',
          header: 'Incident',
          cell: ({ row }) => <SourceLink href={row.original.html_url}>{incidentLabel(row.original)}</SourceLink>,
        },
        {
          id: 'severity',
          header: 'Severity',
          cell: ({ row }) => <SeverityBadge severity={String(row.original.severity)} />,
        },
        { id: 'resolved_at', header: 'Resolved', cell: ({ row }) => instant(row.original.resolved_at) },
        {
          id: 'postmortem_deadline',
          header: 'Post-mortem was due',
          cell: ({ row }) => instant(row.original.postmortem_deadline),
        },
        {
          id: 'jira',
          header: 'Jira ticket',
          cell: ({ row }) =>
            row.original.jira_issue_key ? (
              <SourceLink href={row.original.jira_url}>{row.original.jira_issue_key}</SourceLink>
            ) : (
              'none'
            ),
        },
      ] satisfies Array<Column<Row>>,
      actionItems: [
        {
          id: 'item',
          header: 'Action item',
          cell: ({ row }) => <SourceLink href={row.original.html_url}>{row.original.external_id}</SourceLink>,
        },
        { id: 'title', header: 'Title' },
        {
          id: 'owner',
          header: 'Owner',
          cell: ({ row }) => (row.original.without_owner ? <strong>none</strong> : row.original.owner),
        },
        {
          id: 'due_date',
          header: 'Due',
          cell: ({ row }) => (row.original.without_due_date ? <strong>none</strong> : row.original.due_date),
        },
        {
          id: 'incident',
          header: 'Incident',
          cell: ({ row }) =>
            row.original.incident_external_id ? (
              <SourceLink href={row.original.incident_url}>{row.original.incident_external_id}</SourceLink>
            ) : (
              '–'
            ),
        },
      ] satisfies Array<Column<Row>>,
      quarantined: [
        {
          id: 'source',
          header: 'Account',
          cell: ({ row }) => `${row.original.source_name} (${row.original.source_kind})`,
        },
        {
          id: 'record',
          header: 'Record',
          cell: ({ row }) => `${row.original.record_kind} ${row.original.external_id ?? '(no id)'}`,
        },
        { id: 'reason', header: 'Why it was refused' },
        { id: 'last_seen_at', header: 'Last seen', cell: ({ row }) => instant(row.original.last_seen_at) },
        { id: 'seen_count', header: 'Times seen' },
      ] satisfies Array<Column<Row>>,
      unlinked: [
        {
          id: 'issue',
          header: 'Jira ticket',
          cell: ({ row }) => <SourceLink href={row.original.html_url}>{row.original.issue_key}</SourceLink>,
        },
        { id: 'missing_incident_ids', header: 'PagerDuty incidents it names that the database lacks' },
        { id: 'created_at', header: 'Created', cell: ({ row }) => instant(row.original.created_at) },
      ] satisfies Array<Column<Row>>,
      syncs: [
        {
          id: 'source',
          header: 'Account',
          cell: ({ row }) => `${row.original.source_name} (${row.original.source_kind})`,
        },
        {
          id: 'last_success_at',
          header: 'Last successful sync',
          cell: ({ row }) => (row.original.last_success_at === null ? 'never' : instant(row.original.last_success_at)),
        },
        {
          id: 'seconds_since_success',
          header: 'Since',
          cell: ({ row }) => formatDuration(numberOrNull(row.original.seconds_since_success)),
        },
      ] satisfies Array<Column<Row>>,
    }),
    // Cells format instants in the app's zone.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [timezone]
  );

  const tile = (title: string, value: number | undefined, detail: string) => (
    <StatTile
      title={title}
      value={String(value ?? '–')}
      detail={detail}
      tone={value === undefined ? 'neutral' : value > 0 ? 'warning' : 'good'}
    />
  );

  return (
    <PluginPage subTitle="What the figures cannot see: records with holes, and records the sync could not use. Each row links to its source.">
      <div className={styles.controls}>
        <AccountPicker value={account} onChange={setAccount} />
        <RangePicker value={timeRange} timeZone={timezone} onChange={setTimeRange} />
      </div>
      <QueryStatus loading={summary.loading && !figures} error={summary.error} subject="the data quality figures">
        <div className={styles.tiles}>
          {tile('Incidents without severity', figures?.withoutSeverity, 'in no SLA figure')}
          {tile('Post-mortems missing', figures?.postmortemMissing, 'required, past due, none linked')}
          {tile('Action items without owner', figures?.actionItemsWithoutOwner, 'due or created in the range')}
          {tile('Action items without due date', figures?.actionItemsWithoutDueDate, 'in no completion figure')}
          {tile('Quarantined records', figures?.quarantinedLast30Days, 'last 30 days, all accounts')}
          {tile('Jira tickets naming unknown incidents', figures?.unlinkedTickets, 'whole database')}
        </div>
      </QueryStatus>
      <DataQualityList
        title="Incidents without severity"
        description="Their priority did not map to SEV1-SEV4, so no SLA target applies; they are left out of every compliance figure."
        {...withoutSeverity}
        columns={columns.withoutSeverity}
        rowId={(row) => String(row.external_id)}
      />
      <DataQualityList
        title="Required post-mortems missing"
        description="The policy requires a post-mortem for their severity, its due date has passed, and no post-mortem is linked."
        {...missingPostmortems}
        columns={columns.missingPostmortems}
        rowId={(row) => String(row.external_id)}
      />
      <DataQualityList
        title="Action items without owner or due date"
        description="Due in the range, or created in it without a due date. Without a due date an item counts in no completion figure."
        {...actionItems}
        columns={columns.actionItems}
        rowId={(row) => String(row.external_id)}
      />
      <DataQualityList
        title="Quarantined records"
        description="Records a source sent that the sync refused in the last 30 days, with the reason; they are in no figure until the source corrects them."
        {...quarantined}
        columns={columns.quarantined}
        rowId={(row) => `${row.source_name}/${row.record_kind}/${row.external_id}/${row.last_seen_at}`}
      />
      <DataQualityList
        title="Jira tickets naming unknown PagerDuty incidents"
        description="Incident tickets that name a PagerDuty incident the database does not hold: a sync that missed it, or a mistyped id."
        {...unlinked}
        columns={columns.unlinked}
        rowId={(row) => String(row.issue_key)}
      />
      <DataQualityList
        title="Last successful sync of each account"
        description="Nothing that happened after this instant is in the figures yet."
        {...syncs}
        columns={columns.syncs}
        rowId={(row) => `${row.source_kind}/${row.source_name}`}
      />
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
  tiles: css({ display: 'flex', flexWrap: 'wrap', gap: theme.spacing(1.5) }),
});
