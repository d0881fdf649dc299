import { readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { buildGrafanaHost, startGrafanaHost, type BuiltHost, type GrafanaHost } from './support/grafana-host.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';
import { buildPluginDist, PLUGIN_DIST } from './support/plugin-dist.ts';
import { readerUrl } from './support/reader-role.ts';

// The built plugin as a Grafana server loads it: dist/module.js through
// SystemJS as an AMD module, its dependencies from the host's shared
// packages, its lazy chunks from public/plugins/<id>/. Once on the
// @grafana/* 13.1 packages with React 18 and once on the newest 13.x with
// React 19; the pages read the fixture history from PostgreSQL as the reader.
// UPDATE_SCREENSHOTS=1 also writes the screenshots to docs/screenshots/.

const ARTIFACTS = fileURLToPath(new URL('./.artifacts/plugin-systemjs/', import.meta.url));
const DOCS_SCREENSHOTS = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const APP = '/a/incidentlens-analytics-app';
const RUNTIMES = ['grafana-13.1', 'grafana-13.2'] as const;
// Static files a Grafana server carries in its own public/ folder that the npm packages lack:
// the Inter fonts, and icons (spinner, angle-double-left, ...) missing from @grafana/ui's copy.
const GRAFANA_SERVER_ONLY = [/^\/public\/fonts\//, /^\/public\/build\/img\/icons\/unicons\/[a-z-]+\.svg$/];
const serverOnly = (url: string) => GRAFANA_SERVER_ONLY.some((pattern) => pattern.test(new URL(url).pathname));

let database: TestDatabase;
let reader: string;
let browser: Browser;

beforeAll(async () => {
  database = await createTestDatabase();
  await loadIncidentFixtures(database.url, { now: new Date() });
  reader = await readerUrl(database.url);
  await buildPluginDist();
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await database?.destroy();
});

/** The part of the SystemJS loader the checks read, in the page. */
interface SystemJs {
  resolve(id: string): string;
  has(id: string): boolean;
  get(id: string): unknown;
}

/** The dependencies a built AMD module asks its host for. */
function amdDependencies(file: string): string[] {
  const match = /define\((\[[^\]]*\])/.exec(readFileSync(path.join(PLUGIN_DIST, file), 'utf8'));
  if (!match) {
    throw new Error(`${file} is not an AMD module`);
  }
  return JSON.parse(match[1]!) as string[];
}

/** Whether `version` meets every comparator of a space-separated semver range such as ">=13.1.0 <13.3.0". */
function satisfies(version: string, range: string): boolean {
  const parts = (text: string) => text.split('.').map(Number);
  const compare = (a: number[], b: number[]) =>
    a.map((part, index) => part - (b[index] ?? 0)).find((difference) => difference !== 0) ?? 0;
  return range.split(/\s+/).every((comparator) => {
    const [, operator, bound] = /^(>=|<=|>|<|=)?(\d+\.\d+\.\d+)$/.exec(comparator) ?? [];
    if (!bound) {
      throw new Error(`unsupported comparator '${comparator}' in '${range}'`);
    }
    const difference = compare(parts(version), parts(bound));
    return {
      '>=': difference >= 0,
      '<=': difference <= 0,
      '>': difference > 0,
      '<': difference < 0,
      '=': difference === 0,
    }[operator ?? '='];
  });
}

describe.each(RUNTIMES)('the built plugin on %s', (runtime) => {
  let host: BuiltHost;
  let server: GrafanaHost;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    host = await buildGrafanaHost(runtime);
    server = await startGrafanaHost({ host, readerUrl: reader });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('console', (message) => {
      const missingServerFile =
        message.text().startsWith('Failed to load resource') && serverOnly(message.location().url);
      if (message.type() === 'error' && !missingServerFile) {
        consoleErrors.push(`${message.text()} (${message.location().url})`);
      }
    });
    page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
    await mkdir(path.join(ARTIFACTS, runtime), { recursive: true });
  }, 180_000);

  afterAll(async () => {
    await page?.close();
    await server?.close();
  });

  async function screenshot(name: string): Promise<void> {
    // Icons arrive as separate SVG requests after the content.
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: path.join(ARTIFACTS, runtime, `${name}.png`), fullPage: true });
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      await mkdir(path.join(DOCS_SCREENSHOTS, runtime), { recursive: true });
      await page.screenshot({ path: path.join(DOCS_SCREENSHOTS, runtime, `${name}.png`), fullPage: true });
    }
  }

  /** Opens a URL and waits for what it should show; on a timeout, keeps a screenshot of what it showed instead. */
  async function open(url: string, expected: Locator, name: string): Promise<void> {
    await page.goto(`${server.url}${url}`);
    try {
      await expected.waitFor({ timeout: 20_000 });
    } catch (error) {
      await screenshot(`${name}-failed`);
      throw new Error(`${name}: ${(error as Error).message}\nconsole errors: ${consoleErrors.join('\n')}`);
    }
    await screenshot(name);
  }

  const statValue = (region: string) =>
    page.getByRole('region', { name: region }).getByTestId('stat-value').textContent();

  it('provides the runtime it names, and every dependency the bundles declare as Grafana registers it', async () => {
    await open(`${APP}/overview`, page.getByRole('region', { name: 'MTTA (mean)' }), 'overview');
    const wanted = [
      ...new Set([...amdDependencies('module.js'), ...amdDependencies('panels/incidents/module.js')]),
    ].filter((name) => name !== 'module');
    const registered = await page.evaluate((names) => {
      const system = (globalThis as unknown as { System: SystemJs }).System;
      return names.map((name) => ({ name, url: system.resolve(name), loaded: system.has(`package:${name}`) }));
    }, wanted);
    expect(registered).toEqual(wanted.map((name) => ({ name, url: `package:${name}`, loaded: true })));
    const versions = await page.evaluate(() => {
      const host = globalThis as unknown as {
        System: SystemJs;
        grafanaBootData: { settings: { buildInfo: { version: string } } };
      };
      return {
        react: (host.System.get('package:react') as { version: string }).version,
        grafana: host.grafanaBootData.settings.buildInfo.version,
      };
    });
    expect(versions).toEqual({ react: host.reactVersion, grafana: host.grafanaVersion });
    expect(host.reactVersion.split('.')[0]).toBe(runtime === 'grafana-13.1' ? '18' : '19');
  });

  it('Overview shows the headline figures and trend charts from PostgreSQL', async () => {
    await open(`${APP}/overview`, page.getByRole('region', { name: 'MTTA (mean)' }), 'overview');
    await page.locator('[aria-label="MTTA and MTTR by week"] canvas').first().waitFor();
    expect(Number(await statValue('Incidents'))).toBeGreaterThan(0);
    expect(await statValue('Ack SLA compliance')).toMatch(/%$/);
    await screenshot('overview');
  });

  it('Reports shows a month of figures', async () => {
    const lastMonth = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    await open(`${APP}/reports?period=month&date=${lastMonth}&tz=UTC`, page.getByTestId('report-mtta-mean'), 'reports');
    expect(Number(await page.getByTestId('report-mtta-count').getAttribute('data-value'))).toBeGreaterThan(0);
    // The zone picker shows the zone in use, UTC included (one of Grafana's internal zones).
    await page.getByText('Coordinated Universal Time').waitFor({ timeout: 10_000 });
  });

  it('Incidents lists incidents and expands a timeline', async () => {
    await open(`${APP}/incidents`, page.getByTestId('incidents-count'), 'incidents');
    expect(Number((await page.getByTestId('incidents-count').textContent())?.split(' ')[0])).toBeGreaterThan(0);
    await page.getByRole('row').nth(1).getByRole('button').first().click();
    await page.getByRole('list', { name: 'Incident timeline' }).waitFor();
    await screenshot('incidents');
  });

  it('Action items lists overdue items first, 100 at a time', async () => {
    await open(`${APP}/action-items`, page.getByTestId('action-items-summary'), 'action-items');
    expect(await page.getByRole('row').locator('td:first-child').first().textContent()).toBe('overdue');
    // 150 more open items due in ten days, so that the list has two pages at least; removed after.
    const owner = new pg.Client({ connectionString: database.url });
    await owner.connect();
    try {
      await owner.query(`
        INSERT INTO action_items (source_id, external_id, title, status, status_category, owner, due_date, created_at,
                                  html_url)
        SELECT (SELECT id FROM sources WHERE kind = 'jira' ORDER BY id LIMIT 1), 'OPSX-' || g, 'Follow-up ' || g,
               'To Do', 'new', 'Ada', current_date + 10, now() - interval '1 day',
               'https://acme.atlassian.net/browse/OPSX-' || g
        FROM generate_series(1, 150) g`);
      await page.reload();
      const summary = page.getByTestId('action-items-summary');
      await summary.waitFor();
      const [, items, overdue] = /^(\d+) items, (\d+) overdue$/.exec((await summary.textContent()) ?? '') ?? [];
      const total = Number(items);
      expect(total).toBeGreaterThan(150);
      expect(Number(overdue)).toBeGreaterThan(0);
      const position = page.getByTestId('list-position');
      await page.getByText(`1–100 of ${total}`).waitFor();
      expect(await page.getByRole('row').count()).toBe(101);
      const firstRow = await page.getByRole('row').nth(1).textContent();

      // The server sends 100 rows at a time; Next asks for the next ones, Previous for the first page again.
      await page.getByRole('button', { name: 'Next' }).click();
      const shown = Math.min(100, total - 100);
      await page.getByText(`101–${100 + shown} of ${total}`).waitFor();
      expect(await page.getByRole('row').count()).toBe(shown + 1);
      expect(await page.getByRole('row').nth(1).textContent()).not.toBe(firstRow);
      await page.getByRole('button', { name: 'Previous' }).click();
      await page.getByText(`1–100 of ${total}`).waitFor();
      expect(await position.textContent()).toBe(`1–100 of ${total}`);
      expect(await page.getByRole('row').nth(1).textContent()).toBe(firstRow);
    } finally {
      await owner.query("DELETE FROM action_items WHERE external_id LIKE 'OPSX-%'");
      await owner.end();
    }
  });

  it('Data quality shows the counts of lens.data_quality and lists linking to the source records, page by page', async () => {
    // Thirty more incidents without severity, so that their list has two pages; removed after, for the pages checked next.
    const owner = new pg.Client({ connectionString: database.url });
    await owner.connect();
    try {
      await owner.query(`
        INSERT INTO incidents (source_id, external_id, number, title, status, severity, created_at, html_url)
        SELECT (SELECT id FROM sources WHERE kind = 'pagerduty' ORDER BY id LIMIT 1), 'PDQ' || g, 9000 + g,
               'Unmapped priority ' || g, 'resolved', 'UNKNOWN', now() - g * interval '5 hours',
               'https://acme.pagerduty.com/incidents/PDQ' || g
        FROM generate_series(1, 30) g`);
      await open(
        `${APP}/data-quality`,
        page.getByRole('region', { name: 'Last successful sync of each account' }).getByRole('table'),
        'data-quality'
      );
      // The fixture history has incidents without severity and action items without due dates in the last 30 days.
      const withoutSeverity = page.getByRole('region', { name: 'Incidents without severity' });
      const total = Number(await statValue('Incidents without severity'));
      expect(total).toBeGreaterThan(30);
      expect(await withoutSeverity.getByRole('heading').textContent()).toBe(`Incidents without severity ${total}`);
      expect(await withoutSeverity.getByRole('link').first().getAttribute('href')).toMatch(/^https:\/\//);
      expect(Number(await statValue('Action items without due date'))).toBeGreaterThan(0);
      // Its list holds an item without owner and due date once, which both counts count: its size is theirs less those.
      const actionItems = page.getByRole('region', { name: 'Action items without owner or due date' });
      const listed = (await actionItems.getByRole('row').count()) - 1;
      expect(listed).toBeGreaterThan(0);
      expect(await actionItems.getByTestId('list-position').textContent()).toBe(`1–${listed} of ${listed}`);

      // The server sends 25 rows at a time; Next asks for the rest, Previous for the first page again.
      const position = withoutSeverity.getByTestId('list-position');
      expect(await position.textContent()).toBe(`1–25 of ${total}`);
      const firstRow = await withoutSeverity.getByRole('link').first().textContent();
      await withoutSeverity.getByRole('button', { name: 'Next' }).click();
      await withoutSeverity.getByText(`26–${total} of ${total}`).waitFor();
      expect(await withoutSeverity.getByRole('link').count()).toBe(total - 25);
      expect(await withoutSeverity.getByRole('link').first().textContent()).not.toBe(firstRow);
      expect(await withoutSeverity.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
      await withoutSeverity.getByRole('button', { name: 'Previous' }).click();
      await withoutSeverity.getByText(`1–25 of ${total}`).waitFor();
      expect(await withoutSeverity.getByRole('link').first().textContent()).toBe(firstRow);
    } finally {
      await owner.query("DELETE FROM incidents WHERE external_id LIKE 'PDQ%'");
      await owner.end();
    }
  });

  it('SLA policy shows the targets in force', async () => {
    await open(`${APP}/sla-policy`, page.getByRole('row', { name: /SEV1/ }), 'sla-policy');
    expect(await page.getByRole('row', { name: /SEV1/ }).textContent()).toContain('15m');
  });

  it('Configuration, as an app page and as the plugin configuration tab, reaches the datasource', async () => {
    for (const [url, name] of [
      [`${APP}/configuration`, 'configuration'],
      ['/plugins/incidentlens-analytics-app?page=configuration', 'configuration-tab'],
    ] as const) {
      await open(url, page.getByRole('button', { name: 'Test connection' }), name);
      await page.getByRole('button', { name: 'Test connection' }).click();
      await page.getByText('Connected: the SLA policy has 4 severities.').waitFor();
      await screenshot(name);
    }
  });

  it('the nested panel renders a dashboard table query with the options its plugin declares', async () => {
    await open('/d/incidents', page.getByRole('row').nth(1), 'incidents-panel');
    expect(await page.getByRole('row').count()).toBeGreaterThan(1);
  });

  it('fetched the lazy chunks from the plugin public path, and the console shows no error', () => {
    const chunks = readdirSync(PLUGIN_DIST).filter((file) => /^\d+\.js$/.test(file));
    expect(chunks.length).toBeGreaterThan(0);
    const fetched = chunks.filter((chunk) =>
      server.served.includes(`/public/plugins/incidentlens-analytics-app/${chunk}`)
    );
    expect(fetched.length).toBeGreaterThan(0);
    expect(server.queries.length).toBeGreaterThan(0);
    expect(server.missing.filter((pathname) => !serverOnly(`http://grafana${pathname}`))).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});

describe('grafanaDependency', () => {
  it('covers the Grafana minors both runs load the bundle on, and nothing before or after them', async () => {
    const versions = await Promise.all(
      RUNTIMES.map(async (runtime) => (await buildGrafanaHost(runtime)).grafanaVersion)
    );
    const minors = versions.map((version) => version.split('.').slice(0, 2).map(Number) as [number, number]);
    for (const file of ['plugin.json', 'panels/incidents/plugin.json']) {
      const range = (
        JSON.parse(readFileSync(path.join(PLUGIN_DIST, file), 'utf8')) as {
          dependencies: { grafanaDependency: string };
        }
      ).dependencies.grafanaDependency;
      for (const version of versions) {
        expect(satisfies(version, range), `${file}: ${version} in ${range}`).toBe(true);
      }
      const [oldestMajor, oldestMinor] = minors[0]!;
      const [newestMajor, newestMinor] = minors[minors.length - 1]!;
      expect(satisfies(`${oldestMajor}.${oldestMinor - 1}.99`, range), `${file}: ${range} claims an older minor`).toBe(
        false
      );
      expect(satisfies(`${newestMajor}.${newestMinor + 1}.0`, range), `${file}: ${range} claims a newer minor`).toBe(
        false
      );
    }
  });
});
