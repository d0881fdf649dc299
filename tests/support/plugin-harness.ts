import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { build } from 'vite';
import { answerDsQuery, type DsQueryRequest } from './grafana-postgres.ts';

const HARNESS_DIR = fileURLToPath(new URL('../../plugin/harness/', import.meta.url));
const DIST_DIR = path.join(HARNESS_DIR, 'dist');
// Grafana serves @grafana/ui's icons from public/build/img/icons; the package ships them.
const ICONS_DIR = fileURLToPath(new URL('../../node_modules/@grafana/ui/dist/public/img/icons/', import.meta.url));
const ICONS_PATH = '/public/build/img/icons/';
const PLUGIN_ID = 'incidentlens-analytics-app';
export const DATASOURCE_UID = 'incident-lens-pg';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
  '.svg': 'image/svg+xml',
};

/** Builds the harness page (plugin/harness) with Vite. */
export async function buildHarness(): Promise<void> {
  await build({ configFile: path.join(HARNESS_DIR, 'vite.config.ts'), logLevel: 'warn' });
}

export interface HarnessServer {
  url: string;
  /** Every SQL text the page sent, after Grafana-side interpolation, before macro expansion. */
  queries: string[];
  close(): Promise<void>;
}

/**
 * Serves the built harness and stands in for the Grafana server: answers
 * /api/ds/query for the datasource uid incident-lens-pg by running the SQL
 * on `readerUrl` (connect as incident_lens_reader to prove its grants), and
 * keeps the app's plugin settings in memory.
 */
export async function startHarnessServer(options: { readerUrl: string; jsonData?: Record<string, unknown> }): Promise<HarnessServer> {
  if (!existsSync(path.join(DIST_DIR, 'index.html'))) await buildHarness();
  const pool = new pg.Pool({ connectionString: options.readerUrl, max: 4, application_name: 'grafana-harness' });
  const queries: string[] = [];
  let settings = { enabled: true, pinned: true, jsonData: options.jsonData ?? {} };

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ message: error.message }));
    });
  });

  async function readJson(request: http.IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  }

  function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://harness');
    if (url.pathname === '/api/ds/query' && request.method === 'POST') {
      const body = (await readJson(request)) as DsQueryRequest;
      const unknown = body.queries.find((query) => query.datasource?.uid !== DATASOURCE_UID);
      if (unknown) {
        sendJson(response, 404, { message: `Data source not found: ${unknown.datasource?.uid}` });
        return;
      }
      queries.push(...body.queries.map((query) => query.rawSql));
      const answer = await answerDsQuery(pool, body);
      sendJson(response, answer.status, answer.body);
      return;
    }
    if (url.pathname === `/api/plugins/${PLUGIN_ID}/settings`) {
      if (request.method === 'POST') settings = { ...settings, ...((await readJson(request)) as typeof settings) };
      sendJson(response, 200, settings);
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      sendJson(response, 404, { message: `the harness does not serve ${url.pathname}` });
      return;
    }
    if (url.pathname.startsWith(ICONS_PATH)) {
      const icon = path.join(ICONS_DIR, path.normalize(url.pathname.slice(ICONS_PATH.length)));
      const found = icon.startsWith(ICONS_DIR) && existsSync(icon);
      response.writeHead(found ? 200 : 404, { 'content-type': 'image/svg+xml' });
      response.end(found ? await readFile(icon) : '');
      return;
    }
    const file = path.join(DIST_DIR, path.normalize(url.pathname));
    const isAsset = file.startsWith(DIST_DIR) && path.extname(file) !== '' && existsSync(file);
    const target = isAsset ? file : path.join(DIST_DIR, 'index.html');
    response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(target)] ?? 'application/octet-stream' });
    response.end(await readFile(target));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queries,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}
