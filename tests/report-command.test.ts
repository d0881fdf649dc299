import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { listPeriodIncidents, readReport } from '../collector/src/metrics/report-data.ts';
import { formatDuration, formatRate } from '@incident-lens/common/format';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { syncSimulatedPagerDuty } from './support/simulated-history.ts';

const AS_OF = '2026-11-22T09:00:00Z';

let database: TestDatabase;
let configPath: string;

/** Runs the real CLI against the test database; resolves with its exit code and output. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCli(args, {
    ...process.env,
    DATABASE_URL: database.url,
    INCIDENT_LENS_CONFIG: configPath,
    LOG_LEVEL: 'warn',
    ...env,
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  const directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-report-'));
  configPath = path.join(directory, 'incident-lens.yaml');
  await writeFile(configPath, 'timezone: Europe/Berlin\n');
  await syncSimulatedPagerDuty(database.db, {
    seed: 31,
    start: new Date('2026-08-01T00:00:00Z'),
    end: new Date('2026-11-15T00:00:00Z'),
    incidents: 600,
  });
});

afterAll(async () => {
  await database.destroy();
});

describe('incident-lens report', () => {
  const request = { granularity: 'month' as const, date: '2026-10', timezone: 'Europe/Berlin', asOf: new Date(AS_OF) };
  const OCTOBER = ['report', '--period', 'month', '--date', '2026-10', '--tz', 'Europe/Berlin', '--as-of', AS_OF];

  it('prints exactly the report data of the SQL metrics as JSON, in the documented shape', async () => {
    const result = await cli([...OCTOBER, '--format', 'json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed).toEqual(JSON.parse(JSON.stringify(await readReport(database.db, request))));
    expect(printed.period).toMatchObject({
      granularity: 'month',
      start: '2026-10-01T00:00:00+02:00',
      end: '2026-11-01T00:00:00+01:00',
      timezone: 'Europe/Berlin',
      asOf: AS_OF,
    });
    for (const key of [
      'incidents',
      'mtta',
      'mttr',
      'sla',
      'bySeverity',
      'postmortems',
      'actionItems',
      'repeatRootCauses',
      'repeatRate',
      'escalationRate',
    ]) {
      expect(printed).toHaveProperty(key);
    }
    expect(Object.keys(printed.incidents.bySeverity).sort()).toEqual(['SEV1', 'SEV2', 'SEV3', 'SEV4', 'UNKNOWN']);
    expect(printed.incidents.total).toBeGreaterThan(100);
    expect(printed.mtta.count + printed.mtta.unacknowledged).toBe(printed.incidents.total);
  });

  it('takes the configured time zone when --tz is absent', async () => {
    const result = await cli(['report', '--period', 'month', '--date', '2026-10-15', '--as-of', AS_OF]);
    expect(JSON.parse(result.stdout).period.start).toBe('2026-10-01T00:00:00+02:00');
  });

  it('writes Markdown with the headline, the previous period and the SLA table', async () => {
    const result = await cli([...OCTOBER, '--format', 'md']);
    expect(result.code).toBe(0);
    const report = await readReport(database.db, request);
    expect(result.stdout).toContain('# Incident report 2026-10 (month, Europe/Berlin)');
    expect(result.stdout).toContain(`| Incidents | ${report.incidents.total} | ${report.previous!.incidents.total} |`);
    expect(result.stdout).toContain(`| MTTA (mean) | ${formatDuration(report.mtta.meanSeconds)} |`);
    expect(result.stdout).toContain(`| Ack SLA compliance | ${formatRate(report.sla.ack.compliance)} |`);
    expect(result.stdout).toMatch(/\| SEV1 \| \d+ \| \d+ \/ \d+ \/ \d+ \|/);
  });

  it('writes a self-contained HTML file with server-rendered SVG charts', async () => {
    const out = path.join(path.dirname(configPath), 'reports', 'october.html');
    const result = await cli([...OCTOBER, '--format', 'html', '--out', out]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(out);
    const html = await readFile(out, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(5);
    // Nothing is fetched when the file is opened.
    expect(html).not.toMatch(/<script|<link |src="http|url\(http/);
  });

  it('writes one CSV row per incident of the period, with the computed fields', async () => {
    const result = await cli([...OCTOBER, '--format', 'csv']);
    const lines = result.stdout.trimEnd().split('\r\n');
    const report = await readReport(database.db, request);
    expect(lines).toHaveLength(report.incidents.total + 1);
    const header = lines[0]!.split(',');
    expect(header).toEqual(
      expect.arrayContaining([
        'incident',
        'severity',
        'tta_seconds',
        'ttr_seconds',
        'ack_sla',
        'resolve_sla',
        'service',
        'team',
        'pagerduty_url',
      ])
    );
    const incidents = await listPeriodIncidents(database.db, request);
    const first = lines[1]!.split(',');
    expect(first[header.indexOf('incident')]).toBe(incidents[0]!.externalId);
    expect(first[header.indexOf('tta_seconds')]).toBe(
      incidents[0]!.ttaSeconds === null ? '' : String(incidents[0]!.ttaSeconds)
    );
  });

  it.each([
    [['report', '--period', 'year', '--date', '2026'], /--period/],
    [['report', '--period', 'month', '--date', '2026-13'], /--date is not a calendar date/],
    [['report', '--period', 'day', '--date', '2026-10'], /needs a day/],
    [['report', '--period', 'month', '--date', '2026-10', '--tz', 'Mars/Base'], /IANA time zone/],
    [
      ['report', '--period', 'month', '--date', '2026-10', '--as-of', 'yesterday'],
      /--as-of must be an ISO 8601 instant/,
    ],
    [['report', '--period', 'month'], /--date/],
  ])('exits 2 with a one-line error for %j', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('exits 2 naming an unknown key of the configuration file', async () => {
    const bad = path.join(path.dirname(configPath), 'bad.yaml');
    await writeFile(bad, 'timezone: UTC\nrepeatWindowDay: 30\n');
    const result = await cli(['report', '--period', 'month', '--date', '2026-10'], { INCIDENT_LENS_CONFIG: bad });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown key 'repeatWindowDay'");
  });
});
