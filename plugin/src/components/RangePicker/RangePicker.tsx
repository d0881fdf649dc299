import type { TimeRange } from '@grafana/data';
import { TimeRangePicker } from '@grafana/ui';
import React from 'react';
import { shiftTimeRange, zoomOutTimeRange } from '../../utils/timeRange';

interface Props {
  value: TimeRange;
  timeZone: string;
  onChange: (range: TimeRange) => void;
}

/**
 * Grafana's range picker as the app's pages use it: back and forward by the
 * range's own length, zoom out around its middle. The zone is the app's
 * setting, so it is shown but not changed here.
 */
export function RangePicker({ value, timeZone, onChange }: Props) {
  return (
    <TimeRangePicker
      value={value}
      timeZone={timeZone}
      onChange={onChange}
      onChangeTimeZone={() => {}}
      onMoveBackward={() => onChange(shiftTimeRange(value, -1))}
      onMoveForward={() => onChange(shiftTimeRange(value, 1))}
      onZoom={() => onChange(zoomOutTimeRange(value))}
    />
  );
}
