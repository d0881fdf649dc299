import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/chromium.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { loadIncidentFixtures } from './support/incident-fixtures.ts';
import { buildHarness, startHarnessServer, type HarnessServer } from './support/plugin-harness.ts';

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
  harness = await startHarnessServer({ readerUrl: database.url });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  await database?.destroy();
});

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

describe('plugin pages in Chromium against PostgreSQL', () => {
  it('SLA policy page shows the targets in force', async () => {
    await page.goto(`${harness.url}${APP}/sla-policy`);
    await page.getByRole('row', { name: /SEV1/ }).waitFor();
    await screenshot('sla-policy');
    expect(await page.getByRole('row', { name: /SEV1/ }).textContent()).toContain('15m');
    expect(pageErrors).toEqual([]);
  });
});
