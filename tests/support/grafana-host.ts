import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { APP_PLUGIN_ID, createGrafanaApi, sendJson } from './grafana-api.ts';

/**
 * A stand-in for Grafana's frontend serving the built plugin: the host page
 * (plugin/harness/grafana-host) bundled with esbuild against the npm
 * packages of one Grafana release, SystemJS, the plugin's dist/ under
 * public/plugins/<id>/ as Grafana serves plugin assets, and the API of
 * grafana-api.ts.
 */

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const HOST_DIR = path.join(REPO, 'plugin/harness');
const HOST_ENTRY = path.join(HOST_DIR, 'grafana-host/host.tsx');
const PLUGIN_DIST = path.join(REPO, 'plugin/dist');
const PANEL_PLUGIN_ID = 'incidentlens-incidents-panel';
const CACHE_DIR = path.join(REPO, 'node_modules/.cache/incident-lens/grafana-hosts');

export interface GrafanaRuntime {
  /** Where the runtime's packages are installed: the package whose node_modules hold @grafana/ui and React. */
  packageDir: string;
}

/** Grafana 13.1 with React 18 is the plugin's own SDK; the newest 13.x with React 19 is a test-only workspace. */
export const GRAFANA_RUNTIMES: Record<string, GrafanaRuntime> = {
  'grafana-13.1': { packageDir: path.join(REPO, 'plugin') },
  'grafana-13.2': { packageDir: path.join(REPO, 'tests/grafana-runtimes') },
};

export interface BuiltHost {
  dir: string;
  grafanaVersion: string;
  reactVersion: string;
  /** The shared dependencies' import map the host registers, for checking the bundle's AMD dependencies against. */
  iconsDir: string;
}

function packageVersion(fromDir: string, name: string): { version: string; dir: string } {
  const file = createRequire(path.join(fromDir, 'package.json')).resolve(`${name}/package.json`);
  return { version: (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version, dir: path.dirname(file) };
}

/**
 * Bare imports of the host resolve from @grafana/ui's folder, as Grafana's
 * own app resolves them (react-router-dom v5 and its v6 compat sit beside
 * @grafana/ui); React and the @grafana packages resolve there from every
 * importer, so that one instance of each is bundled whatever npm hoisted.
 */
function runtimePackages(uiDir: string, runtimeDir: string): esbuild.Plugin {
  const singletons = /^(react|react-dom|scheduler|@grafana\/[^/]+)(\/.*)?$/;
  return {
    name: 'grafana-runtime-packages',
    setup(build) {
      build.onResolve({ filter: /^harness-plugin-page$/ }, () => ({
        path: path.join(runtimeDir, 'dist/esm/components/PluginPage.mjs'),
      }));
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'from-runtime') {
          return undefined;
        }
        if (!args.importer.startsWith(HOST_DIR) && !singletons.test(args.path)) {
          return undefined;
        }
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: uiDir,
          pluginData: 'from-runtime',
        });
        return resolved.errors.length
          ? { errors: resolved.errors }
          : { path: resolved.path, sideEffects: resolved.sideEffects };
      });
    },
  };
}

function hashSources(parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Bundles the host page for a runtime, once per content: the cache key is
 * the host's sources and the runtime's package versions, so a run builds
 * each runtime at most once and later runs reuse it.
 */
export async function buildGrafanaHost(runtimeName: string): Promise<BuiltHost> {
  const runtime = GRAFANA_RUNTIMES[runtimeName];
  if (!runtime) {
    throw new Error(`unknown Grafana runtime '${runtimeName}'`);
  }
  const ui = packageVersion(runtime.packageDir, '@grafana/ui');
  const react = packageVersion(ui.dir, 'react');
  const grafanaRuntime = packageVersion(ui.dir, '@grafana/runtime');
  const hostSources = ['host.tsx', 'boot.ts', 'systemjs.ts', '../backendSrv.ts'].map((file) =>
    path.join(HOST_DIR, 'grafana-host', file)
  );
  const key = hashSources([
    esbuild.version,
    ui.version,
    react.version,
    grafanaRuntime.version,
    ...hostSources.map((file) => readFileSync(file, 'utf8')),
  ]);
  const dir = path.join(CACHE_DIR, `${runtimeName}-${key}`);
  const host = {
    dir,
    grafanaVersion: ui.version,
    reactVersion: react.version,
    iconsDir: path.join(ui.dir, 'dist/public/img/icons'),
  };
  if (existsSync(path.join(dir, 'host.js'))) {
    return host;
  }

  // Built beside the final folder and renamed into place, so that a concurrent run never reads half a bundle.
  const staging = `${dir}.${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await esbuild.build({
    entryPoints: { host: HOST_ENTRY },
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify: process.env.HOST_MINIFY !== '0',
    outdir: staging,
    publicPath: '/public/build/',
    assetNames: 'assets/[name]-[hash]',
    loader: { '.svg': 'file', '.png': 'file', '.woff': 'file', '.woff2': 'file', '.ttf': 'file' },
    define: { 'process.env.NODE_ENV': '"production"', GRAFANA_VERSION: JSON.stringify(ui.version) },
    jsx: 'transform',
    plugins: [runtimePackages(ui.dir, grafanaRuntime.dir)],
    logLevel: 'error',
  });
  await rm(dir, { recursive: true, force: true });
  await rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
    // Another process finished the same bundle first: theirs is identical.
    if (!existsSync(path.join(dir, 'host.js'))) {
      throw error;
    }
    await rm(staging, { recursive: true, force: true });
  });
  return host;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
};

/** Grafana's index.html, reduced to the app's bundle, which brings SystemJS and registers the shared dependencies. */
function indexHtml(host: BuiltHost): string {
  const css = readdirSync(host.dir).includes('host.css')
    ? '<link rel="stylesheet" href="/public/build/host.css" />'
    : '';
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <base href="/" />
    <title>Grafana ${host.grafanaVersion} (stand-in)</title>
    ${css}
  </head>
  <body>
    <div id="root"></div>
    <script src="/public/build/host.js"></script>
  </body>
</html>`;
}

/** Maps a URL path under `prefix` to a file under `root`, refusing anything that escapes it. */
function fileUnder(root: string, prefix: string, pathname: string): string | undefined {
  if (!pathname.startsWith(prefix)) {
    return undefined;
  }
  const file = path.join(root, path.normalize(decodeURIComponent(pathname.slice(prefix.length))));
  return file.startsWith(root) ? file : undefined;
}

export interface GrafanaHost {
  url: string;
  queries: string[];
  /** Every asset path the browser asked for, to prove lazy chunks came from the plugin's public path. */
  served: string[];
  /** Asset paths answered 404. */
  missing: string[];
  close(): Promise<void>;
}

export async function startGrafanaHost(options: { host: BuiltHost; readerUrl: string }): Promise<GrafanaHost> {
  const api = createGrafanaApi({ readerUrl: options.readerUrl });
  const served: string[] = [];
  const missing: string[] = [];
  // Longest prefix first: the nested panel is served under its own id, as Grafana serves every plugin's folder.
  const roots: Array<[string, string]> = [
    [`/public/plugins/${PANEL_PLUGIN_ID}/`, path.join(PLUGIN_DIST, 'panels/incidents')],
    [`/public/plugins/${APP_PLUGIN_ID}/`, PLUGIN_DIST],
    ['/public/build/img/icons/', options.host.iconsDir],
    ['/public/build/', options.host.dir],
  ];

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    if (await api.handle(request, response)) {
      return;
    }
    const { pathname } = new URL(request.url ?? '/', 'http://grafana');
    if (pathname.startsWith('/public/')) {
      served.push(pathname);
      const file = roots
        .map(([prefix, root]) => fileUnder(root, prefix, pathname))
        .find((candidate) => candidate !== undefined);
      if (!file || !existsSync(file)) {
        missing.push(pathname);
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end(`not found: ${pathname}`);
        return;
      }
      response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
      response.end(await readFile(file));
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES['.html']! });
    response.end(indexHtml(options.host));
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: Error) => sendJson(response, 500, { message: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queries: api.queries,
    served,
    missing,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await api.close();
    },
  };
}
