import { dataFrameFromJSON, type DataFrame, type DataFrameJSON, type TimeRange } from '@grafana/data';
import { getBackendSrv, type FetchResponse } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';
import { POSTGRES_DATASOURCE_TYPE } from '../constants';
import { interpolateSqlVariables, type SqlVariable } from './templateVariables';

export interface SqlQueryRequest {
  datasourceUid: string;
  rawSql: string;
  timeRange: TimeRange;
  variables?: Record<string, SqlVariable>;
}

interface QueryResultJSON {
  error?: string;
  status?: number;
  frames?: DataFrameJSON[];
}

interface QueryResponseJSON {
  results: Record<string, QueryResultJSON>;
}

const REF_ID = 'A';

/** The body Grafana's frontend sends to /api/ds/query for one table-format SQL query. */
export function buildQueryBody(request: SqlQueryRequest) {
  return {
    queries: [
      {
        refId: REF_ID,
        datasource: { type: POSTGRES_DATASOURCE_TYPE, uid: request.datasourceUid },
        rawSql: interpolateSqlVariables(request.rawSql, request.variables ?? {}),
        format: 'table',
        editorMode: 'code',
        rawQuery: true,
      },
    ],
    from: String(request.timeRange.from.valueOf()),
    to: String(request.timeRange.to.valueOf()),
  };
}

export class SqlQueryError extends Error {
  override name = 'SqlQueryError';
}

/**
 * Runs one SQL query through Grafana's PostgreSQL datasource, which expands
 * the $__ macros server-side, and returns its first frame.
 */
export async function runSqlQuery(request: SqlQueryRequest): Promise<DataFrame> {
  let response: FetchResponse<QueryResponseJSON>;
  try {
    response = await lastValueFrom(
      getBackendSrv().fetch<QueryResponseJSON>({
        url: '/api/ds/query',
        method: 'POST',
        data: buildQueryBody(request),
        showErrorAlert: false,
      })
    );
  } catch (error) {
    throw new SqlQueryError(describeFetchError(error, request.datasourceUid), { cause: error });
  }
  const result = response.data.results[REF_ID];
  if (result?.error) {
    throw new SqlQueryError(`the datasource '${request.datasourceUid}' answered: ${result.error}`);
  }
  const frame = result?.frames?.[0];
  return frame ? dataFrameFromJSON(frame) : { fields: [], length: 0 };
}

function describeFetchError(error: unknown, datasourceUid: string): string {
  const fetchError = error as {
    status?: number;
    data?: { message?: string; results?: Record<string, QueryResultJSON> };
  };
  const detail = fetchError.data?.results?.[REF_ID]?.error ?? fetchError.data?.message ?? String(error);
  if (fetchError.status === 404) {
    return `no datasource with uid '${datasourceUid}': provision it or choose another one on the Configuration page (${detail})`;
  }
  return `query through datasource '${datasourceUid}' failed: ${detail}`;
}
