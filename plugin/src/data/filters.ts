import { ALL_VALUE, type SqlVariable } from './templateVariables';

/**
 * A multi-select filter as a Grafana multi-value variable with include-All:
 * no selection means All, whose raw value '__all' the queries test with
 * `'__all' IN ($name)` so that rows with no value (no team) still show.
 */
export const ALL_SENTINEL = "'__all'";

export function filterVariable(selected: string[]): SqlVariable {
  return {
    value: selected.length === 0 ? ALL_VALUE : selected,
    multi: true,
    includeAll: true,
    allValue: ALL_SENTINEL,
  };
}
