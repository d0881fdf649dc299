import { describe, expect, it } from 'vitest';
import { formatDuration, formatInstant, formatPercent } from './format';

describe('formatDuration', () => {
  it.each([
    [null, '–'],
    [0, '0s'],
    [44.6, '45s'],
    [60, '1m'],
    [750, '12m 30s'],
    [3600, '1h 00m'],
    [11100, '3h 05m'],
    [86400, '1d'],
    [187200, '2d 4h'],
  ])('%s -> %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });
});

describe('formatPercent', () => {
  it.each([
    [null, '–'],
    [0, '0.0%'],
    [0.92684, '92.7%'],
    [1, '100.0%'],
  ])('%s -> %s', (fraction, expected) => {
    expect(formatPercent(fraction)).toBe(expected);
  });
});

describe('formatInstant', () => {
  it('shows local wall time of the zone', () => {
    const instant = Date.parse('2026-10-25T00:30:00Z');
    expect(formatInstant(instant, 'UTC')).toBe('2026-10-25 00:30');
    expect(formatInstant(instant, 'Europe/Berlin')).toBe('2026-10-25 02:30');
    expect(formatInstant(null, 'UTC')).toBe('–');
  });
});
