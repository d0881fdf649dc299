import type { GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { InteractiveTable, TextLink, useStyles2, type Column } from '@grafana/ui';
import React from 'react';
import type { CellValue, Row } from '../../data/rows';
import { Pager, type ListPage } from '../Pager/Pager';
import { QueryStatus } from '../QueryStatus/QueryStatus';

interface Props {
  title: string;
  /** Says what a row means and why it matters, in a line. */
  description: string;
  rows: Row[];
  loading: boolean;
  error?: string;
  columns: Array<Column<Row>>;
  rowId: (row: Row) => string;
  /** A list the server pages: the rows are one page of it. Without, they are the whole list. */
  page?: ListPage;
}

/** One list of the Data quality page: a titled table, or a line saying the list is empty. */
export function DataQualityList({ title, description, rows, loading, error, columns, rowId, page }: Props) {
  const styles = useStyles2(getStyles);
  const size = page ? page.total : loading ? undefined : rows.length;
  return (
    <section className={styles.section} aria-label={title}>
      <h3 className={styles.heading}>
        {title} <span className={styles.count}>{size ?? ''}</span>
      </h3>
      <div className={styles.description}>{description}</div>
      <QueryStatus loading={loading && rows.length === 0} error={error} subject={title.toLowerCase()}>
        {rows.length === 0 ? (
          <div className={styles.empty}>None.</div>
        ) : page ? (
          <>
            <Pager page={page} shown={rows.length} />
            <InteractiveTable columns={columns} data={rows} getRowId={rowId} />
          </>
        ) : (
          <InteractiveTable columns={columns} data={rows} getRowId={rowId} pageSize={10} />
        )}
      </QueryStatus>
    </section>
  );
}

/** A link to the source record (PagerDuty, Jira), or the plain text when the source sent no URL. */
export function SourceLink({ href, children }: { href: CellValue | undefined; children: React.ReactNode }) {
  if (typeof href !== 'string' || href === '') {
    return <>{children}</>;
  }
  return (
    <TextLink href={href} external>
      {String(children)}
    </TextLink>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  section: css({ marginTop: theme.spacing(3) }),
  heading: css({ fontSize: theme.typography.h4.fontSize, marginBottom: theme.spacing(0.5) }),
  count: css({ color: theme.colors.text.secondary, fontWeight: theme.typography.fontWeightRegular }),
  description: css({ color: theme.colors.text.secondary, marginBottom: theme.spacing(1) }),
  empty: css({ color: theme.colors.text.secondary }),
});
