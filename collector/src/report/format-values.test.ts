import { describe, expect, it } from 'vitest';
import { describeChange } from './format-values.ts';

describe('the change against the previous period', () => {
  it.each([
    [10, 8, 'count', '↑ 2'],
    [300, 360, 'duration', '↓ 1m'],
    [0.9, 0.85, 'rate', '↑ 5.0 pp'],
    [0.5, 0.5, 'rate', '→ no change'],
  ] as const)('describeChange(%j, %j) is %s', (current, previous, unit, text) => {
    expect(describeChange(current, previous, unit)?.text).toBe(text);
  });

  it('has no change without a previous value', () => {
    expect(describeChange(3, null, 'count')).toBeNull();
    expect(describeChange(null, 3, 'count')).toBeNull();
  });
});
