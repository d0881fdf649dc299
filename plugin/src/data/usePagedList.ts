import type { TimeRange } from '@grafana/data';
import { useMemo, useState } from 'react';
import type { ListPage } from '../components/Pager/Pager';
import type { SqlVariable } from './templateVariables';
import { useSqlQuery } from './useSqlQuery';

/**
 * A list the server pages by keyset, `pageSize` rows at a time: where each
 * page shown so far starts (the page_cursor of the last row of the page
 * before, as $page_after; '' for the first), back at the first page whenever
 * the range or the variables change. `total`: the list's size from its
 * counts, undefined while they load.
 */
export function usePagedList(
  datasourceUid: string,
  sql: string,
  timeRange: TimeRange,
  variables: Record<string, SqlVariable>,
  pageSize: number,
  total: number | undefined
) {
  const listKey = JSON.stringify([timeRange.from.valueOf(), timeRange.to.valueOf(), variables]);
  const [pages, setPages] = useState({ listKey, starts: [''] });
  const starts = pages.listKey === listKey ? pages.starts : [''];
  const after = starts[starts.length - 1]!;
  const pageVariables = useMemo(() => ({ ...variables, page_after: { value: after } }), [variables, after]);
  const query = useSqlQuery(datasourceUid, sql, timeRange, pageVariables);

  const first = (starts.length - 1) * pageSize + 1;
  const cursor = query.rows.at(-1)?.page_cursor;
  const more = total === undefined ? query.rows.length === pageSize : first + query.rows.length - 1 < total;
  const move = (next: string[]) => setPages({ listKey, starts: next });
  const page: ListPage = {
    first,
    total,
    onPrevious: starts.length > 1 ? () => move(starts.slice(0, -1)) : undefined,
    onNext: more && !query.loading && typeof cursor === 'string' ? () => move([...starts, cursor]) : undefined,
  };
  return { ...query, page };
}
