import {
  applyFieldOverrides,
  FieldColorModeId,
  FieldType,
  toDataFrame,
  type GrafanaTheme2,
  type TimeRange,
} from '@grafana/data';
import { css } from '@emotion/css';
import { LegendDisplayMode, PanelChrome, TimeSeries, useStyles2, useTheme2 } from '@grafana/ui';
import React, { useMemo } from 'react';
import { useElementWidth } from '../../utils/useElementWidth';

export interface TrendSeries {
  name: string;
  values: Array<number | null>;
}

interface Props {
  title: string;
  /** Bucket starts, epoch ms. */
  times: number[];
  series: TrendSeries[];
  /** A Grafana unit id: 's' for durations, 'percentunit' for fractions. */
  unit: string;
  timeRange: TimeRange;
  timeZone: string;
  height?: number;
}

/** A line chart of per-bucket figures with Grafana's own time series renderer. */
export function TrendChart({ title, times, series, unit, timeRange, timeZone, height = 260 }: Props) {
  const styles = useStyles2(getStyles);
  const theme = useTheme2();
  const { ref, width } = useElementWidth<HTMLDivElement>();

  const frames = useMemo(() => {
    const frame = toDataFrame({
      fields: [
        { name: 'time', type: FieldType.time, values: times },
        ...series.map((line) => ({
          name: line.name,
          type: FieldType.number,
          values: line.values,
          config: {
            unit,
            color: { mode: FieldColorModeId.PaletteClassic },
            custom: { lineWidth: 2, pointSize: 5, showPoints: 'always', spanNulls: true, fillOpacity: 10 },
          },
        })),
      ],
    });
    return applyFieldOverrides({
      data: [frame],
      fieldConfig: { defaults: {}, overrides: [] },
      replaceVariables: (value) => value,
      theme,
      timeZone,
    });
  }, [times, series, unit, theme, timeZone]);

  return (
    <div ref={ref} className={styles.container} aria-label={title}>
      <PanelChrome title={title} width={width} height={height}>
        {(innerWidth, innerHeight) =>
          times.length === 0 ? (
            <div className={styles.empty}>No incidents in this range.</div>
          ) : (
            <TimeSeries
              frames={frames}
              width={innerWidth}
              height={innerHeight}
              timeRange={timeRange}
              timeZone={timeZone}
              legend={{ displayMode: LegendDisplayMode.List, placement: 'bottom', showLegend: true, calcs: [] }}
            />
          )
        }
      </PanelChrome>
    </div>
  );
}

const getStyles = (theme: GrafanaTheme2) => ({
  container: css({ width: '100%', minWidth: 0 }),
  empty: css({ color: theme.colors.text.secondary, padding: theme.spacing(2) }),
});
