import type { ReportJson } from '@incident-lens/common/report';

/** The report column of REPORT_SQL as the report JSON; a clear error when it is something else. */
export function parseReport(value: unknown): ReportJson {
  const report = (typeof value === 'string' ? JSON.parse(value) : value) as ReportJson | null;
  if (!report || typeof report !== 'object' || !report.period || !report.mtta || !report.sla) {
    throw new Error('the report query returned something that is not a report (expected period, mtta, sla...)');
  }
  return report;
}
