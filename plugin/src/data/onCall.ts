import { numberOrNull, textOrNull, type Row } from './rows';

export interface OnCallFigures {
  dimension: string;
  key: string | null;
  label: string;
  timeZone: string | null;
  notifications: number;
  unknownMethod: number;
  interruptions: number;
  business: number;
  off: number;
  sleep: number;
  nightsInterrupted: number;
  acknowledged: number;
  incidents: number;
  autoResolved: number;
  transient: number;
  autoResolvedShare: number | null;
  transientShare: number | null;
}

export function toOnCallFigures(row: Row): OnCallFigures {
  const count = (name: string) => numberOrNull(row[name]) ?? 0;
  return {
    dimension: String(row.dimension),
    key: textOrNull(row.dimension_key),
    label: textOrNull(row.dimension_label) ?? '',
    timeZone: textOrNull(row.time_zone),
    notifications: count('notifications'),
    unknownMethod: count('unknown_method'),
    interruptions: count('interruptions'),
    business: count('business'),
    off: count('off'),
    sleep: count('sleep'),
    nightsInterrupted: count('nights_interrupted'),
    acknowledged: count('acknowledged'),
    incidents: count('incidents'),
    autoResolved: count('auto_resolved'),
    transient: count('transient'),
    autoResolvedShare: numberOrNull(row.auto_resolved_share),
    transientShare: numberOrNull(row.transient_share),
  };
}

/** Services, noisiest first: auto-resolved plus transient, then incidents, then name. */
export function noisiestServices(figures: OnCallFigures[]): OnCallFigures[] {
  return figures
    .filter((row) => row.dimension === 'service' && row.incidents > 0)
    .sort(
      (a, b) =>
        b.autoResolved + b.transient - (a.autoResolved + a.transient) ||
        b.incidents - a.incidents ||
        a.label.localeCompare(b.label)
    );
}

/** 7 x 24 interruption counts, Monday first, from the hour_of_week rows (key (weekday - 1) * 24 + hour). */
export function hourOfWeekGrid(figures: OnCallFigures[]): number[][] {
  const grid = Array.from({ length: 7 }, () => Array<number>(24).fill(0));
  for (const row of figures) {
    if (row.dimension !== 'hour_of_week' || row.key === null) {
      continue;
    }
    const cell = Number(row.key);
    grid[Math.floor(cell / 24)]![cell % 24] = row.interruptions;
  }
  return grid;
}
