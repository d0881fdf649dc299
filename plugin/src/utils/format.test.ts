import { describe, expect, it } from 'vitest';
import { formatInstant } from './format';

describe('formatInstant', () => {
  it('shows local wall time of the zone', () => {
    const instant = Date.parse('2026-10-25T00:30:00Z');
    expect(formatInstant(instant, 'UTC')).toBe('2026-10-25 00:30');
    expect(formatInstant(instant, 'Europe/Berlin')).toBe('2026-10-25 02:30');
    expect(formatInstant(null, 'UTC')).toBe('–');
  });
});
