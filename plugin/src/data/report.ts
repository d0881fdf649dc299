// The report as `incident-lens report --format json` writes it (INTERFACES.md,
// "Report JSON"): the Reports page shows this shape, read from SQL.

export type SeverityName = 'SEV1' | 'SEV2' | 'SEV3' | 'SEV4' | 'UNKNOWN';

export interface DurationStats {
  count: number;
  meanSeconds: number | null;
  medianSeconds: number | null;
  p90Seconds: number | null;
  p95Seconds: number | null;
}

export interface MttaStats extends DurationStats {
  unacknowledged: number;
}

export interface SlaCounts {
  met: number;
  breached: number;
  pending: number;
  compliance: number | null;
}

export interface Report {
  period: { granularity: string; start: string; end: string; timezone: string; asOf: string; label: string };
  incidents: { total: number; open: number; merged: number; unclassified: number; bySeverity: Record<SeverityName, number> };
  mtta: MttaStats;
  mttr: DurationStats;
  sla: {
    ack: SlaCounts;
    resolve: SlaCounts;
    bySeverity: Partial<Record<SeverityName, { ack: SlaCounts; resolve: SlaCounts }>>;
  };
  bySeverity: Partial<Record<SeverityName, { count: number; share: number | null; mtta: MttaStats; mttr: DurationStats }>>;
  postmortems: { required: number; completed: number; completedOnTime: number; overdue: number };
  actionItems: {
    total: number;
    completed: number;
    completedOnTime: number;
    open: number;
    overdue: number;
    completionRate: number | null;
    onTimeRate: number | null;
    noDueDate: number;
    openOverdueTotal: number;
  };
  repeatRootCauses: Array<{ rootCause: string; count: number; repeats: number; incidents: string[] }>;
  repeatRate: number | null;
  escalationRate: number | null;
}

export function parseReport(value: unknown): Report {
  const report = (typeof value === 'string' ? JSON.parse(value) : value) as Report | null;
  if (!report || typeof report !== 'object' || !report.period || !report.mtta || !report.sla) {
    throw new Error('the report query returned something that is not a report (expected period, mtta, sla...)');
  }
  return report;
}
