import type { Granularity } from '@incident-lens/common/report';

/** Pure: the calendar day (YYYY-MM-DD) an instant falls on in a zone. */
export function localDay(instant: Date, timezone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(instant);
}

/**
 * Pure: a day of the last complete period before the one containing
 * `today`: yesterday, a day of last ISO week, a day of last month. A report
 * scheduled at 06:00 on a Monday thus covers the week that just ended,
 * whatever day the schedule names.
 */
export function previousPeriodDay(granularity: Granularity, today: string): string {
  const date = new Date(`${today}T00:00:00Z`);
  if (granularity === 'day') {
    date.setUTCDate(date.getUTCDate() - 1);
  }
  if (granularity === 'week') {
    date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7) - 1);
  }
  if (granularity === 'month') {
    date.setUTCDate(0);
  }
  return date.toISOString().slice(0, 10);
}
