import { dateTime } from '@grafana/data';
import { setBackendSrv, type BackendSrv, type BackendSrvRequest, type FetchResponse } from '@grafana/runtime';
import { of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { buildQueryBody, runSqlQuery } from './sqlQuery';

const reply = (body: { data: unknown }) => of(body as FetchResponse<unknown>);

const timeRange = { from: dateTime(1_000), to: dateTime(61_000), raw: { from: 'now-1m', to: 'now' } };

function backendAnswering(
  answer: (request: BackendSrvRequest) => ReturnType<BackendSrv['fetch']>
): BackendSrvRequest[] {
  const requests: BackendSrvRequest[] = [];
  setBackendSrv({
    fetch: (request: BackendSrvRequest) => {
      requests.push(request);
      return answer(request);
    },
  } as unknown as BackendSrv);
  return requests;
}

describe('buildQueryBody', () => {
  it('sends one table-format query for the datasource, variables interpolated, macros left to the server', () => {
    const body = buildQueryBody({
      datasourceUid: 'incident-lens-pg',
      rawSql: "SELECT * FROM t WHERE $__timeFilter(at) AND tz = '$timezone' AND team IN ($team)",
      timeRange,
      variables: { timezone: { value: 'Europe/Berlin' }, team: { value: ['A', 'B'], multi: true } },
    });
    expect(body).toEqual({
      from: '1000',
      to: '61000',
      queries: [
        {
          refId: 'A',
          datasource: { type: 'grafana-postgresql-datasource', uid: 'incident-lens-pg' },
          rawSql: "SELECT * FROM t WHERE $__timeFilter(at) AND tz = 'Europe/Berlin' AND team IN ('A','B')",
          format: 'table',
          editorMode: 'code',
          rawQuery: true,
        },
      ],
    });
  });
});

describe('runSqlQuery', () => {
  it('posts to /api/ds/query and returns the first frame', async () => {
    const requests = backendAnswering(() =>
      reply({
        data: {
          results: {
            A: {
              frames: [
                {
                  schema: {
                    fields: [
                      { name: 'severity', type: 'string' },
                      { name: 'n', type: 'number' },
                    ],
                  },
                  data: { values: [['SEV1'], [3]] },
                },
              ],
            },
          },
        },
      })
    );
    const frame = await runSqlQuery({ datasourceUid: 'incident-lens-pg', rawSql: 'SELECT 1', timeRange });
    expect(requests[0]).toMatchObject({ url: '/api/ds/query', method: 'POST' });
    expect(frame.length).toBe(1);
    expect(frame.fields.map((field) => [field.name, field.values[0]])).toEqual([
      ['severity', 'SEV1'],
      ['n', 3],
    ]);
  });

  it('passes on the error PostgreSQL gave, naming the datasource', async () => {
    backendAnswering(() => reply({ data: { results: { A: { error: 'relation "x" does not exist' } } } }));
    await expect(runSqlQuery({ datasourceUid: 'incident-lens-pg', rawSql: 'SELECT 1', timeRange })).rejects.toThrow(
      `the datasource 'incident-lens-pg' answered: relation "x" does not exist`
    );
  });

  it('says what to do when the datasource does not exist', async () => {
    backendAnswering(() => throwError(() => ({ status: 404, data: { message: 'Data source not found' } })));
    await expect(runSqlQuery({ datasourceUid: 'nope', rawSql: 'SELECT 1', timeRange })).rejects.toThrow(
      "no datasource with uid 'nope': provision it or choose another one on the Configuration page"
    );
  });
});
