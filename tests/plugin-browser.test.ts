import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';
import { buildHarness, startHarnessServer, type HarnessServer } from './support/plugin-harness.ts';
import { readerUrl } from './support/reader-role.ts';

const ARTIFACTS = fileURLToPath(new URL('./.artifacts/plugin/', import.meta.url));
const APP = '/a/incidentlens-analytics-app';

let database: TestDatabase;
let harness: HarnessServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  database = await createTestDatabase();
  await loadIncidentFixtures(database.url, { now: new Date() });
  await buildHarness();
  harness = await startHarnessServer({ readerUrl: await readerUrl(database.url) });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await database?.destroy();
});

/** The figures the Reports page shows with data-value attributes, as lens.period_metrics returns them. */
async function reportFigures(date: string, timezone: string, asOf: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT * FROM lens.period_metrics('month', $1::date, $2::timestamptz, $3, ARRAY['total'])`,
      [date, asOf, timezone]
    );
    const total = rows[0] as Record<string, number | null>;
    const value = (name: string) => (total[name] === null ? 'null' : String(total[name]));
    return {
      'report-mtta-count': value('mtta_count'),
      'report-mtta-mean': value('mtta_mean_seconds'),
      'report-mtta-median': value('mtta_median_seconds'),
      'report-mtta-p90': value('mtta_p90_seconds'),
      'report-mtta-p95': value('mtta_p95_seconds'),
      'report-mttr-count': value('mttr_count'),
      'report-mttr-mean': value('mttr_mean_seconds'),
      'report-mttr-median': value('mttr_median_seconds'),
      'report-mttr-p90': value('mttr_p90_seconds'),
      'report-mttr-p95': value('mttr_p95_seconds'),
      'report-sla-ack-met': value('ack_met'),
      'report-sla-ack-breached': value('ack_breached'),
      'report-sla-ack-pending': value('ack_pending'),
      'report-sla-ack-compliance': value('ack_compliance'),
      'report-sla-resolve-met': value('resolve_met'),
      'report-sla-resolve-breached': value('resolve_breached'),
      'report-sla-resolve-pending': value('resolve_pending'),
      'report-sla-resolve-compliance': value('resolve_compliance'),
      'report-escalation-rate': value('escalation_rate'),
      'report-repeat-rate': value('repeat_rate'),
    };
  } finally {
    await client.end();
  }
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Waits for what a page should show; on a timeout, keeps a screenshot of what it showed instead. */
async function waitToSee(locator: ReturnType<Page['getByRole']>, name: string): Promise<void> {
  try {
    await locator.waitFor({ timeout: 15_000 });
  } catch (error) {
    await screenshot(`${name}-failed`);
    throw error;
  }
}

describe('plugin pages in Chromium against PostgreSQL', () => {
  it('Overview shows the headline figures, severities and trend charts', async () => {
    await page.goto(`${harness.url}${APP}/overview`);
    await waitToSee(page.getByRole('region', { name: 'MTTA (mean)' }), 'overview');
    await page.locator('[aria-label="MTTA and MTTR by week"] canvas').first().waitFor();
    await page.waitForTimeout(300);
    await screenshot('overview');
    expect(await page.getByRole('region', { name: 'Incidents' }).getByTestId('stat-value').textContent()).toMatch(/^\d+$/);
    expect(await page.getByRole('region', { name: 'Ack SLA compliance' }).getByTestId('stat-value').textContent()).toMatch(/%$/);
    expect(await page.getByRole('region', { name: 'Incidents by severity' }).getByText('SEV1').count()).toBe(1);
  });

  it('Reports shows the period figures of SQL for the same period, zone and as-of instant', async () => {
    const asOf = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    const lastMonth = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
    const query = new URLSearchParams({ period: 'month', date: lastMonth, tz: 'Europe/Berlin', asOf });
    await page.goto(`${harness.url}${APP}/reports?${query}`);
    await waitToSee(page.getByTestId('report-mtta-mean'), 'reports');
    await screenshot('reports');
    const expected = await reportFigures(lastMonth, 'Europe/Berlin', asOf);
    const shown: Record<string, string | null> = {};
    for (const id of Object.keys(expected)) shown[id] = await page.getByTestId(id).getAttribute('data-value');
    expect(shown).toEqual(expected);

    await page.getByRole('button', { name: 'Previous month' }).click();
    await expect.poll(() => page.getByTestId('report-period').textContent()).not.toContain(`from ${lastMonth.slice(0, 7)}-01`);
    expect(new URL(page.url()).searchParams.get('date')?.slice(0, 7)).not.toBe(lastMonth.slice(0, 7));
    await screenshot('reports-previous-month');
  });

  it('Incidents lists incidents and filters them by severity', async () => {
    await page.goto(`${harness.url}${APP}/incidents`);
    await waitToSee(page.getByTestId('incidents-count'), 'incidents');
    const before = Number((await page.getByTestId('incidents-count').textContent())?.split(' ')[0]);
    expect(before).toBeGreaterThan(0);
    await page.getByRole('row').nth(1).getByRole('button').first().click();
    await waitToSee(page.getByRole('list', { name: 'Incident timeline' }), 'incidents-timeline');
    await screenshot('incidents');
    await page.getByLabel('Filter by severity').click();
    await page.getByRole('option', { name: 'SEV1' }).click();
    await page.keyboard.press('Escape');
    await expect.poll(async () => Number((await page.getByTestId('incidents-count').textContent())?.split(' ')[0])).toBeLessThan(before);
    const severities = await page.getByRole('row').locator('[aria-label^="severity "]').allTextContents();
    expect(new Set(severities)).toEqual(new Set(['SEV1']));
    await screenshot('incidents-filtered-sev1');
  });

  it('Action items shows overdue items first', async () => {
    await page.goto(`${harness.url}${APP}/action-items`);
    await waitToSee(page.getByTestId('action-items-summary'), 'action-items');
    await screenshot('action-items');
    const states = await page.getByRole('row').locator('td:first-child').allTextContents();
    const firstNotOverdue = states.findIndex((state) => state !== 'overdue');
    expect(states[0]).toBe('overdue');
    expect(firstNotOverdue).toBeGreaterThan(0);
    expect(states.slice(firstNotOverdue)).not.toContain('overdue');
    expect(states).toContain('open');
  });

  it('SLA policy shows the targets in force', async () => {
    await page.goto(`${harness.url}${APP}/sla-policy`);
    await page.getByRole('row', { name: /SEV1/ }).waitFor();
    await screenshot('sla-policy');
    expect(await page.getByRole('row', { name: /SEV1/ }).textContent()).toContain('15m');
  });

  it('Configuration tests the datasource connection as the reader role', async () => {
    await page.goto(`${harness.url}${APP}/configuration`);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('Connected: the SLA policy has 4 severities.').waitFor();
    await screenshot('configuration');
  });

  it('the Incidents panel renders a dashboard table query', async () => {
    await page.goto(`${harness.url}/harness/panel`);
    await page.getByRole('row').nth(1).waitFor();
    await screenshot('incidents-panel');
    expect(await page.getByRole('row').count()).toBeGreaterThan(1);
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
