import type { GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { useStyles2 } from '@grafana/ui';
import React from 'react';

export type StatTone = 'good' | 'bad' | 'warning' | 'neutral';

interface Props {
  title: string;
  value: string;
  detail?: string;
  tone?: StatTone;
}

/** One headline figure (MTTA, compliance, overdue items) with a line of context under it. */
export function StatTile({ title, value, detail, tone = 'neutral' }: Props) {
  const styles = useStyles2(getStyles);
  return (
    <section className={styles.tile} aria-label={title}>
      <div className={styles.title}>{title}</div>
      <div className={`${styles.value} ${styles[tone]}`} data-testid="stat-value">
        {value}
      </div>
      {detail && <div className={styles.detail}>{detail}</div>}
    </section>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  tile: css({
    background: theme.colors.background.primary,
    border: `1px solid ${theme.colors.border.weak}`,
    borderRadius: theme.shape.radius.default,
    padding: theme.spacing(1.5, 2),
    minWidth: 170,
    flex: '1 1 170px',
  }),
  title: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  value: css({
    fontSize: theme.typography.h2.fontSize,
    fontWeight: theme.typography.fontWeightMedium,
    fontVariantNumeric: 'tabular-nums',
    lineHeight: 1.3,
  }),
  detail: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  good: css({ color: theme.colors.success.text }),
  bad: css({ color: theme.colors.error.text }),
  warning: css({ color: theme.colors.warning.text }),
  neutral: css({ color: theme.colors.text.primary }),
});
