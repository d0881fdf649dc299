import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { createGrafanaApi, sendJson } from './grafana-api.ts';

const HARNESS_DIR = fileURLToPath(new URL('../../plugin/harness/', import.meta.url));
const DIST_DIR = path.join(HARNESS_DIR, 'dist');
// Grafana serves @grafana/ui's icons from public/build/img/icons; the package ships them.
const ICONS_DIR = fileURLToPath(new URL('../../node_modules/@grafana/ui/dist/public/img/icons/', import.meta.url));
const ICONS_PATH = '/public/build/img/icons/';

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
 * Serves the built harness and stands in for the Grafana server (see
 * grafana-api.ts): SQL through the datasource runs on `readerUrl`.
 */
export async function startHarnessServer(options: {
  readerUrl: string;
  jsonData?: Record<string, unknown>;
}): Promise<HarnessServer> {
  if (!existsSync(path.join(DIST_DIR, 'index.html'))) {
    await buildHarness();
  }
  const api = createGrafanaApi(options);

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: Error) => sendJson(response, 500, { message: error.message }));
  });

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (await api.handle(request, response)) {
      return;
    }
    const url = new URL(request.url ?? '/', 'http://harness');
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
    queries: api.queries,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
    },
  };
}
