import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ReportJson, Revision } from '@incident-lens/common/report';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFileConfig } from '../collector/src/config.ts';
import { readReport } from '../collector/src/metrics/report-data.ts';
import { readPublishedReport } from '../collector/src/report/published.ts';
import { renderReport } from '../collector/src/report/render-report.ts';
import { writeScheduledReport } from '../collector/src/serve/report-jobs.ts';
import { ensureSource, upsertIncidents } from '../collector/src/sync/store.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { syncSimulatedPagerDuty } from './support/simulated-history.ts';

let database: TestDatabase;
let dataDir: string;
const file = parseFileConfig({ timezone: 'Europe/Berlin' });
const config = () => ({ ...file, dataDir, databaseUrl: database.url }) as never;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-published-'));
  await syncSimulatedPagerDuty(database.db, {
    seed: 44,
    start: new Date('2026-09-01T00:00:00Z'),
    end: new Date('2026-11-01T00:00:00Z'),
    incidents: 300,
  });
});

afterAll(async () => {
  await database.destroy();
});

describe('published monthly reports', () => {
  it('freezes a closed month once and shows what late data changed since', async () => {
    // The monthly job on 2 November publishes October.
    const [jsonFile] = await writeScheduledReport(database.db, config(), 'month', new Date('2026-11-02T06:00:00Z'));
    const firstRun = JSON.parse(await readFile(jsonFile!, 'utf8'));
    expect(firstRun.period.label).toBe('2026-10');
    expect(firstRun.published).toMatchObject({ asOf: '2026-11-02T06:00:00Z', revisions: [] });
    const frozen = await readPublishedReport(database.db, firstRun.period);
    expect(frozen?.report.incidents.total).toBe(firstRun.incidents.total);

    // An October incident arrives late (a source was down), resolved within its SLA.
    const sourceId = await ensureSource(database.db, {
      name: 'late-source',
      kind: 'pagerduty',
      baseUrl: 'https://late.example',
    });
    await upsertIncidents(
      database.db,
      sourceId,
      [
        {
          externalId: 'QLATE01',
          number: 1,
          title: 'Late-synced incident',
          status: 'resolved',
          urgency: 'high',
          priorityRaw: 'P3',
          severity: 'SEV3',
          serviceExternalId: null,
          teamExternalId: null,
          createdAt: '2026-10-20T10:00:00Z',
          acknowledgedAt: '2026-10-20T10:05:00Z',
          resolvedAt: '2026-10-20T11:00:00Z',
          merged: false,
          htmlUrl: null,
          sourceUpdatedAt: null,
        },
      ],
      new Map(),
      new Map()
    );

    // The next run keeps the first publication and names the revision.
    const [againFile] = await writeScheduledReport(database.db, config(), 'month', new Date('2026-11-09T06:00:00Z'));
    const secondRun = JSON.parse(await readFile(againFile!, 'utf8'));
    expect(secondRun.incidents.total).toBe(firstRun.incidents.total + 1);
    expect(secondRun.published.revisions).toContainEqual({
      figure: 'incidents',
      published: firstRun.incidents.total,
      current: firstRun.incidents.total + 1,
    });
    expect((await readPublishedReport(database.db, firstRun.period))?.report.incidents.total).toBe(
      firstRun.incidents.total
    );
    const markdown = await readFile(againFile!.replace(/\.json$/, '.md'), 'utf8');
    expect(markdown).toContain('**Revised since it was published on');
    expect(markdown).toContain(
      `- incidents: ${firstRun.incidents.total} published, ${firstRun.incidents.total + 1} now`
    );
    const html = await readFile(againFile!.replace(/\.json$/, '.html'), 'utf8');
    expect(html).toContain('Revised since it was published');

    // `report --published` shows the frozen figures unchanged.
    const published = JSON.parse(
      await renderReport(database.db, config(), {
        granularity: 'month',
        date: '2026-10',
        timezone: 'Europe/Berlin',
        asOf: new Date('2026-11-22T00:00:00Z'),
        format: 'json',
        published: true,
      })
    );
    expect(published).toEqual(JSON.parse(JSON.stringify(frozen!.report)));
  });

  it('refuses --published for a period that was never published, naming it', async () => {
    await expect(
      renderReport(database.db, config(), {
        granularity: 'month',
        date: '2026-09',
        timezone: 'Europe/Berlin',
        asOf: new Date('2026-11-22T00:00:00Z'),
        format: 'md',
        published: true,
      })
    ).rejects.toThrow('no published report for 2026-09 in Europe/Berlin');
  });

  it('compares only headline figures, tolerating float noise', async () => {
    const revisions = async (published: ReportJson, current: ReportJson) =>
      (
        await sql<{ revisions: Revision[] }>`
        SELECT lens.report_revisions(${JSON.stringify(published)}::jsonb, ${JSON.stringify(current)}::jsonb) AS revisions`.execute(
          database.db
        )
      ).rows[0]!.revisions;
    const report = await readReport(database.db, {
      granularity: 'month',
      date: '2026-09',
      timezone: 'Europe/Berlin',
      asOf: new Date('2026-11-01T00:00:00Z'),
    });
    expect(await revisions(report, structuredClone(report))).toEqual([]);
    const moved = structuredClone(report);
    moved.mtta.meanSeconds = (moved.mtta.meanSeconds ?? 0) + 1e-12;
    moved.sla.ack.compliance = 0.5;
    expect(await revisions(report, moved)).toEqual([
      { figure: 'ack SLA compliance', published: report.sla.ack.compliance, current: 0.5 },
    ]);
  });
});
