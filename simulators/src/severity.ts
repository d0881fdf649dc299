/**
 * Severities in Incident Lens's terms. The simulated Jira needs them only to
 * decide which incidents get tickets and post-mortems, as teams do.
 */
import type { Severity } from '@incident-lens/common/report';

export type { Severity };

/** How a PagerDuty priority and urgency become a severity (the demo passes the collector's configured rules). */
export type SeverityOf = (priority: string | null, urgency: string) => Severity;

/** The simulated priorities P1..P5 graded by their number (P5 counts as SEV4); no priority is UNKNOWN. */
export function gradeSeverity(priority: string | null): Severity {
  const level = /^P(\d)$/.exec(priority ?? '')?.[1];
  return level === undefined || level === '0' ? 'UNKNOWN' : (`SEV${Math.min(Number(level), 4)}` as Severity);
}
