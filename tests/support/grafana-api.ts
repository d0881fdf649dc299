import type http from 'node:http';
import pg from 'pg';
import { answerDsQuery, type DsQueryRequest } from './grafana-postgres.ts';

export const APP_PLUGIN_ID = 'incidentlens-analytics-app';
export const DATASOURCE_UID = 'incident-lens-pg';

export interface GrafanaApi {
  /** Every SQL text the pages sent, after Grafana-side interpolation, before macro expansion. */
  queries: string[];
  /** Answers the request if it is one of the API calls below; false if it is not an /api/ path. */
  handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean>;
  close(): Promise<void>;
}

async function readJson(request: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

export function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/**
 * The part of Grafana's HTTP API the plugin calls: /api/ds/query for the
 * datasource uid incident-lens-pg, answered by running the SQL on
 * `readerUrl` (connect as incident_lens_reader to prove its grants), and the
 * app's plugin settings, kept in memory.
 */
export function createGrafanaApi(options: { readerUrl: string; jsonData?: Record<string, unknown> }): GrafanaApi {
  const pool = new pg.Pool({ connectionString: options.readerUrl, max: 4, application_name: 'grafana-stand-in' });
  // An idle connection ended by the server (the test database dropped while a page
  // still polls) leaves the pool, as in Grafana; unhandled, it would fail the run.
  pool.on('error', () => undefined);
  const queries: string[] = [];
  let settings = { enabled: true, pinned: true, jsonData: options.jsonData ?? {} };

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://grafana');
    if (!url.pathname.startsWith('/api/')) {
      return false;
    }
    if (url.pathname === '/api/ds/query' && request.method === 'POST') {
      const body = (await readJson(request)) as DsQueryRequest;
      const unknown = body.queries.find((query) => query.datasource?.uid !== DATASOURCE_UID);
      if (unknown) {
        sendJson(response, 404, { message: `Data source not found: ${unknown.datasource?.uid}` });
        return true;
      }
      queries.push(...body.queries.map((query) => query.rawSql));
      const answer = await answerDsQuery(pool, body);
      sendJson(response, answer.status, answer.body);
      return true;
    }
    if (url.pathname === `/api/plugins/${APP_PLUGIN_ID}/settings`) {
      if (request.method === 'POST') {
        settings = { ...settings, ...((await readJson(request)) as typeof settings) };
      }
      sendJson(response, 200, settings);
      return true;
    }
    sendJson(response, 404, { message: `this stand-in for Grafana does not serve ${url.pathname}` });
    return true;
  }

  return { queries, handle, close: () => pool.end() };
}
