import type { BackendSrv, BackendSrvRequest, FetchResponse } from '@grafana/runtime';
import { from, lastValueFrom, type Observable } from 'rxjs';

/**
 * Grafana's backend service, reduced to what the plugin calls: HTTP to the
 * harness server, which answers /api/ds/query by running the SQL against a
 * real PostgreSQL. Errors take Grafana's shape ({status, data}).
 */
async function request<T>(options: BackendSrvRequest): Promise<FetchResponse<T>> {
  const response = await fetch(options.url, {
    method: options.method ?? 'GET',
    headers: { 'content-type': 'application/json' },
    body: options.data === undefined ? undefined : JSON.stringify(options.data),
  });
  const text = await response.text();
  const data = (text ? JSON.parse(text) : undefined) as T;
  const result = {
    data,
    status: response.status,
    statusText: response.statusText,
    ok: response.ok,
    headers: response.headers,
    redirected: response.redirected,
    type: response.type,
    url: response.url,
    config: options,
  } as FetchResponse<T>;
  if (!response.ok) {
    throw { ...result, message: `HTTP ${response.status}` };
  }
  return result;
}

export const harnessBackendSrv = {
  fetch: <T>(options: BackendSrvRequest): Observable<FetchResponse<T>> => from(request<T>(options)),
  get: async <T>(url: string) => (await request<T>({ url })).data,
  post: async <T>(url: string, data?: unknown) => (await request<T>({ url, method: 'POST', data })).data,
  put: async <T>(url: string, data?: unknown) => (await request<T>({ url, method: 'PUT', data })).data,
  patch: async <T>(url: string, data?: unknown) => (await request<T>({ url, method: 'PATCH', data })).data,
  delete: async <T>(url: string, data?: unknown) => (await request<T>({ url, method: 'DELETE', data })).data,
  request: async <T>(options: BackendSrvRequest) => (await request<T>(options)).data,
  datasourceRequest: <T>(options: BackendSrvRequest) => request<T>(options),
  lastValueFrom,
} as unknown as BackendSrv;
