/**
 * Strict parsing of the dates a user types (--since, --date, --as-of, the
 * YAML `since` keys). `new Date(text)` rolls 2026-02-30 over to March 2 and
 * reads "2026-01-01 junk" as some other day; these functions accept only
 * the exact shapes below and check every field against the calendar, so a
 * typo is refused instead of silently moving the window.
 */

/** Why a value was refused; the caller names the option or key it came from. */
export class DateFormatError extends Error {
  override readonly name = 'DateFormatError';
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;
// Seconds and fraction optional; the zone is required so an instant means the same everywhere.
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function checkYearMonth(year: number, month: number, text: string): void {
  if (year < 1) {
    throw new DateFormatError(`'${text}' is not a calendar date: year 0 is out of range`);
  }
  if (month < 1 || month > 12) {
    throw new DateFormatError(`'${text}' is not a calendar date: month ${month} does not exist`);
  }
}

function checkDay(year: number, month: number, day: number, text: string): void {
  checkYearMonth(year, month, text);
  if (day < 1 || day > daysInMonth(year, month)) {
    throw new DateFormatError(
      `'${text}' is not a calendar date: ${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')} has no day ${day}`
    );
  }
}

/** `YYYY-MM-DD`, a real calendar day; returns it unchanged. */
export function parseIsoDay(text: string): string {
  const match = DAY.exec(text);
  if (!match) {
    throw new DateFormatError(`'${text}' is not a date written YYYY-MM-DD`);
  }
  checkDay(Number(match[1]), Number(match[2]), Number(match[3]), text);
  return text;
}

/** `YYYY-MM`, a real month; returns it unchanged. */
export function parseIsoMonth(text: string): string {
  const match = MONTH.exec(text);
  if (!match) {
    throw new DateFormatError(`'${text}' is not a month written YYYY-MM`);
  }
  checkYearMonth(Number(match[1]), Number(match[2]), text);
  return text;
}

/** The UTC midnight that starts a `YYYY-MM-DD` day. */
export function parseIsoDayStart(text: string): Date {
  return new Date(`${parseIsoDay(text)}T00:00:00Z`);
}

/** An ISO 8601 instant with a zone (Z or ±HH:MM), every field in range. */
export function parseIsoInstant(text: string): Date {
  const match = INSTANT.exec(text);
  if (!match) {
    throw new DateFormatError(`'${text}' is not an ISO 8601 instant with a zone, such as 2026-11-22T09:00:00Z`);
  }
  const [, year, month, day, hour, minute, second = '00', , zone] = match;
  checkDay(Number(year), Number(month), Number(day), text);
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) {
    throw new DateFormatError(`'${text}' has a time of day out of range`);
  }
  if (zone !== 'Z') {
    const offset = /^[+-](\d{2}):?(\d{2})$/.exec(zone!)!;
    if (Number(offset[1]) > 23 || Number(offset[2]) > 59) {
      throw new DateFormatError(`'${text}' has a zone offset out of range`);
    }
  }
  // Engines differ on ±HHMM; ±HH:MM is read the same everywhere.
  const instant = new Date(
    zone === 'Z' || zone!.includes(':') ? text : `${text.slice(0, -5)}${zone!.slice(0, 3)}:${zone!.slice(3)}`
  );
  if (Number.isNaN(instant.getTime())) {
    throw new DateFormatError(`'${text}' is not an instant JavaScript can represent`);
  }
  return instant;
}
