import { describe, expect, it } from 'vitest';
import { parseAsOf } from './render-report.ts';

describe('--as-of', () => {
  it('accepts only instants with a zone', () => {
    expect(parseAsOf('2026-11-22T09:00:00+01:00').toISOString()).toBe('2026-11-22T08:00:00.000Z');
    expect(() => parseAsOf('2026-11-22T09:00:00')).toThrow(/with a zone/);
  });
});
