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
  const from = timeRange.from.valueOf();
  const to = timeRange.to.valueOf();
  const variablesKey = JSON.stringify(variables);
  // The answer remembers the query it answers: while a newer one runs, the last rows stay on screen.
  const queryKey = JSON.stringify([datasourceUid, rawSql, from, to, variablesKey]);
  const [answer, setAnswer] = useState<{ queryKey: string; rows: Row[]; error?: string }>();

  useEffect(() => {
    let current = true;
    runSqlQuery({ datasourceUid, rawSql, timeRange, variables: JSON.parse(variablesKey) })
      .then((frame) => current && setAnswer({ queryKey, rows: frameToRows(frame) }))
      .catch((error: Error) => current && setAnswer({ queryKey, rows: [], error: error.message }));
    return () => {
      current = false;
    };
    // timeRange is keyed by its instants: a new object for the same range must not re-query.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [queryKey]);

  return { rows: answer?.rows ?? [], error: answer?.error, loading: answer?.queryKey !== queryKey };
}
