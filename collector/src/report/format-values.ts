import { formatDuration } from '@incident-lens/common/format';

/** How the Markdown and HTML reports show a change from the previous period. */

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
  unit: 'count' | 'duration' | 'rate'
): Change | null {
  if (current === null || previous === null || previous === undefined) {
    return null;
  }
  const delta = current - previous;
  const direction: Direction = Math.abs(delta) < 1e-9 ? 'same' : delta > 0 ? 'up' : 'down';
  const size = Math.abs(delta);
  const text =
    unit === 'count' ? String(size) : unit === 'duration' ? formatDuration(size) : `${(size * 100).toFixed(1)} pp`;
  return { direction, text: direction === 'same' ? `${ARROWS.same} no change` : `${ARROWS[direction]} ${text}` };
}
