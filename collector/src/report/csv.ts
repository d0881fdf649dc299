import type { PeriodIncident } from '../metrics/report-data.ts';

const COLUMNS: Array<[header: string, value: (incident: PeriodIncident) => string | number | boolean | null]> = [
  ['incident', (incident) => incident.externalId],
  ['number', (incident) => incident.number],
  ['title', (incident) => incident.title],
  ['source', (incident) => incident.sourceKind],
  ['severity', (incident) => incident.severity],
  ['priority', (incident) => incident.priority],
  ['service', (incident) => incident.service],
  ['team', (incident) => incident.team],
  ['created_at', (incident) => incident.createdAt],
  ['acknowledged_at', (incident) => incident.acknowledgedAt],
  ['resolved_at', (incident) => incident.resolvedAt],
  ['open', (incident) => incident.open],
  ['tta_seconds', (incident) => incident.ttaSeconds],
  ['ttr_seconds', (incident) => incident.ttrSeconds],
  ['first_response_seconds', (incident) => incident.firstResponseSeconds],
  ['ack_deadline', (incident) => incident.ackDeadline],
  ['ack_sla', (incident) => incident.ackSla],
  ['resolve_deadline', (incident) => incident.resolveDeadline],
  ['resolve_sla', (incident) => incident.resolveSla],
  ['escalated', (incident) => incident.escalated],
  ['business_hours', (incident) => incident.businessHours],
  ['postmortem_required', (incident) => incident.postmortemRequired],
  ['postmortem_deadline', (incident) => incident.postmortemDeadline],
  ['postmortem_outcome', (incident) => incident.postmortemOutcome],
  ['postmortem', (incident) => incident.postmortem],
  ['root_cause', (incident) => incident.rootCause],
  ['repeat', (incident) => incident.repeat],
  ['pagerduty_url', (incident) => incident.url],
  ['jira_issue', (incident) => incident.jiraIssue],
  ['jira_url', (incident) => incident.jiraUrl],
  ['postmortem_url', (incident) => incident.postmortemUrl],
  // Noise (docs/metrics.md §11), shown beside the figures it never changes,
  // under the names the report JSON gives these figures.
  ['autoResolved', (incident) => incident.autoResolved],
  ['transient', (incident) => incident.transient],
];

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
function field(value: string | number | boolean | null): string {
  if (value === null) {
    return '';
  }
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per incident of the period with its computed fields, for spreadsheets. */
export function renderCsv(incidents: PeriodIncident[]): string {
  const lines = [COLUMNS.map(([header]) => header).join(',')];
  for (const incident of incidents) {
    lines.push(COLUMNS.map(([, value]) => field(value(incident))).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
