import { describe, expect, it } from 'vitest';
import { normaliseSeverity, type SeverityRules } from './severity.ts';

const none: SeverityRules = { map: {}, fromUrgency: {} };

describe('normaliseSeverity (docs/metrics.md §4)', () => {
  it.each([
    ['P1', 'SEV1'],
    ['p2', 'SEV2'],
    ['P5', 'SEV4'],
    ['SEV1', 'SEV1'],
    ['sev3', 'SEV3'],
    ['SEV-2', 'SEV2'],
    ['Sev 4', 'SEV4'],
    ['Severity 1', 'SEV1'],
    ['severity 9', 'SEV4'],
    ['Critical', 'SEV1'],
    ['Highest', 'SEV1'],
    ['HIGH', 'SEV2'],
    ['Medium', 'SEV3'],
    ['Low', 'SEV4'],
    ['Lowest', 'SEV4'],
    ['  P3  ', 'SEV3'],
    ['P0', 'UNKNOWN'],
    ['Blocker', 'UNKNOWN'],
    ['P1 - urgent', 'UNKNOWN'],
    ['SEV', 'UNKNOWN'],
  ] as const)('priority %j is %s', (priority, expected) => {
    expect(normaliseSeverity(priority, null, none)).toBe(expected);
  });

  it('applies the configured map before the default rules, ignoring case', () => {
    const rules: SeverityRules = { map: { Blocker: 'SEV1', P1: 'SEV2' }, fromUrgency: {} };
    expect(normaliseSeverity('blocker', null, rules)).toBe('SEV1');
    expect(normaliseSeverity('P1', null, rules)).toBe('SEV2');
    expect(normaliseSeverity('P2', null, rules)).toBe('SEV2');
  });

  it('uses fromUrgency only when there is no priority', () => {
    const rules: SeverityRules = { map: {}, fromUrgency: { high: 'SEV2', low: 'SEV4' } };
    expect(normaliseSeverity(null, 'high', rules)).toBe('SEV2');
    expect(normaliseSeverity('', 'LOW', rules)).toBe('SEV4');
    expect(normaliseSeverity('Something', 'high', rules)).toBe('UNKNOWN');
    expect(normaliseSeverity(null, 'high', none)).toBe('UNKNOWN');
    expect(normaliseSeverity(undefined, undefined, rules)).toBe('UNKNOWN');
  });
});
