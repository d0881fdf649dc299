import { describe, expect, it } from 'vitest';
import {
  accountVariable,
  ALL_VALUE,
  formatSqlVariable,
  interpolateSqlVariables,
  type SqlVariable,
} from './templateVariables';

describe('formatSqlVariable (Grafana SQL datasource rules)', () => {
  const cases: Array<[string, SqlVariable, string]> = [
    ['single value: quotes doubled, not wrapped', { value: "o'brien" }, "o''brien"],
    ['multi with one string value: wrapped', { value: 'checkout', multi: true }, "'checkout'"],
    ['include-All with one value: wrapped', { value: 'checkout', includeAll: true }, "'checkout'"],
    ['array: each quoted, comma-joined', { value: ['SEV1', "it's"], multi: true }, "'SEV1','it''s'"],
    ['empty array: NULL, a valid IN list that matches nothing', { value: [], multi: true }, 'NULL'],
    [
      'All with a custom all value: inserted raw',
      { value: ALL_VALUE, includeAll: true, allValue: "'__all'" },
      "'__all'",
    ],
    ['All as a one-element array', { value: [ALL_VALUE], includeAll: true, allValue: "'__all'" }, "'__all'"],
    ['All without all value: every option', { value: ALL_VALUE, includeAll: true, options: ['a', 'b'] }, "'a','b'"],
  ];
  it.each(cases)('%s', (_name, variable, expected) => {
    expect(formatSqlVariable(variable)).toBe(expected);
  });
});

describe('interpolateSqlVariables', () => {
  const variables: Record<string, SqlVariable> = {
    severity: { value: ['SEV1', 'SEV2'], multi: true },
    tz: { value: 'Europe/Berlin' },
  };
  const cases: Array<[string, string, string]> = [
    [
      'bare and braced names',
      "severity IN ($severity) AND tz = '${tz}'",
      "severity IN ('SEV1','SEV2') AND tz = 'Europe/Berlin'",
    ],
    [
      'macros are left to the datasource',
      'created_at >= $__timeFrom() AND $__timeFilter(x)',
      'created_at >= $__timeFrom() AND $__timeFilter(x)',
    ],
    ['a longer unknown name is not cut', 'SELECT $severityx', 'SELECT $severityx'],
    ['unknown names stay', 'SELECT $team', 'SELECT $team'],
  ];
  it.each(cases)('%s', (_name, sql, expected) => {
    expect(interpolateSqlVariables(sql, variables)).toBe(expected);
  });
});

describe('accountVariable', () => {
  const sql = 'lens.metrics(..., account => $source)';
  it.each([
    [undefined, 'lens.metrics(..., account => NULL)'],
    ['pd-eu', "lens.metrics(..., account => 'pd-eu')"],
    ["ops'eu", "lens.metrics(..., account => 'ops''eu')"],
  ])('%j', (account, expected) => {
    expect(interpolateSqlVariables(sql, { source: accountVariable(account) })).toBe(expected);
  });
});
