import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPluginDist, PLUGIN_DIR as PLUGIN, PLUGIN_DIST as DIST } from './support/plugin-dist.ts';

// `npm run build` must leave plugin/dist loadable by Grafana as it is:
// module.js and plugin.json at the top, the nested panel in its own folder,
// the included dashboards, and the placeholders of plugin.json filled in.

beforeAll(buildPluginDist, 300_000);

function distJson<T>(relative: string): T {
  return JSON.parse(readFileSync(path.join(DIST, relative), 'utf8')) as T;
}

describe('plugin/dist after npm run build', () => {
  it('has the app module and a plugin.json with version and date filled in', () => {
    const pluginJson = distJson<{
      id: string;
      info: { version: string; updated: string };
      includes: Array<{ type: string; path?: string }>;
    }>('plugin.json');
    const packageJson = JSON.parse(readFileSync(path.join(PLUGIN, 'package.json'), 'utf8')) as { version: string };
    expect(pluginJson.id).toBe('incidentlens-analytics-app');
    expect(pluginJson.info.version).toBe(packageJson.version);
    expect(pluginJson.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(JSON.stringify(pluginJson)).not.toContain('%PLUGIN_ID%');
    const module = readFileSync(path.join(DIST, 'module.js'), 'utf8');
    // An AMD module that leaves React and the Grafana packages to the host.
    expect(module).toMatch(/^\/\* \[create-plugin\] version: /);
    expect(module).toContain('define(');
    expect(module).toContain('"@grafana/data"');
    console.info(`plugin/dist/module.js: ${statSync(path.join(DIST, 'module.js')).size} bytes`);
  });

  it('has the nested panel with its own module, plugin.json and logo', () => {
    const panel = distJson<{ id: string; info: { version: string; logos: { small: string } } }>(
      'panels/incidents/plugin.json'
    );
    expect(panel.id).toBe('incidentlens-incidents-panel');
    expect(panel.info.version).not.toContain('%');
    expect(existsSync(path.join(DIST, 'panels/incidents/module.js'))).toBe(true);
    expect(existsSync(path.join(DIST, 'panels/incidents', panel.info.logos.small))).toBe(true);
  });

  it('carries no test file, and no test is bundled into its modules', () => {
    const files = readdirSync(DIST, { recursive: true, encoding: 'utf8' });
    expect(files.filter((file) => /\.test\.|__snapshots__/.test(file))).toEqual([]);
    const maps = files.filter((file) => file.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources } = distJson<{ sources: string[] }>(map);
      expect(sources.length, map).toBeGreaterThan(0);
      expect(
        sources.filter((source) => /\.test\.tsx?$/.test(source)),
        map
      ).toEqual([]);
    }
  });

  it('has every dashboard the app includes', () => {
    const pluginJson = distJson<{ includes: Array<{ type: string; path?: string }> }>('plugin.json');
    for (const include of pluginJson.includes.filter((candidate) => candidate.type === 'dashboard')) {
      expect(existsSync(path.join(DIST, String(include.path))), String(include.path)).toBe(true);
    }
  });
});
