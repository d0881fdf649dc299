import type { GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { Button, useStyles2 } from '@grafana/ui';
import React from 'react';

/** Where the rows shown are in a list the server pages. */
export interface ListPage {
  /** The position of the page's first row in the list, from 1. */
  first: number;
  /** The size of the whole list, from the page's counts; undefined until they arrive. */
  total?: number;
  /** Undefined on the first page. */
  onPrevious?: () => void;
  /** Undefined on the last page. */
  onNext?: () => void;
}

/** "26–50 of 342", with the buttons to the pages before and after when there are any. */
export function Pager({ page, shown }: { page: ListPage; shown: number }) {
  const styles = useStyles2(getStyles);
  const last = page.first + shown - 1;
  return (
    <div className={styles.pager}>
      <span className={styles.position} data-testid="list-position">
        {page.first}–{last}
        {page.total === undefined ? '' : ` of ${page.total}`}
      </span>
      {(page.onPrevious || page.onNext) && (
        <>
          <Button size="sm" variant="secondary" icon="angle-left" disabled={!page.onPrevious} onClick={page.onPrevious}>
            Previous
          </Button>
          <Button size="sm" variant="secondary" icon="angle-right" disabled={!page.onNext} onClick={page.onNext}>
            Next
          </Button>
        </>
      )}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  pager: css({ display: 'flex', gap: theme.spacing(1), alignItems: 'center', marginBottom: theme.spacing(1) }),
  position: css({ color: theme.colors.text.secondary, fontWeight: theme.typography.fontWeightRegular }),
});
