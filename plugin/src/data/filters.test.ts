import { describe, expect, it } from 'vitest';
import { filterVariable } from './filters';
import { interpolateSqlVariables } from './templateVariables';

describe('filterVariable', () => {
  const sql = "('__all' IN ($team) OR team IN ($team))";
  it.each([
    [[], "('__all' IN ('__all') OR team IN ('__all'))"],
    [['Payments'], "('__all' IN ('Payments') OR team IN ('Payments'))"],
    [['Payments', "Ops'R'Us"], "('__all' IN ('Payments','Ops''R''Us') OR team IN ('Payments','Ops''R''Us'))"],
  ])('%j', (selected, expected) => {
    expect(interpolateSqlVariables(sql, { team: filterVariable(selected) })).toBe(expected);
  });
});
