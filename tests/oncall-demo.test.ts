import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import type { ReportJson } from '@incident-lens/common/report';
import { launchChromium } from './support/chromium.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { buildGrafanaHost, startGrafanaHost, type GrafanaHost } from './support/grafana-host.ts';
import { buildPluginDist } from './support/plugin-dist.ts';
import { readerUrl } from './support/reader-role.ts';

// On-call load and noise as `incident-lens demo` leaves them: the demo command
// itself fills the database (its simulated PagerDuty and Jira, read by the
// real syncs) and writes its HTML report; the report and the built plugin's
// On-call page on both Grafana runtimes must show every kind of case the
// simulated account holds. UPDATE_SCREENSHOTS=1 writes the pictures of
// docs/screenshots/ (grafana-13.x/on-call.png, demo-report-on-call.png).

const ARTIFACTS = fileURLToPath(new URL('./.artifacts/oncall-demo/', import.meta.url));
const DOCS_SCREENSHOTS = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const APP = '/a/incidentlens-analytics-app';
const RUNTIMES = ['grafana-13.1', 'grafana-13.2'] as const;

let database: TestDatabase;
let workDir: string;
let browser: Browser;
let reportFile: string;
let report: ReportJson;

/** The CLI as a user runs it, from a directory of its own (no incident-lens.yaml: the defaults). */
async function cli(args: string[]): Promise<string> {
  const result = await runCli(args, { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'warn' }, workDir);
  if (result.code !== 0) {
    throw new Error(`incident-lens ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  }
  return result.stdout;
}

async function save(page: Page, file: string, options: Parameters<Page['screenshot']>[0] = {}): Promise<void> {
  await mkdir(path.dirname(path.join(ARTIFACTS, file)), { recursive: true });
  await page.screenshot({ ...options, path: path.join(ARTIFACTS, file) });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    await mkdir(path.dirname(path.join(DOCS_SCREENSHOTS, file)), { recursive: true });
    await page.screenshot({ ...options, path: path.join(DOCS_SCREENSHOTS, file) });
  }
}

beforeAll(async () => {
  database = await createTestDatabase();
  workDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-demo-'));
  await cli(['demo']);
  const reports = path.join(workDir, '.incident-lens/reports');
  const [file] = await readdir(reports);
  reportFile = path.join(reports, file!);
  // The month the demo reported on, in the same (default) zone.
  const month = /incident-report-(\d{4}-\d{2})\.html$/.exec(file!)![1]!;
  report = JSON.parse(await cli(['report', '--period', 'month', '--date', month, '--format', 'json'])) as ReportJson;
  await buildPluginDist();
  browser = await launchChromium();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await database?.destroy();
  if (workDir) {
    await rm(workDir, { recursive: true, force: true });
  }
});

describe('the demo’s on-call figures', () => {
  it('hold every case of the simulated account: zones with a half-hour offset, sleep hours, auto-resolved and transient incidents', () => {
    const zones = new Set(report.onCall.responders.map((responder) => responder.timeZone));
    expect(zones.size).toBeGreaterThanOrEqual(3);
    expect(zones).toContain('Asia/Kolkata');
    expect(report.onCall.interruptions.sleep).toBeGreaterThan(0);
    expect(report.onCall.nightsInterrupted).toBeGreaterThan(0);
    expect(report.onCall.notifications).toBeGreaterThan(report.onCall.interruptions.total);
    expect(report.noise.autoResolved).toBeGreaterThan(0);
    expect(report.noise.transient).toBeGreaterThan(0);
    expect(report.onCall.heatmap.length).toBeGreaterThan(24);
  });

  it('the demo’s HTML report shows them with the hour-of-week heatmap', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    try {
      await page.goto(pathToFileURL(reportFile).href);
      const heading = page.getByRole('heading', { name: 'On-call load' });
      const services = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Transient' }) });
      const top = (await heading.boundingBox())!;
      const bottom = (await services.boundingBox())!;
      // One SVG heatmap cell per hour of week that had an interruption, drawn on the server.
      const heatmap = page.locator('figure', { hasText: 'Interruptions by hour of week' }).locator('svg');
      expect(await heatmap.count()).toBe(1);
      expect(await page.getByRole('row').filter({ hasText: 'Asia/Kolkata' }).count()).toBeGreaterThan(0);
      await save(page, 'demo-report-on-call.png', {
        fullPage: true,
        clip: { x: 0, y: top.y - 16, width: 1200, height: bottom.y + bottom.height - top.y + 32 },
      });
    } finally {
      await page.close();
    }
  });

  describe.each(RUNTIMES)('the built plugin’s On-call page on %s', (runtime) => {
    let server: GrafanaHost;
    let page: Page;

    beforeAll(async () => {
      server = await startGrafanaHost({
        host: await buildGrafanaHost(runtime),
        readerUrl: await readerUrl(database.url),
      });
      page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    }, 180_000);

    afterAll(async () => {
      await page?.close();
      await server?.close();
    });

    it('shows responders in their zones, the heatmap and the noise of the last 30 days', async () => {
      await page.goto(`${server.url}${APP}/on-call`);
      const responders = page.getByRole('region', { name: 'Responders' });
      await responders.getByRole('row').nth(1).waitFor({ timeout: 30_000 });
      await page.locator('[aria-label="Interruptions by band, per week"] canvas').first().waitFor();
      const zones = new Set(await responders.getByRole('row').locator('td:nth-child(2)').allTextContents());
      expect(zones.size).toBeGreaterThanOrEqual(3);
      expect(zones).toContain('Asia/Kolkata');
      expect(
        await page
          .getByRole('table', { name: /Interruptions by hour of week/ })
          .getByRole('cell')
          .count()
      ).toBe(7 * 24);
      const noise = page.getByRole('region', { name: 'Noise by service' });
      expect(await noise.getByRole('row').count()).toBeGreaterThan(2);
      const tile = (name: string) => page.getByRole('region', { name }).getByTestId('stat-value').textContent();
      expect(Number(await tile('Sleep-hour interruptions'))).toBeGreaterThan(0);
      expect(await tile('Auto-resolved')).not.toBe('0.0%');
      // Icons arrive as separate SVG requests after the content; the chart animates in.
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(500);
      await save(page, path.join(runtime, 'on-call.png'), { fullPage: true });
    });
  });
});
