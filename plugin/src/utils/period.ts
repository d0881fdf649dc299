// Calendar arithmetic on the date a report is anchored to (a local date, no
// time zone): moving to the previous or next period. The period's instants
// are computed by SQL in the report's time zone, never here.

export type Granularity = 'day' | 'week' | 'month';

export const GRANULARITIES: Granularity[] = ['day', 'week', 'month'];

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDay(text: string): boolean {
  const match = ISO_DAY.exec(text);
  if (!match) {
    return false;
  }
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().slice(0, 10) === text;
}

function parseIsoDay(text: string): Date {
  if (!isIsoDay(text)) {
    throw new Error(`a report date is written YYYY-MM-DD: got '${text}'`);
  }
  return new Date(`${text}T00:00:00Z`);
}

function toIsoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/**
 * The anchor of the period `steps` periods away. Months keep the day when it
 * exists and clamp to the month's last day otherwise (Jan 31 -> Feb 28), so
 * that the anchor stays inside the intended month.
 */
export function shiftAnchor(anchor: string, granularity: Granularity, steps: number): string {
  const date = parseIsoDay(anchor);
  if (granularity === 'day') {
    return toIsoDay(new Date(date.getTime() + steps * 86_400_000));
  }
  if (granularity === 'week') {
    return toIsoDay(new Date(date.getTime() + steps * 7 * 86_400_000));
  }
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + steps;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return toIsoDay(new Date(Date.UTC(year, month, Math.min(date.getUTCDate(), lastDay))));
}

/** Today's date in an IANA zone, the default anchor of a report. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}
