/** How times and loose JSON values are read and written by the simulated PagerDuty. */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

export function wholeSeconds(date: Date, what: string): number {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) {
    throw new RangeError(`${what} is not a valid date`);
  }
  return Math.floor(ms / 1000) * 1000;
}

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

export function parsedTime(value: unknown): number {
  return typeof value === 'string' ? Date.parse(value) : Number.NaN;
}
