import type { TimeRange } from '@grafana/data';
import { useEffect, useState } from 'react';
import { frameToRows, type Row } from './rows';
import { runSqlQuery } from './sqlQuery';
import type { SqlVariable } from './templateVariables';

export interface SqlQueryState {
  rows: Row[];
  loading: boolean;
  error?: string;
}

/** Runs the query whenever its text, time range or variables change; stale answers are dropped. */
export function useSqlQuery(
  datasourceUid: string,
  rawSql: string,
  timeRange: TimeRange,
  variables: Record<string, SqlVariable> = {}
): SqlQueryState {
  const [state, setState] = useState<SqlQueryState>({ rows: [], loading: true });
  const from = timeRange.from.valueOf();
  const to = timeRange.to.valueOf();
  const variablesKey = JSON.stringify(variables);

  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    runSqlQuery({ datasourceUid, rawSql, timeRange, variables: JSON.parse(variablesKey) })
      .then((frame) => current && setState({ rows: frameToRows(frame), loading: false }))
      .catch((error: Error) => current && setState({ rows: [], loading: false, error: error.message }));
    return () => {
      current = false;
    };
    // timeRange is keyed by its instants: a new object for the same range must not re-query.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [datasourceUid, rawSql, from, to, variablesKey]);

  return state;
}
