import type { GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { InteractiveTable, TextLink, useStyles2, type Column } from '@grafana/ui';
import React, { useMemo } from 'react';
import type { IncidentRow } from '../../data/incidentRows';
import { formatInstant } from '../../utils/format';
import { IncidentTimeline } from '../IncidentTimeline/IncidentTimeline';
import { SeverityBadge } from '../SeverityBadge/SeverityBadge';
import { SlaOutcomeBadge } from '../SlaOutcomeBadge/SlaOutcomeBadge';

export interface IncidentsTableOptions {
  showService: boolean;
  showTeam: boolean;
  showLinks: boolean;
  showTimeline: boolean;
  /** Rows per page; 0 shows every row. */
  pageSize: number;
}

export const DEFAULT_INCIDENTS_TABLE_OPTIONS: IncidentsTableOptions = {
  showService: true,
  showTeam: true,
  showLinks: true,
  showTimeline: true,
  pageSize: 25,
};

interface Props {
  incidents: IncidentRow[];
  timeZone: string;
  options?: Partial<IncidentsTableOptions>;
}

/** Incidents with severity, status, SLA-coloured times to ack and resolve, source links and an expandable timeline. */
export function IncidentsTable({ incidents, timeZone, options }: Props) {
  const styles = useStyles2(getStyles);
  const settings = { ...DEFAULT_INCIDENTS_TABLE_OPTIONS, ...options };

  const columns = useMemo<Array<Column<IncidentRow>>>(() => {
    const all: Array<Column<IncidentRow> | false> = [
      {
        id: 'severity',
        header: 'Severity',
        sortType: 'alphanumeric',
        disableGrow: true,
        cell: ({ row }) => <SeverityBadge severity={row.original.severity} />,
      },
      {
        id: 'title',
        header: 'Incident',
        minWidth: 200,
        cell: ({ row }) => (
          <span className={styles.title}>
            {row.original.number !== null && <span className={styles.number}>#{row.original.number}</span>}
            {row.original.title}
          </span>
        ),
      },
      settings.showService && { id: 'service', header: 'Service', sortType: 'alphanumeric', disableGrow: true },
      settings.showTeam && { id: 'team', header: 'Team', sortType: 'alphanumeric', disableGrow: true },
      { id: 'status', header: 'Status', sortType: 'alphanumeric', disableGrow: true },
      {
        id: 'createdAt',
        header: 'Triggered',
        sortType: 'number',
        disableGrow: true,
        cell: ({ row }) => <span className={styles.time}>{formatInstant(row.original.createdAt, timeZone)}</span>,
      },
      {
        id: 'ttaSeconds',
        header: 'Time to ack',
        sortType: 'number',
        disableGrow: true,
        cell: ({ row }) => (
          <SlaOutcomeBadge
            label="Time to acknowledge"
            seconds={row.original.ttaSeconds}
            outcome={row.original.ackSla}
            targetSeconds={row.original.ackTargetSeconds}
          />
        ),
      },
      {
        id: 'ttrSeconds',
        header: 'Time to resolve',
        sortType: 'number',
        disableGrow: true,
        cell: ({ row }) => (
          <SlaOutcomeBadge
            label="Time to resolve"
            seconds={row.original.ttrSeconds}
            outcome={row.original.resolveSla}
            targetSeconds={row.original.resolveTargetSeconds}
          />
        ),
      },
      settings.showLinks && {
        id: 'links',
        header: 'Links',
        disableGrow: true,
        cell: ({ row }) => <IncidentLinks incident={row.original} />,
      },
    ];
    return all.filter((column): column is Column<IncidentRow> => column !== false);
  }, [settings.showService, settings.showTeam, settings.showLinks, styles, timeZone]);

  if (incidents.length === 0) {
    return <div className={styles.empty}>No incidents match.</div>;
  }

  // InteractiveTable cannot switch between paged and unpaged in place: remount when that changes.
  const common = {
    key: settings.pageSize > 0 ? 'paged' : 'unpaged',
    columns,
    data: incidents,
    getRowId: (row: IncidentRow) => row.key,
    pageSize: settings.pageSize,
  };
  return (
    <div className={styles.scroll}>
      {settings.showTimeline ? (
        <InteractiveTable
          {...common}
          renderExpandedRow={(incident) => (
            <IncidentTimeline createdAt={incident.createdAt} events={incident.timeline} timeZone={timeZone} />
          )}
        />
      ) : (
        <InteractiveTable {...common} />
      )}
    </div>
  );
}

function IncidentLinks({ incident }: { incident: IncidentRow }) {
  const styles = useStyles2(getStyles);
  return (
    <span className={styles.links}>
      {incident.pagerdutyUrl && (
        <TextLink href={incident.pagerdutyUrl} external>
          PagerDuty
        </TextLink>
      )}
      {incident.jiraUrl && (
        <TextLink href={incident.jiraUrl} external>
          {incident.jiraIssueKey ?? 'Jira'}
        </TextLink>
      )}
      {incident.postmortemUrl && (
        <TextLink href={incident.postmortemUrl} external>
          {incident.postmortemKey ?? 'Post-mortem'}
        </TextLink>
      )}
    </span>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  title: css({ display: 'inline-flex', gap: theme.spacing(1) }),
  number: css({ color: theme.colors.text.secondary, fontVariantNumeric: 'tabular-nums' }),
  time: css({ whiteSpace: 'nowrap', fontVariantNumeric: 'tabular-nums' }),
  empty: css({ padding: theme.spacing(2), color: theme.colors.text.secondary }),
  links: css({ display: 'inline-flex', gap: theme.spacing(1), whiteSpace: 'nowrap' }),
  // Narrow panels scroll sideways rather than cut the links off.
  scroll: css({ overflowX: 'auto' }),
});
