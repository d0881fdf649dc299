import { describe, expect, it } from 'vitest';
import { formatDuration, formatRate } from './format.ts';

describe('formatDuration', () => {
  it.each([
    [null, '–'],
    [undefined, '–'],
    [Number.NaN, '–'],
    [0, '0s'],
    [44.6, '45s'],
    [60, '1m'],
    [312.5, '5m 13s'],
    [750, '12m 30s'],
    [900, '15m'],
    [3600, '1h'],
    [5400, '1h 30m'],
    [11_100, '3h 5m'],
    [86_400, '1d'],
    [187_200, '2d 4h'],
    [200_000, '2d 7h'],
  ])('%s -> %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('formatRate', () => {
  it.each([
    [null, '–'],
    [0, '0.0%'],
    [0.92684, '92.7%'],
    [1, '100.0%'],
  ])('%s -> %s', (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });
});
