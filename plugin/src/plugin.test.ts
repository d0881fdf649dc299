import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PANEL_ID, PLUGIN_ID, ROUTES } from './constants';

// The rules Grafana's plugin.json schema sets (docs/sources/developers/plugins/plugin.schema.json)
// and that its plugin loader relies on, checked for the app and its nested panel.

const SRC = import.meta.dirname;
const REPO = path.resolve(SRC, '../..');
const ID_PATTERN = /^[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource|secretsmanager|transformer)$/;
const VERSION_PATTERN = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)|(%VERSION%)$/;
const UPDATED_PATTERN = /^(\d{4}-\d{2}-\d{2}|%TODAY%)$/;
const GRAFANA_DEPENDENCY_PATTERN =
  /^(<=|>=|<|>|=|~|\^)?([0-9]+)(\.[0-9x*]+)(\.[0-9x*]+)?(\s(<=|>=|<|=>)?([0-9]+)(\.[0-9x]+)(\.[0-9x]+))?$/;
const TOP_LEVEL_KEYS = new Set([
  '$schema',
  'id',
  'type',
  'name',
  'info',
  'dependencies',
  'includes',
  'alerting',
  'annotations',
  'autoEnabled',
  'backend',
  'category',
  'executable',
  'logs',
  'metrics',
  'preload',
  'routes',
  'skipDataQuery',
  'state',
  'streaming',
  'tracing',
  'roles',
  'extensions',
  'iam',
  'languages',
  'buildMode',
]);
const INFO_KEYS = new Set([
  'author',
  'build',
  'description',
  'keywords',
  'links',
  'logos',
  'screenshots',
  'updated',
  'version',
]);
const INCLUDE_TYPES = new Set(['dashboard', 'page', 'panel', 'datasource', 'secretsmanager']);
const ROLES = new Set(['Admin', 'Editor', 'Viewer']);

interface PluginJson {
  [key: string]: unknown;
  id: string;
  type: string;
  name: string;
  info: Record<string, unknown> & {
    logos: { small: string; large: string };
    keywords: string[];
    version: string;
    updated: string;
  };
  dependencies: { grafanaDependency: string; plugins?: unknown[] };
  includes?: Array<Record<string, unknown> & { type: string; name?: string; path?: string; role?: string }>;
}

function readPluginJson(relative: string): PluginJson {
  return JSON.parse(readFileSync(path.join(SRC, relative), 'utf8')) as PluginJson;
}

/** Every schema violation of one plugin.json, as readable messages; empty when valid. */
function pluginJsonProblems(json: PluginJson, folder: string): string[] {
  const problems: string[] = [];
  for (const key of ['type', 'name', 'id', 'info', 'dependencies']) {
    if (!(key in json)) {
      problems.push(`missing required '${key}'`);
    }
  }
  for (const key of Object.keys(json)) {
    if (!TOP_LEVEL_KEYS.has(key)) {
      problems.push(`unknown top-level key '${key}'`);
    }
  }
  if (!ID_PATTERN.test(json.id)) {
    problems.push(`id '${json.id}' does not follow <org>-<name>-<type>`);
  }
  if (!json.id.endsWith(`-${json.type}`)) {
    problems.push(`id '${json.id}' does not end with its type '${json.type}'`);
  }
  const info = json.info ?? {};
  for (const key of ['logos', 'version', 'updated', 'keywords']) {
    if (!(key in info)) {
      problems.push(`info is missing '${key}'`);
    }
  }
  for (const key of Object.keys(info)) {
    if (!INFO_KEYS.has(key)) {
      problems.push(`unknown info key '${key}'`);
    }
  }
  if (!Array.isArray(info.keywords) || info.keywords.length === 0) {
    problems.push('info.keywords needs at least one keyword');
  }
  if (!VERSION_PATTERN.test(String(info.version))) {
    problems.push(`info.version '${info.version}' is not semver`);
  }
  if (!UPDATED_PATTERN.test(String(info.updated))) {
    problems.push(`info.updated '${info.updated}' is not YYYY-MM-DD`);
  }
  for (const size of ['small', 'large'] as const) {
    const logo = info.logos?.[size];
    if (!logo) {
      problems.push(`info.logos.${size} is missing`);
    } else if (!logo.endsWith('.svg')) {
      problems.push(`info.logos.${size} must be an SVG`);
    } else if (!existsSync(path.join(folder, logo))) {
      problems.push(`info.logos.${size} '${logo}' does not exist`);
    }
  }
  if (!json.dependencies?.grafanaDependency) {
    problems.push('dependencies.grafanaDependency is missing');
  } else if (!GRAFANA_DEPENDENCY_PATTERN.test(json.dependencies.grafanaDependency)) {
    problems.push(`dependencies.grafanaDependency '${json.dependencies.grafanaDependency}' is not a semver range`);
  }
  for (const include of json.includes ?? []) {
    if (!INCLUDE_TYPES.has(include.type)) {
      problems.push(`include type '${include.type}' is not one Grafana knows`);
    }
    if (include.role !== undefined && !ROLES.has(include.role)) {
      problems.push(`include role '${include.role}' is not Admin, Editor or Viewer`);
    }
    if (!include.name) {
      problems.push(`an include of type ${include.type} has no name`);
    }
  }
  return problems;
}

describe('src/plugin.json (the app)', () => {
  const app = readPluginJson('plugin.json');

  it('passes the schema rules', () => {
    expect(pluginJsonProblems(app, SRC)).toEqual([]);
    expect(app.id).toBe(PLUGIN_ID);
    expect(app.type).toBe('app');
  });

  it('declares an honest Grafana dependency: at least the major of the SDK it is built against', () => {
    const sdk = JSON.parse(readFileSync(path.join(REPO, 'node_modules/@grafana/data/package.json'), 'utf8')) as {
      version: string;
    };
    const major = Number(/\d+/.exec(app.dependencies.grafanaDependency)?.[0]);
    expect(major).toBe(Number(sdk.version.split('.')[0]));
  });

  it('lists every routed page, each under /a/%PLUGIN_ID%/, with Overview as the default', () => {
    const pages = (app.includes ?? []).filter((include) => include.type === 'page');
    expect(pages.map((page) => page.path)).toEqual(Object.values(ROUTES).map((route) => `/a/%PLUGIN_ID%/${route}`));
    expect(pages.filter((page) => page.defaultNav).map((page) => page.name)).toEqual(['Overview']);
    expect(pages.every((page) => page.addToNav)).toBe(true);
  });

  it('includes the nested panel under the name the panel declares', () => {
    const panel = readPluginJson('panels/incidents/plugin.json');
    const panelIncludes = (app.includes ?? []).filter((include) => include.type === 'panel');
    expect(panelIncludes.map((include) => include.name)).toEqual([panel.name]);
  });

  it('includes dashboards that exist in provisioning/dashboards with the uid they declare', () => {
    const dashboards = (app.includes ?? []).filter((include) => include.type === 'dashboard');
    expect(dashboards).toHaveLength(4);
    for (const include of dashboards) {
      const file = path.join(REPO, 'provisioning', String(include.path));
      expect(existsSync(file), `${include.path} is missing`).toBe(true);
      const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { uid: string; title: string };
      expect(dashboard.uid).toBe(include.uid);
      expect(dashboard.title).toBe(include.name);
    }
  });
});

describe('src/panels/incidents/plugin.json (the nested panel)', () => {
  const panel = readPluginJson('panels/incidents/plugin.json');

  it('passes the schema rules with the documented id', () => {
    expect(pluginJsonProblems(panel, path.join(SRC, 'panels/incidents'))).toEqual([]);
    expect(panel.id).toBe(PANEL_ID);
    expect(panel.type).toBe('panel');
    expect(existsSync(path.join(SRC, 'panels/incidents/module.ts'))).toBe(true);
  });
});

describe('pluginJsonProblems', () => {
  it('names each broken rule', () => {
    const broken = {
      id: 'IncidentLens',
      type: 'app',
      name: 'x',
      info: { logos: { small: 'img/nope.png', large: 'img/logo.svg' }, keywords: [], version: 'one', updated: 'today' },
      dependencies: { grafanaDependency: 'latest' },
      includes: [{ type: 'widget', name: 'w', role: 'Owner' }],
      colour: 'blue',
    } as unknown as PluginJson;
    expect(pluginJsonProblems(broken, SRC)).toEqual([
      "unknown top-level key 'colour'",
      "id 'IncidentLens' does not follow <org>-<name>-<type>",
      "id 'IncidentLens' does not end with its type 'app'",
      'info.keywords needs at least one keyword',
      "info.version 'one' is not semver",
      "info.updated 'today' is not YYYY-MM-DD",
      'info.logos.small must be an SVG',
      "dependencies.grafanaDependency 'latest' is not a semver range",
      "include type 'widget' is not one Grafana knows",
      "include role 'Owner' is not Admin, Editor or Viewer",
    ]);
  });
});
