import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import {
  type FakePagerDuty,
  generatePagerDutyHistory,
  type PagerDutyHistory,
  startFakePagerDuty,
} from '@incident-lens/simulators';
import { PagerDutySync } from '../collector/src/sources/pagerduty/sync.ts';
import { reconcileDue } from '../collector/src/sync/run-sync.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';

const TOKEN = 'test-token-reconcile-0123';
const DAY = 86_400_000;

// The history ends now: the CLI's sync has no pinned clock.
const NOW = Date.now();
const START = new Date(Math.floor((NOW - 400 * DAY) / DAY) * DAY);

let database: TestDatabase;
let history: PagerDutyHistory;
let server: FakePagerDuty;
let configPath: string;

async function cli(args: string[]) {
  return runCli(args, {
    DATABASE_URL: database.url,
    INCIDENT_LENS_CONFIG: configPath,
    PAGERDUTY_TOKEN: TOKEN,
    PAGERDUTY_API_URL: server.url,
    PAGERDUTY_REQUESTS_PER_MINUTE: '1000000',
    LOG_LEVEL: 'warn',
  });
}

async function sync(...args: string[]) {
  const result = await cli(['sync', '--source', 'pagerduty', ...args]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

interface SlaCounts {
  met: number;
  breached: number;
  pending: number;
}
interface ReportJson {
  incidents: { bySeverity: Record<string, number> };
  sla: { bySeverity: Record<string, { ack: SlaCounts; resolve: SlaCounts } | undefined> };
}

/** `report --format json` for the UTC month holding `at`. */
async function monthReport(at: string): Promise<ReportJson> {
  const result = await cli([
    'report',
    '--period',
    'month',
    '--date',
    at.slice(0, 7),
    '--tz',
    'UTC',
    '--format',
    'json',
  ]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as ReportJson;
}

/** Incidents the SLA figures of a severity judged, whatever the outcome. */
function judged(report: ReportJson, severity: string): number {
  const resolve = report.sla.bySeverity[severity]?.resolve;
  return resolve ? resolve.met + resolve.breached + resolve.pending : 0;
}

async function storedSeverity(id: string): Promise<string> {
  const row = await database.db
    .selectFrom('incidents')
    .select('severity')
    .where('external_id', '=', id)
    .executeTakeFirstOrThrow();
  return row.severity;
}

/** A resolved P3..P5 incident created about `daysAgo` days back, away from its month's edges. */
function resolvedLowPriorityIncident(daysAgo: number) {
  const target = NOW - daysAgo * DAY;
  const candidates = history
    .expectedFacts()
    .filter((fact) => fact.status === 'resolved' && !fact.merged && ['P3', 'P4', 'P5'].includes(fact.priority ?? ''))
    .filter((fact) => {
      const day = new Date(fact.createdAt).getUTCDate();
      return day >= 3 && day <= 26 && new Date(fact.resolvedAt!).getTime() < NOW - (daysAgo - 3) * DAY;
    });
  const nearest = candidates.sort(
    (a, b) => Math.abs(Date.parse(a.createdAt) - target) - Math.abs(Date.parse(b.createdAt) - target)
  )[0];
  if (!nearest) {
    throw new Error(`the generated history has no resolved low-priority incident near ${daysAgo} days ago`);
  }
  return nearest;
}

beforeAll(async () => {
  database = await createTestDatabase();
  history = generatePagerDutyHistory({ seed: 151, start: START, end: new Date(NOW - 3_600_000), incidents: 1_200 });
  server = await startFakePagerDuty({ history, token: TOKEN, rateLimitPerMinute: 1_000_000 });
  const directory = await mkdtemp(path.join(os.tmpdir(), 'incident-lens-reconcile-'));
  configPath = path.join(directory, 'incident-lens.yaml');
  await writeFile(configPath, `pagerduty:\n  since: "${START.toISOString().slice(0, 10)}"\n  reconcileDays: 30\n`);
  await sync();
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await database?.destroy();
});

describe('reconciling PagerDuty incidents whose priority changed without a log entry', () => {
  it('shows a priority raised 20 days after the fact in the report after the next incremental sync, and one of 200 days ago after sync --reconcile', async () => {
    const recent = resolvedLowPriorityIncident(20);
    const old = resolvedLowPriorityIncident(200);
    const recentBefore = await monthReport(recent.createdAt);
    const oldBefore = await monthReport(old.createdAt);
    const logEntries = history.logEntryCount;

    history.reclassify(recent.id, 'P1', new Date(NOW - 60_000));
    history.reclassify(old.id, 'P1', new Date(NOW - 60_000));
    // The change left nothing in any timeline.
    expect(history.logEntryCount).toBe(logEntries);

    await sync();
    expect(await storedSeverity(recent.id)).toBe('SEV1');
    const recentAfter = await monthReport(recent.createdAt);
    expect(recentAfter.incidents.bySeverity.SEV1).toBe(recentBefore.incidents.bySeverity.SEV1! + 1);
    expect(judged(recentAfter, 'SEV1')).toBe(judged(recentBefore, 'SEV1') + 1);
    const before = await storedSeverity(old.id);
    expect(before).not.toBe('SEV1');
    const oldUnseen = await monthReport(old.createdAt);
    expect({ incidents: oldUnseen.incidents, sla: oldUnseen.sla }).toEqual({
      incidents: oldBefore.incidents,
      sla: oldBefore.sla,
    });

    await sync('--reconcile');
    expect(await storedSeverity(old.id)).toBe('SEV1');
    const oldAfter = await monthReport(old.createdAt);
    expect(oldAfter.incidents.bySeverity.SEV1).toBe(oldBefore.incidents.bySeverity.SEV1! + 1);
    expect(oldAfter.incidents.bySeverity[before]).toBe(oldBefore.incidents.bySeverity[before]! - 1);
    expect(judged(oldAfter, 'SEV1')).toBe(judged(oldBefore, 'SEV1') + 1);
  }, 120_000);

  it('has serve reconcile again once the last reconciliation is a day old', async () => {
    const account = new PagerDutySync({
      apiUrl: server.url,
      token: TOKEN,
      historyStart: START,
      severity: { map: {}, fromUrgency: {} },
    });
    expect(await reconcileDue(database.db, account, new Date(NOW + 3_600_000))).toBe(false);
    expect(await reconcileDue(database.db, account, new Date(NOW + DAY + 3_600_000))).toBe(true);
  });
});
