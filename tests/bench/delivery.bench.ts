import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../collector/src/config.ts';
import { createKysely } from '../../collector/src/db/database.ts';
import { migrate } from '../../collector/src/db/migrate.ts';
import { composeReportEmail, deliverReport, reportToSend } from '../../collector/src/delivery/deliver.ts';
import { createLogger } from '../../collector/src/logger.ts';
import { syncSimulatedPagerDuty } from '../support/simulated-history.ts';
import { startLoopbackSmtp } from '../support/smtp.ts';
import { benchDatabase, figure, median } from './support.ts';

const RUNS = 5;

/**
 * The monthly mail as serve sends it: its size on the wire, and the time to
 * read the report, render it (HTML, charts to PNG, CSV) and send it to a
 * real SMTP server on loopback.
 */
export async function benchDelivery(): Promise<void> {
  const incidents = 3000;
  console.log(
    `\ndelivery: the monthly report by e-mail, ${incidents} incidents over four months (~750 in the month), ${RUNS} runs`
  );
  const database = await benchDatabase(`bench_delivery_${process.pid}`);
  const db = createKysely(database.url);
  const smtp = await startLoopbackSmtp({ user: 'bench', password: 'bench-password' });
  const directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-bench-delivery-'));
  try {
    const logger = createLogger('error');
    await migrate(db, logger);
    await syncSimulatedPagerDuty(db, {
      seed: 77,
      start: new Date('2026-07-01T00:00:00Z'),
      end: new Date('2026-11-01T00:00:00Z'),
      incidents,
    });
    const configPath = path.join(directory, 'incident-lens.yaml');
    await writeFile(configPath, 'timezone: UTC\ndelivery:\n  - report: month\n    email: [vp-eng@example.com]\n');
    const config = loadConfig(
      {
        INCIDENT_LENS_CONFIG: configPath,
        SMTP_URL: smtp.url('bench', 'bench-password'),
        SMTP_FROM: 'reports@example.com',
      },
      directory
    );
    const request = {
      granularity: 'month' as const,
      date: '2026-10',
      asOf: new Date('2026-11-02T06:00:00Z'),
      trigger: 'resend' as const,
    };

    const render: number[] = [];
    const total: number[] = [];
    let email: Awaited<ReturnType<typeof composeReportEmail>> | undefined;
    for (let run = 0; run < RUNS; run++) {
      const started = performance.now();
      email = await composeReportEmail(db, config, await reportToSend(db, config, request, true));
      render.push(performance.now() - started);
      const sendStarted = performance.now();
      await deliverReport(db, config, request, { logger });
      total.push(performance.now() - sendStarted);
    }
    const row = await db
      .selectFrom('delivery_log')
      .select('bytes')
      .where('status', '=', 'sent')
      .executeTakeFirstOrThrow();
    const images = email!.images.reduce((sum, image) => sum + image.content.length, 0);
    figure('mail size on the wire (MIME, base64)', `${(row.bytes! / 1024).toFixed(0)} kB`);
    figure('  HTML body', `${(Buffer.byteLength(email!.html) / 1024).toFixed(0)} kB`);
    figure(`  ${email!.images.length} chart PNGs (before base64)`, `${(images / 1024).toFixed(0)} kB`);
    figure(
      `  CSV attachment (${email!.csv.rows} incidents)`,
      `${(Buffer.byteLength(email!.csv.content) / 1024).toFixed(0)} kB`
    );
    figure('read + render (report, HTML, PNGs, CSV), median', `${median(render).toFixed(0)} ms`);
    figure('deliver: read, render, send, log, median', `${median(total).toFixed(0)} ms`);
  } finally {
    await smtp.close();
    await db.destroy();
    await database.stop();
    await rm(directory, { recursive: true, force: true });
  }
}
