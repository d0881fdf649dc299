import { describe, expect, it } from 'vitest';
import { isIsoDay, shiftAnchor, todayIn, type Granularity } from './period';

describe('shiftAnchor', () => {
  const cases: Array<[string, Granularity, number, string]> = [
    ['2026-10-15', 'day', 1, '2026-10-16'],
    ['2026-10-31', 'day', 1, '2026-11-01'],
    ['2026-03-01', 'day', -1, '2026-02-28'],
    ['2028-03-01', 'day', -1, '2028-02-29'],
    ['2026-10-29', 'week', 1, '2026-11-05'],
    ['2026-01-02', 'week', -1, '2025-12-26'],
    ['2026-10-15', 'month', 1, '2026-11-15'],
    ['2026-01-31', 'month', 1, '2026-02-28'],
    ['2026-03-31', 'month', -1, '2026-02-28'],
    ['2026-01-15', 'month', -1, '2025-12-15'],
    ['2026-12-15', 'month', 1, '2027-01-15'],
  ];
  it.each(cases)('%s %s %i -> %s', (anchor, granularity, steps, expected) => {
    expect(shiftAnchor(anchor, granularity, steps)).toBe(expected);
  });

  it('refuses a date that is not YYYY-MM-DD, naming it', () => {
    expect(() => shiftAnchor('2026-02-30', 'day', 1)).toThrow("got '2026-02-30'");
  });
});

describe('isIsoDay', () => {
  it.each([
    ['2026-10-15', true],
    ['2026-02-29', false],
    ['2028-02-29', true],
    ['2026-1-5', false],
    ['', false],
  ])('%s -> %s', (text, expected) => {
    expect(isIsoDay(text)).toBe(expected);
  });
});

describe('todayIn', () => {
  it('takes the date in the given zone, not the machine zone', () => {
    const instant = new Date('2026-10-15T23:30:00Z');
    expect(todayIn('UTC', instant)).toBe('2026-10-15');
    expect(todayIn('Europe/Berlin', instant)).toBe('2026-10-16');
    expect(todayIn('America/Los_Angeles', instant)).toBe('2026-10-15');
  });
});
