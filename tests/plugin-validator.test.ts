import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPluginDist, PLUGIN_DIR, PLUGIN_DIST } from './support/plugin-dist.ts';

// The rules of Grafana's plugin validator (it cannot run here: it downloads a
// binary), checked against what `npm run build` leaves in plugin/dist, which
// is what a Grafana admin installs. Plus the access-control declarations of
// Grafana's RBAC for app plugins.

const APP_ID = 'incidentlens-analytics-app';

interface PluginJson {
  id: string;
  type: string;
  name: string;
  info: {
    description?: string;
    keywords?: string[];
    version: string;
    logos: { small: string; large: string };
    screenshots?: Array<{ name: string; path: string }>;
  };
  includes?: Array<{ type: string; name: string; path?: string; action?: string; role?: string; addToNav?: boolean }>;
  roles?: Array<{
    role: { name: string; description: string; permissions: Array<{ action: string; scope?: string }> };
    grants: string[];
  }>;
  dependencies: { grafanaDependency: string };
}

beforeAll(buildPluginDist, 300_000);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)]
  );
}

/** Every plugin.json in dist/ with the folder it describes: the app, and each nested plugin. */
function distPlugins(): Array<{ folder: string; json: PluginJson }> {
  return filesUnder(PLUGIN_DIST)
    .filter((file) => path.basename(file) === 'plugin.json')
    .map((file) => ({ folder: path.dirname(file), json: JSON.parse(readFileSync(file, 'utf8')) as PluginJson }));
}

const app = () => distPlugins().find((plugin) => plugin.json.id === APP_ID)!.json;

/** What the validator refuses in an SVG: script, event handlers, and anything fetched from elsewhere. */
export function unsafeSvgProblems(svg: string): string[] {
  const problems: string[] = [];
  if (/<script\b/i.test(svg)) {
    problems.push('has a <script> element');
  }
  if (/\son[a-z]+\s*=/i.test(svg)) {
    problems.push('has an event handler attribute');
  }
  if (/<foreignObject\b/i.test(svg)) {
    problems.push('has a <foreignObject> element');
  }
  for (const match of svg.matchAll(/(?:xlink:)?href\s*=\s*["']([^"']*)["']/gi)) {
    if (!match[1]!.startsWith('#')) {
      problems.push(`refers to ${match[1]}`);
    }
  }
  if (/url\(\s*["']?(?!#)[^)]/i.test(svg)) {
    problems.push('loads a url() that is not a local fragment');
  }
  return problems;
}

const TRACKERS = [
  'google-analytics.com',
  'googletagmanager.com',
  'gtag(',
  'cdn.segment.com',
  'api.segment.io',
  'hotjar.com',
  'mixpanel.com',
  'api.amplitude.com',
  'connect.facebook.net',
  'js.hs-scripts.com',
  'plausible.io',
];

describe('plugin/dist against the plugin validator rules', () => {
  it('has every logo and screenshot each plugin.json names, and the app declares screenshots', () => {
    for (const { folder, json } of distPlugins()) {
      const paths = [
        json.info.logos.small,
        json.info.logos.large,
        ...(json.info.screenshots ?? []).map((shot) => shot.path),
      ];
      for (const relative of paths) {
        expect(existsSync(path.join(folder, relative)), `${json.id}: ${relative}`).toBe(true);
      }
    }
    const screenshots = app().info.screenshots ?? [];
    expect(screenshots.length).toBeGreaterThan(0);
    for (const shot of screenshots) {
      expect(shot.name).not.toBe('');
      expect(readFileSync(path.join(PLUGIN_DIST, shot.path)).subarray(1, 4).toString()).toBe('PNG');
    }
  });

  it('ships its own README (not the template one), a CHANGELOG and a LICENSE', () => {
    const readme = readFileSync(path.join(PLUGIN_DIST, 'README.md'), 'utf8');
    expect(readme).toMatch(/^# Incident Lens/);
    // Phrases of create-plugin's template README, which the validator rejects.
    expect(readme).not.toMatch(
      /This README file is going to be the one displayed|Plugin Template|Uncomment and replace/i
    );
    expect(readFileSync(path.join(PLUGIN_DIST, 'CHANGELOG.md'), 'utf8')).toMatch(
      /^# Changelog\n[\s\S]*## \d+\.\d+\.\d+/
    );
    expect(readFileSync(path.join(PLUGIN_DIST, 'LICENSE'), 'utf8')).toContain('Apache License');
  });

  it('ships a source map beside every script', () => {
    const scripts = filesUnder(PLUGIN_DIST).filter((file) => file.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(2);
    for (const script of scripts) {
      expect(existsSync(`${script}.map`), path.relative(PLUGIN_DIST, script)).toBe(true);
    }
  });

  it('gives every plugin the package version, an id, keywords and a description', () => {
    const { version } = JSON.parse(readFileSync(path.join(PLUGIN_DIR, 'package.json'), 'utf8')) as { version: string };
    const plugins = distPlugins();
    expect(plugins.map((plugin) => plugin.json.type).sort()).toEqual(['app', 'panel']);
    for (const { json } of plugins) {
      expect(json.info.version, json.id).toBe(version);
      expect(json.id).not.toBe('');
      expect(json.info.keywords?.length, json.id).toBeGreaterThan(0);
      expect(json.info.description?.length ?? 0, json.id).toBeGreaterThan(20);
    }
  });

  it('names every plugin <org>-<name>-<type>, the nested ones under the app organisation', () => {
    const org = APP_ID.split('-')[0];
    for (const { json } of distPlugins()) {
      expect(json.id).toMatch(/^[a-z0-9]+-[a-z0-9]+-(app|panel|datasource)$/);
      expect(json.id.endsWith(`-${json.type}`), json.id).toBe(true);
      expect(json.id.split('-')[0], json.id).toBe(org);
    }
  });

  it('has no unsafe SVG and no tracking script', () => {
    const files = filesUnder(PLUGIN_DIST);
    const svgs = files.filter((file) => file.endsWith('.svg'));
    expect(svgs.length).toBeGreaterThan(0);
    for (const svg of svgs) {
      expect(unsafeSvgProblems(readFileSync(svg, 'utf8')), svg).toEqual([]);
    }
    for (const file of files.filter((candidate) => /\.(js|html|md|json)$/.test(candidate))) {
      const text = readFileSync(file, 'utf8');
      expect(
        TRACKERS.filter((tracker) => text.includes(tracker)),
        path.relative(PLUGIN_DIST, file)
      ).toEqual([]);
    }
  });

  it('unsafeSvgProblems names each thing the validator refuses', () => {
    const svg =
      '<svg onload="x()"><script>alert(1)</script><image href="https://evil.example/p.png"/><use xlink:href="#ok"/>' +
      '<foreignObject/><rect style="fill:url(https://evil.example/f)"/></svg>';
    expect(unsafeSvgProblems(svg)).toEqual([
      'has a <script> element',
      'has an event handler attribute',
      'has a <foreignObject> element',
      'refers to https://evil.example/p.png',
      'loads a url() that is not a local fragment',
    ]);
  });

  it('zips into the archive layout Grafana installs: one folder named by the plugin id', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'plugin-archive-'));
    try {
      const archive = path.join(work, `${APP_ID}.zip`);
      const run = promisify(execFile);
      // The README's commands: copy dist/ to a folder named by the id, zip that folder.
      await run('cp', ['-r', PLUGIN_DIST, path.join(work, APP_ID)]);
      await run('zip', ['-qr', archive, APP_ID], { cwd: work });
      const listing = (await run('unzip', ['-Z1', archive])).stdout.split('\n').filter(Boolean);
      expect(listing).toContain(`${APP_ID}/module.js`);
      expect(listing).toContain(`${APP_ID}/plugin.json`);
      expect(listing).toContain(`${APP_ID}/panels/incidents/module.js`);
      expect(listing.every((entry) => entry.startsWith(`${APP_ID}/`))).toBe(true);
      expect(statSync(archive).size).toBeGreaterThan(0);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe('access control in plugin.json (Grafana RBAC for app plugins)', () => {
  const BASIC_ROLES = new Set(['Viewer', 'Editor', 'Admin']);

  it('declares a reader role and an admin role, with actions prefixed by the plugin id, granted to basic roles', () => {
    const roles = app().roles ?? [];
    const actionsOf = (name: string) =>
      roles.find((role) => role.role.name === name)?.role.permissions.map((permission) => permission.action);
    expect(actionsOf('Incident Lens Reader')).toEqual([`${APP_ID}.pages:read`]);
    expect(actionsOf('Incident Lens Admin')).toEqual([`${APP_ID}.pages:read`, `${APP_ID}.configuration:write`]);
    expect(Object.fromEntries(roles.map((role) => [role.role.name, role.grants]))).toEqual({
      'Incident Lens Reader': ['Viewer'],
      'Incident Lens Admin': ['Admin'],
    });
    for (const { role, grants } of roles) {
      expect(role.description.length, role.name).toBeGreaterThan(10);
      expect(
        grants.every((grant) => BASIC_ROLES.has(grant)),
        role.name
      ).toBe(true);
      for (const { action } of role.permissions) {
        expect(action).toMatch(new RegExp(`^${APP_ID}\\.[a-z-]+:[a-z]+$`));
      }
    }
  });

  it('makes every page name the action it needs, Configuration the admin one, and each action granted by a role', () => {
    const pages = (app().includes ?? []).filter((include) => include.type === 'page');
    expect(pages.length).toBeGreaterThan(5);
    const granted = new Set(
      (app().roles ?? []).flatMap((role) => role.role.permissions.map((permission) => permission.action))
    );
    for (const page of pages) {
      const needed = page.name === 'Configuration' ? `${APP_ID}.configuration:write` : `${APP_ID}.pages:read`;
      expect(page.action, page.name).toBe(needed);
      expect(granted.has(page.action!), page.name).toBe(true);
      // With an action, Grafana ignores the legacy role field; keeping both would mislead a reader.
      expect(page.role, page.name).toBeUndefined();
    }
  });
});
