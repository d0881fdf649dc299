import type { GrafanaTheme2 } from '@grafana/data';
import { css } from '@emotion/css';
import { useStyles2, useTheme2 } from '@grafana/ui';
import React from 'react';

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

interface Props {
  /** 7 rows (Monday first) of 24 counts. */
  grid: number[][];
  timeZone: string;
}

/** Interruptions by hour of week, one cell per hour, darker for more. */
export function HourOfWeekHeatmap({ grid, timeZone }: Props) {
  const styles = useStyles2(getStyles);
  const theme = useTheme2();
  const most = Math.max(1, ...grid.flat());
  return (
    <div className={styles.heatmap} role="table" aria-label={`Interruptions by hour of week (${timeZone})`}>
      <div role="row" className={styles.row}>
        <span className={styles.dayLabel} />
        {grid[0]!.map((_, hour) => (
          <span key={hour} role="columnheader" className={styles.hourLabel}>
            {hour % 3 === 0 ? String(hour).padStart(2, '0') : ''}
          </span>
        ))}
      </div>
      {grid.map((hours, day) => (
        <div key={day} role="row" className={styles.row}>
          <span role="rowheader" className={styles.dayLabel}>
            {WEEKDAYS[day]}
          </span>
          {hours.map((count, hour) => (
            <span
              key={hour}
              role="cell"
              title={`${WEEKDAYS[day]} ${String(hour).padStart(2, '0')}:00 · ${count} interruptions`}
              className={styles.cell}
              style={{
                background:
                  count === 0 ? theme.colors.background.secondary : theme.visualization.getColorByName('orange'),
                opacity: count === 0 ? 1 : 0.25 + 0.75 * (count / most),
              }}
            />
          ))}
        </div>
      ))}
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  heatmap: css({ display: 'flex', flexDirection: 'column', gap: 2 }),
  row: css({ display: 'grid', gridTemplateColumns: '36px repeat(24, 1fr)', gap: 2, alignItems: 'center' }),
  dayLabel: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  hourLabel: css({ color: theme.colors.text.secondary, fontSize: theme.typography.bodySmall.fontSize }),
  cell: css({ height: 18, borderRadius: 2 }),
});
