/** Human formats shared by the Markdown and HTML reports. */

/** 312.5 -> "5m 13s", 900 -> "15m", 5400 -> "1h 30m", 200000 -> "2d 7h". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '–';
  const total = Math.round(seconds);
  const [unit, size, subUnit, subSize] =
    total < 60 ? ['s', 1, '', 1] : total < 3600 ? ['m', 60, 's', 1] : total < 86_400 ? ['h', 3600, 'm', 60] : ['d', 86_400, 'h', 3600];
  const whole = Math.floor(total / size);
  const rest = Math.floor((total % size) / subSize);
  return rest === 0 || subUnit === '' ? `${whole}${unit}` : `${whole}${unit} ${rest}${subUnit}`;
}

/** 0.9268 -> "92.7%". */
export function formatRate(rate: number | null): string {
  return rate === null ? '–' : `${(rate * 100).toFixed(1)}%`;
}

export type Direction = 'up' | 'down' | 'same';

export interface Change {
  direction: Direction;
  text: string;
}

const ARROWS: Record<Direction, string> = { up: '↑', down: '↓', same: '→' };

/** The change from the previous period, as an arrow and a delta in the value's own unit. */
export function describeChange(
  current: number | null,
  previous: number | null | undefined,
  unit: 'count' | 'duration' | 'rate',
): Change | null {
  if (current === null || previous === null || previous === undefined) return null;
  const delta = current - previous;
  const direction: Direction = Math.abs(delta) < 1e-9 ? 'same' : delta > 0 ? 'up' : 'down';
  const size = Math.abs(delta);
  const text =
    unit === 'count' ? String(size) : unit === 'duration' ? formatDuration(size) : `${(size * 100).toFixed(1)} pp`;
  return { direction, text: direction === 'same' ? `${ARROWS.same} no change` : `${ARROWS[direction]} ${text}` };
}
