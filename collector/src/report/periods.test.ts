import { describe, expect, it } from 'vitest';
import type { Granularity } from '@incident-lens/common/report';
import { localDay, previousPeriodDay } from './periods.ts';

describe('the period a scheduled report covers (pure)', () => {
  it.each<[Granularity, string, string]>([
    ['day', '2026-11-22', '2026-11-21'],
    ['day', '2026-03-01', '2026-02-28'],
    ['day', '2028-03-01', '2028-02-29'],
    // Monday 06:00: the ISO week that just ended.
    ['week', '2026-11-23', '2026-11-22'],
    ['week', '2026-11-22', '2026-11-15'],
    ['week', '2026-11-27', '2026-11-22'],
    ['month', '2026-12-01', '2026-11-30'],
    ['month', '2027-01-15', '2026-12-31'],
  ])('a %s report run on %s covers the period of %s', (granularity, today, expected) => {
    expect(previousPeriodDay(granularity, today)).toBe(expected);
  });

  it.each([
    ['2026-11-22T23:30:00Z', 'Europe/Berlin', '2026-11-23'],
    ['2026-11-22T23:30:00Z', 'America/New_York', '2026-11-22'],
    ['2026-11-23T04:59:59Z', 'America/New_York', '2026-11-22'],
  ])('%s is on %s in %s', (instant, zone, day) => {
    expect(localDay(new Date(instant), zone)).toBe(day);
  });
});
