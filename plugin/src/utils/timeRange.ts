import { dateMath, dateTime, type TimeRange } from '@grafana/data';

/** A relative range such as now-30d..now, resolved to instants now. */
export function relativeTimeRange(from: string, to = 'now'): TimeRange {
  const start = dateMath.parse(from, false);
  const end = dateMath.parse(to, true);
  if (!start || !end) {
    throw new Error(`not a Grafana time expression: ${from} to ${to}`);
  }
  return { from: start, to: end, raw: { from, to } };
}

/** The same range moved back or forward by its own length, as Grafana's arrows do. */
export function shiftTimeRange(range: TimeRange, direction: -1 | 1): TimeRange {
  const span = range.to.valueOf() - range.from.valueOf();
  const from = dateTime(range.from.valueOf() + direction * span);
  const to = dateTime(range.to.valueOf() + direction * span);
  return { from, to, raw: { from, to } };
}

/** Twice the span around the same middle, as Grafana's zoom out does. */
export function zoomOutTimeRange(range: TimeRange): TimeRange {
  const span = range.to.valueOf() - range.from.valueOf();
  const from = dateTime(range.from.valueOf() - span / 2);
  const to = dateTime(range.to.valueOf() + span / 2);
  return { from, to, raw: { from, to } };
}
