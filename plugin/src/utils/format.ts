// Display formatting only: every figure arrives computed by SQL.

export { formatDuration, formatRate } from '@incident-lens/common/format';

export function formatCount(count: number | null | undefined): string {
  return count === null || count === undefined ? '–' : String(count);
}

/** An instant as local date and time in the given IANA zone, e.g. 2026-10-03 14:05. */
export function formatInstant(epochMs: number | null | undefined, timeZone: string): string {
  if (epochMs === null || epochMs === undefined) {
    return '–';
  }
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(epochMs));
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}`;
}
