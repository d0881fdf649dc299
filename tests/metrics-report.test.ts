import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../collector/src/errors.ts';
import type { ReportJson } from '@incident-lens/common/report';
import { listPeriodIncidents, readReport, reportDay } from '../collector/src/metrics/report-data.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { MetricRows } from './support/metrics-rows.ts';

// readReport on October 2026 in Europe/Berlin, as of 2026-11-22T09:00Z,
// every figure worked out by hand from the rows below.

let database: TestDatabase;
let report: ReportJson;
const AS_OF = new Date('2026-11-22T09:00:00Z');

beforeAll(async () => {
  database = await createTestDatabase();
  const rows = await MetricRows.create(database.db);
  await rows.incidents([
    {
      id: 'R1',
      severity: 'SEV1',
      created: '2026-10-05T08:00:00Z',
      ack: '2026-10-05T08:10:00Z',
      resolved: '2026-10-05T09:00:00Z',
      service: 'checkout',
      team: 'payments',
      rootCause: 'db pool',
    },
    {
      id: 'R2',
      severity: 'SEV1',
      created: '2026-10-20T08:00:00Z',
      ack: '2026-10-20T08:05:00Z',
      resolved: '2026-10-20T10:00:00Z',
      service: 'checkout',
      team: 'payments',
      rootCause: 'DB-Pool',
    },
    // 02:30 CEST on the 25 hour day; never acknowledged, still open.
    { id: 'R3', severity: 'SEV3', created: '2026-10-25T00:30:00Z', service: 'search', team: 'search' },
    // 23:30 CET on 31 October: still October in Berlin.
    {
      id: 'R4',
      severity: 'UNKNOWN',
      created: '2026-10-31T22:30:00Z',
      ack: '2026-10-31T22:31:00Z',
      resolved: '2026-10-31T23:00:00Z',
    },
    { id: 'R5', severity: 'SEV2', created: '2026-10-06T08:00:00Z', resolved: '2026-10-06T08:01:00Z', merged: true },
    // 00:30 CET on 1 November: the next period.
    { id: 'R6', severity: 'SEV4', created: '2026-10-31T23:30:00Z' },
    {
      id: 'S1',
      severity: 'SEV2',
      created: '2026-09-15T10:00:00Z',
      ack: '2026-09-15T10:15:00Z',
      resolved: '2026-09-15T11:00:00Z',
    },
  ]);
  await rows.postmortems([
    { id: 'PM-R1', incident: 'R1', created: '2026-10-05T12:00:00Z', completed: '2026-10-06T08:00:00Z' },
  ]);
  await rows.actionItems([
    {
      id: 'AI-1',
      postmortem: 'PM-R1',
      created: '2026-10-06T08:00:00Z',
      due: '2026-10-10',
      completed: '2026-10-09T12:00:00Z',
      owner: 'Ana',
    },
    { id: 'AI-2', incident: 'R2', created: '2026-10-21T08:00:00Z', due: '2026-10-31', owner: 'Ben' },
    { id: 'AI-3', incident: 'R2', created: '2026-10-21T08:00:00Z' },
  ]);
  report = await readReport(database.db, {
    granularity: 'month',
    date: '2026-10',
    timezone: 'Europe/Berlin',
    asOf: AS_OF,
  });
});

afterAll(async () => {
  await database.destroy();
});

describe('readReport', () => {
  it('has the period in local time with its offsets', () => {
    expect(report.period).toEqual({
      granularity: 'month',
      start: '2026-10-01T00:00:00+02:00',
      end: '2026-11-01T00:00:00+01:00',
      timezone: 'Europe/Berlin',
      asOf: '2026-11-22T09:00:00Z',
      label: '2026-10',
    });
  });

  it('counts the incidents, merged and unclassified apart', () => {
    expect(report.incidents).toEqual({
      total: 4,
      open: 1,
      merged: 1,
      unclassified: 1,
      bySeverity: { SEV1: 2, SEV2: 0, SEV3: 1, SEV4: 0, UNKNOWN: 1 },
    });
  });

  it('computes MTTA and MTTR', () => {
    // Acks 600, 300, 60 s; resolves 3600, 7200, 1800 s.
    expect(report.mtta).toMatchObject({ count: 3, unacknowledged: 1, meanSeconds: 320, medianSeconds: 300 });
    expect(report.mtta.p90Seconds).toBeCloseTo(540, 9); // rank 1.8: 300 + 0.8 * 300
    expect(report.mtta.p95Seconds).toBeCloseTo(570, 9);
    expect(report.mttr).toMatchObject({ count: 3, meanSeconds: 4200, medianSeconds: 3600 });
    expect(report.mttr.p90Seconds).toBeCloseTo(6480, 9); // rank 1.8: 3600 + 0.8 * 3600
    expect(report.mttr.p95Seconds).toBeCloseTo(6840, 9);
    expect(report.bySeverity.SEV1).toMatchObject({ count: 2, share: 0.5, mtta: { count: 2, meanSeconds: 450 } });
    expect(report.bySeverity.SEV2).toMatchObject({ count: 0, share: 0, mtta: { count: 0, meanSeconds: null } });
  });

  it('reports SLA compliance with UNKNOWN left out', () => {
    // Ack: R1 (10 min) and R2 (5 min) within 15 min, R3 none within 2 h.
    // Resolve: R1 at exactly 1 h is met, R2 (2 h) breached, R3 open past 24 h.
    expect(report.sla.ack).toEqual({ met: 2, breached: 1, pending: 0, compliance: 2 / 3 });
    expect(report.sla.resolve).toEqual({ met: 1, breached: 2, pending: 0, compliance: 1 / 3 });
    expect(report.sla.bySeverity.SEV1).toEqual({
      ack: { met: 2, breached: 0, pending: 0, compliance: 1 },
      resolve: { met: 1, breached: 1, pending: 0, compliance: 0.5 },
    });
    expect(report.sla.bySeverity.SEV2.ack.compliance).toBeNull();
    expect(Object.keys(report.sla.bySeverity)).toEqual(['SEV1', 'SEV2', 'SEV3', 'SEV4']);
  });

  it('follows post-mortems and action items', () => {
    // R1's post-mortem was done within 48 h of its resolve; R2 has none, due 2026-10-22T10:00Z.
    expect(report.postmortems).toEqual({ required: 2, completed: 1, completedOnTime: 1, overdue: 1 });
    // AI-1 done early; AI-2 due 31 October, overdue since 2026-11-01T00:00+01:00; AI-3 has no due date.
    expect(report.actionItems).toEqual({
      total: 2,
      completed: 1,
      completedOnTime: 1,
      open: 1,
      overdue: 1,
      completionRate: 0.5,
      onTimeRate: 0.5,
      noDueDate: 1,
      openOverdueTotal: 1,
    });
    expect(report.overdueActionItems).toEqual([
      expect.objectContaining({
        externalId: 'AI-2',
        owner: 'Ben',
        dueDate: '2026-10-31',
        deadline: '2026-11-01T00:00:00+01:00',
        incident: 'R2',
        team: 'payments',
      }),
    ]);
  });

  it('lists repeat root causes and the process rates', () => {
    expect(report.repeatRootCauses).toEqual([{ rootCause: 'db-pool', count: 2, repeats: 1, incidents: ['R1', 'R2'] }]);
    expect(report.repeatRate).toBe(0.5);
    expect(report.escalationRate).toBe(0);
    expect(report.businessHours).toEqual({ businessHours: 2, offHours: 2 });
    expect(report.mttdSeconds).toBeNull();
  });

  it('compares with the previous period and carries a 12-period trend', () => {
    expect(report.previous).toMatchObject({
      label: '2026-09',
      incidents: { total: 1 },
      mtta: { count: 1, meanSeconds: 900 },
    });
    expect(report.trend.map((point) => point.label)).toEqual([
      '2025-11',
      '2025-12',
      '2026-01',
      '2026-02',
      '2026-03',
      '2026-04',
      '2026-05',
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
    ]);
    expect(report.trend.at(-1)).toMatchObject({ incidents: { total: 4 }, mttr: { meanSeconds: 4200 } });
  });

  it('breaks down by service and team', () => {
    expect(report.byService.map((service) => [service.name, service.incidents])).toEqual([
      ['checkout', 2],
      ['(no service)', 1],
      ['search', 1],
    ]);
    expect(report.byTeam.find((team) => team.name === 'payments')).toMatchObject({
      incidents: 2,
      sla: { resolve: { compliance: 0.5 } },
      actionItems: { total: 2, completed: 1, noDueDate: 1 },
    });
  });

  it('has every field of the documented JSON shape', () => {
    const documented = {
      period: ['granularity', 'start', 'end', 'timezone', 'asOf'],
      incidents: ['total', 'open', 'merged', 'unclassified', 'bySeverity'],
      mtta: ['count', 'unacknowledged', 'meanSeconds', 'medianSeconds', 'p90Seconds', 'p95Seconds'],
      mttr: ['count', 'meanSeconds', 'medianSeconds', 'p90Seconds', 'p95Seconds'],
      sla: ['ack', 'resolve', 'bySeverity'],
      postmortems: ['required', 'completed', 'completedOnTime', 'overdue'],
      actionItems: [
        'total',
        'completed',
        'completedOnTime',
        'open',
        'overdue',
        'completionRate',
        'onTimeRate',
        'noDueDate',
        'openOverdueTotal',
      ],
    };
    const json = JSON.parse(JSON.stringify(report)) as Record<string, Record<string, unknown>>;
    for (const [field, keys] of Object.entries(documented)) {
      expect(Object.keys(json[field]!)).toEqual(expect.arrayContaining(keys));
    }
    expect(Object.keys(json)).toEqual(
      expect.arrayContaining(['bySeverity', 'repeatRootCauses', 'repeatRate', 'escalationRate'])
    );
    // The keys and nothing else; their order carries no meaning in JSON (lens.report returns jsonb).
    expect(Object.keys(json.sla!.ack as object).sort()).toEqual(['breached', 'compliance', 'met', 'pending']);
    expect(Object.keys((json.bySeverity as Record<string, object>).SEV1!)).toEqual(
      expect.arrayContaining(['count', 'mtta', 'mttr'])
    );
  });

  it('gives the same figures for a week and a day of the same data', async () => {
    const week = await readReport(database.db, {
      granularity: 'week',
      date: '2026-10-25',
      timezone: 'Europe/Berlin',
      asOf: AS_OF,
      trendPeriods: 0,
    });
    // ISO week 43 (19-25 October) holds R2 (20th) and R3 (25th).
    expect(week.period).toMatchObject({
      label: '2026-W43',
      start: '2026-10-19T00:00:00+02:00',
      end: '2026-10-26T00:00:00+01:00',
    });
    expect(week.incidents.total).toBe(2);
    expect(week.trend).toEqual([]);
    expect(week.previous).toMatchObject({ label: '2026-W42', incidents: { total: 0 } });
    const day = await readReport(database.db, {
      granularity: 'day',
      date: '2026-10-25',
      timezone: 'Europe/Berlin',
      asOf: AS_OF,
      trendPeriods: 3,
    });
    expect(day.incidents.total).toBe(1);
    expect(day.trend.map((point) => point.label)).toEqual(['2026-10-23', '2026-10-24', '2026-10-25']);
  });
});

describe('listPeriodIncidents', () => {
  it('lists the period without merged duplicates, times in the report zone', async () => {
    const incidents = await listPeriodIncidents(database.db, {
      granularity: 'month',
      date: '2026-10-31',
      timezone: 'Europe/Berlin',
      asOf: AS_OF,
    });
    expect(incidents.map((incident) => incident.externalId)).toEqual(['R1', 'R2', 'R3', 'R4']);
    expect(incidents[0]).toMatchObject({
      severity: 'SEV1',
      service: 'checkout',
      team: 'payments',
      createdAt: '2026-10-05T10:00:00+02:00',
      ttaSeconds: 600,
      ttrSeconds: 3600,
      ackSla: 'met',
      resolveSla: 'met',
      postmortem: 'PM-R1',
      postmortemOutcome: 'on_time',
      rootCause: 'db-pool',
      repeat: false,
      url: 'https://acme.pagerduty.com/incidents/R1',
    });
    expect(incidents[2]).toMatchObject({
      createdAt: '2026-10-25T02:30:00+02:00',
      open: true,
      ackSla: 'breached',
      ttaSeconds: null,
    });
    expect(incidents[3]).toMatchObject({ createdAt: '2026-10-31T23:30:00+01:00', ackSla: null, severity: 'UNKNOWN' });
  });
});

describe('report request checks', () => {
  it.each([
    { granularity: 'month', date: '2026-10', day: '2026-10-01' },
    { granularity: 'month', date: '2026-10-31', day: '2026-10-31' },
    { granularity: 'week', date: '2026-01-01', day: '2026-01-01' },
    { granularity: 'day', date: '2024-02-29', day: '2024-02-29' },
  ] as const)('$granularity --date $date names $day', ({ granularity, date, day }) => {
    expect(reportDay(granularity, date)).toBe(day);
  });

  it.each([
    {
      granularity: 'week',
      date: '2026-10',
      message: '--date 2026-10 names a month; a week report needs a day: YYYY-MM-DD',
    },
    { granularity: 'day', date: '2026-02-30', message: "--date is not a calendar date: got '2026-02-30'" },
    { granularity: 'day', date: '30.10.2026', message: "--date must be YYYY-MM-DD: got '30.10.2026'" },
    { granularity: 'quarter', date: '2026-10-01', message: "--period must be day, week or month: got 'quarter'" },
  ])('refuses $granularity --date $date', ({ granularity, date, message }) => {
    expect(() => reportDay(granularity as 'day', date)).toThrow(new UsageError(message));
  });

  it('refuses an unknown zone before touching the database', async () => {
    await expect(
      readReport(database.db, { granularity: 'month', date: '2026-10', timezone: 'Mars/Olympus', asOf: AS_OF })
    ).rejects.toThrow("--tz must be an IANA time zone such as Europe/Berlin: got 'Mars/Olympus'");
  });

  it('writes the as-of instant without zero milliseconds', async () => {
    const request = { granularity: 'day', date: '2026-10-25', timezone: 'Europe/Berlin', trendPeriods: 0 } as const;
    const whole = await readReport(database.db, { ...request, asOf: new Date('2026-11-22T09:00:00Z') });
    const part = await readReport(database.db, { ...request, asOf: new Date('2026-11-22T09:00:00.250Z') });
    expect([whole.period.asOf, part.period.asOf]).toEqual(['2026-11-22T09:00:00Z', '2026-11-22T09:00:00.250Z']);
  });
});
