import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { formatDuration, formatRate } from '@incident-lens/common/format';
import { SEVERITIES } from '@incident-lens/common/report';
import { launchChromium } from './support/chromium.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { decodePng } from './support/png.ts';
import { syncSimulatedPagerDuty } from './support/simulated-history.ts';
import { startLoopbackSmtp, type LoopbackSmtp } from './support/smtp.ts';

const SCREENSHOT = path.resolve(import.meta.dirname, '../docs/screenshots/delivery-email.png');
const AS_OF = '2026-11-22T09:00:00Z';
const PASSWORD = 'pw-7f3a9c1e-smtp-secret';
const RECIPIENTS = ['vp-eng@example.com', 'cto@example.com'];

let database: TestDatabase;
let smtp: LoopbackSmtp;
let configPath: string;

async function cli(args: string[]) {
  return runCli(args, {
    ...process.env,
    DATABASE_URL: database.url,
    INCIDENT_LENS_CONFIG: configPath,
    LOG_LEVEL: 'info',
    SMTP_URL: smtp.url('lens', PASSWORD),
    SMTP_FROM: 'Incident Lens <reports@example.com>',
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startLoopbackSmtp({ user: 'lens', password: PASSWORD });
  const directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-delivery-'));
  configPath = path.join(directory, 'incident-lens.yaml');
  await writeFile(
    configPath,
    `timezone: Europe/Berlin\ndelivery:\n  - report: month\n    email: [${RECIPIENTS.join(', ')}]\n`
  );
  await syncSimulatedPagerDuty(database.db, {
    seed: 47,
    start: new Date('2026-08-01T00:00:00Z'),
    end: new Date('2026-11-15T00:00:00Z'),
    incidents: 400,
  });
});

afterAll(async () => {
  await smtp.close();
  await database.destroy();
});

describe('the monthly report by e-mail', () => {
  let mails: ParsedMail[];
  let report: Record<string, any>;
  let deliverOutput: string;

  beforeAll(async () => {
    const result = await cli(['deliver', '--period', 'month', '--date', '2026-10', '--as-of', AS_OF]);
    deliverOutput = result.stdout + result.stderr;
    expect(result.code).toBe(0);
    mails = await Promise.all(smtp.received.map((mail) => simpleParser(mail.raw, { keepCidLinks: true })));
    report = JSON.parse(
      (await cli(['report', '--period', 'month', '--date', '2026-10', '--as-of', AS_OF, '--format', 'json'])).stdout
    );
  });

  it('sends one message to each recipient, logged in with the SMTP_URL credentials', () => {
    expect(smtp.received.map((mail) => mail.to)).toEqual(RECIPIENTS.map((recipient) => [recipient]));
    expect(smtp.logins).toEqual(['lens', 'lens']);
    expect(mails.map((mail) => mail.from?.value[0]?.address)).toEqual(['reports@example.com', 'reports@example.com']);
  });

  it('names the period and both compliance figures in the subject', () => {
    const subject = `Monthly incident report 2026-10: ack SLA ${formatRate(report.sla.ack.compliance)}, resolve SLA ${formatRate(report.sla.resolve.compliance)}`;
    expect(report.sla.ack.compliance).not.toBeNull();
    expect(mails.map((mail) => mail.subject)).toEqual([subject, subject]);
  });

  it('carries in its HTML body the figures of `report --format json` for the same period and as-of', () => {
    const html = mails[0]!.html as string;
    const kpis = [...html.matchAll(/<div class="kpi-value">([^<]*)<\/div>/g)].map((match) => match[1]);
    expect(kpis).toEqual([
      String(report.incidents.total),
      formatDuration(report.mtta.meanSeconds),
      formatDuration(report.mttr.meanSeconds),
      formatRate(report.sla.ack.compliance),
      formatRate(report.sla.resolve.compliance),
      String(report.actionItems.openOverdueTotal),
    ]);
    expect(html).toContain(`figures as of ${AS_OF}`);
    for (const severity of SEVERITIES) {
      const sla = report.sla.bySeverity[severity];
      expect(html).toContain(`${sla.ack.met} / ${sla.ack.breached} / ${sla.ack.pending}`);
      expect(html).toContain(`${formatRate(sla.resolve.compliance)}</td>`);
    }
    expect(html).not.toMatch(/<svg/i);
  });

  it('has a plain-text part with the headline figures', () => {
    const text = mails[0]!.text!;
    expect(text).toContain(`Incidents: ${report.incidents.total} (${report.incidents.open} open)`);
    expect(text).toContain(`Ack SLA: ${formatRate(report.sla.ack.compliance)}`);
    expect(text).toContain(`Overdue action items (all periods): ${report.actionItems.openOverdueTotal}`);
  });

  it('attaches the incidents of the period as CSV, one row per incident, as `report --format csv` lists them', async () => {
    const csv = mails[0]!.attachments.filter((attachment) => attachment.contentType === 'text/csv');
    expect(csv.map((attachment) => attachment.filename)).toEqual(['incidents-2026-10.csv']);
    const lines = csv[0]!.content
      .toString('utf8')
      .split('\r\n')
      .filter((line) => line !== '');
    expect(lines[0]!.startsWith('incident,number,title,')).toBe(true);
    const ids = lines.slice(1).map((line) => line.split(',')[0]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(report.incidents.total);
    const printed = (
      await cli(['report', '--period', 'month', '--date', '2026-10', '--as-of', AS_OF, '--format', 'csv'])
    ).stdout;
    expect(csv[0]!.content.toString('utf8')).toBe(printed);
  });

  it('embeds every chart as a PNG that decodes, each referenced by the HTML by Content-ID, and nothing else', () => {
    const html = mails[0]!.html as string;
    const images = mails[0]!.attachments.filter((attachment) => attachment.contentDisposition === 'inline');
    expect(images.map((image) => image.filename).sort()).toEqual(
      ['compliance', 'incidents-trend', 'mtta-trend', 'mttr-trend', 'oncall-heatmap', 'severity'].map(
        (name) => `${name}.png`
      )
    );
    const referenced = [...html.matchAll(/src="cid:([^"]+)"/g)].map((match) => match[1]);
    expect(referenced.sort()).toEqual(images.map((image) => image.contentId!.replace(/^<|>$/g, '')).sort());
    for (const image of images) {
      expect(image.contentType).toBe('image/png');
      const { width, height } = decodePng(image.content);
      // Drawn at twice the size the HTML shows it.
      const cid = image.contentId!.replace(/^<|>$/g, '');
      const tag = new RegExp(`src="cid:${cid.replace(/[.]/g, '\\.')}" width="(\\d+)" height="(\\d+)"`).exec(html)!;
      expect([width, height]).toEqual([Number(tag[1]) * 2, Number(tag[2]) * 2]);
    }
  });

  it('keeps the SMTP password out of the output and of the delivery log', async () => {
    expect(deliverOutput).toContain('email vp-eng@example.com: sent');
    expect(deliverOutput).toContain('"msg":"report delivered"');
    expect(deliverOutput).not.toContain(PASSWORD);
    const rows = await database.db.selectFrom('delivery_log').selectAll().orderBy('position').execute();
    expect(rows.map((row) => [row.recipient, row.status, row.tries])).toEqual(
      RECIPIENTS.map((recipient) => [recipient, 'sent', 1])
    );
    expect(rows.every((row) => row.bytes! > 100_000)).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
  });

  // UPDATE_SCREENSHOTS=1 also writes what Chromium shows to docs/screenshots/delivery-email.png.
  it('shows the charts from the PNGs in Chromium with SVG disabled', async () => {
    const mail = mails[0]!;
    let html = mail.html as string;
    // As a mail client does: cid: references resolve to the message's parts.
    for (const image of mail.attachments.filter((attachment) => attachment.contentDisposition === 'inline')) {
      html = html.replaceAll(
        `cid:${image.contentId!.replace(/^<|>$/g, '')}`,
        `data:image/png;base64,${image.content.toString('base64')}`
      );
    }
    // No SVG can render: any svg element is hidden, and only data: images may load.
    const lockdown = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"><style>svg { display: none !important; }</style>`;
    html = html.replace('<head>', `<head>${lockdown}`);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
      await page.setContent(html, { waitUntil: 'load' });
      const images = await page.$$eval('img', (elements) =>
        elements.map((element) => ({ complete: element.complete, width: element.naturalWidth }))
      );
      expect(images.length).toBe(6);
      expect(images.every((image) => image.complete && image.width > 0)).toBe(true);
      expect(await page.$$eval('svg', (elements) => elements.length)).toBe(0);
      const shot = await page.screenshot({ fullPage: true });
      expect(shot.length).toBeGreaterThan(20_000);
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        await mkdir(path.dirname(SCREENSHOT), { recursive: true });
        await writeFile(SCREENSHOT, shot);
      }
    } finally {
      await browser.close();
    }
  });
});
