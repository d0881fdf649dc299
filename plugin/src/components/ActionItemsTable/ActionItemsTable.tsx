import type { GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { Badge, InteractiveTable, TextLink, useStyles2, type Column } from '@grafana/ui';
import React, { useMemo } from 'react';
import type { ActionItemRow } from '../../data/actionItemRows';

interface Props {
  /** In the order to show them: the query puts overdue items first. */
  items: ActionItemRow[];
}

function ItemState({ item }: { item: ActionItemRow }) {
  if (item.done) {
    return <Badge text="done" color="green" />;
  }
  if (item.overdue) {
    return <Badge text="overdue" color="red" icon="exclamation-triangle" />;
  }
  if (item.dueDate === null) {
    return <Badge text="no due date" color="orange" />;
  }
  return <Badge text="open" color="blue" />;
}

function OptionalLink({ label, url }: { label: string | null; url: string | null }) {
  if (!label) {
    return <>–</>;
  }
  return url ? (
    <TextLink href={url} external>
      {label}
    </TextLink>
  ) : (
    <>{label}</>
  );
}

/** Post-mortem action items: state, owner, due date, and the incident and post-mortem they came from. */
export function ActionItemsTable({ items }: Props) {
  const styles = useStyles2(getStyles);
  const columns = useMemo<Array<Column<ActionItemRow>>>(
    () => [
      { id: 'state', header: 'State', disableGrow: true, cell: ({ row }) => <ItemState item={row.original} /> },
      {
        id: 'title',
        header: 'Action item',
        cell: ({ row }) => (
          <span className={styles.title}>
            {row.original.issueKey && <OptionalLink label={row.original.issueKey} url={row.original.url} />}
            <span>{row.original.title}</span>
          </span>
        ),
      },
      { id: 'owner', header: 'Owner', sortType: 'alphanumeric', cell: ({ row }) => row.original.owner ?? 'unassigned' },
      { id: 'team', header: 'Team', sortType: 'alphanumeric', cell: ({ row }) => row.original.team ?? '–' },
      {
        id: 'dueDate',
        header: 'Due',
        sortType: 'alphanumeric',
        disableGrow: true,
        cell: ({ row }) => (
          <span className={row.original.overdue ? styles.overdue : styles.date}>{row.original.dueDate ?? '–'}</span>
        ),
      },
      {
        id: 'incident',
        header: 'Incident',
        cell: ({ row }) => <OptionalLink label={row.original.incidentLabel} url={row.original.incidentUrl} />,
      },
      {
        id: 'postmortem',
        header: 'Post-mortem',
        cell: ({ row }) => <OptionalLink label={row.original.postmortemLabel} url={row.original.postmortemUrl} />,
      },
    ],
    [styles]
  );
  if (items.length === 0) {
    return <div className={styles.empty}>No action items.</div>;
  }
  // One page of the list: the server pages it (lens.action_item_list).
  return <InteractiveTable columns={columns} data={items} getRowId={(item) => item.key} />;
}

const getStyles = (theme: GrafanaTheme2) => ({
  title: css({ display: 'inline-flex', gap: theme.spacing(1), alignItems: 'baseline' }),
  date: css({ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' }),
  overdue: css({ fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap', color: theme.colors.error.text }),
  empty: css({ padding: theme.spacing(2), color: theme.colors.text.secondary }),
});
