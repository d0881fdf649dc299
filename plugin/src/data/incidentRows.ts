import { parseSlaOutcome, type SlaOutcome } from '../components/SlaOutcomeBadge/SlaOutcomeBadge';
import { numberOrNull, textOrNull, type Row } from './rows';

/**
 * The fields the incidents panel reads from a table query (see the plugin
 * README). Only title, severity, status and created_at are required; the
 * others light up their column when present.
 */
export const INCIDENT_FIELDS = {
  required: ['title', 'severity', 'status', 'created_at'],
  optional: [
    'id',
    'external_id',
    'number',
    'service',
    'team',
    'acknowledged_at',
    'resolved_at',
    'tta_seconds',
    'ttr_seconds',
    'ack_sla',
    'resolve_sla',
    'ack_target_seconds',
    'resolve_target_seconds',
    'html_url',
    'jira_issue_key',
    'jira_url',
    'postmortem_key',
    'postmortem_url',
    'timeline',
  ],
} as const;

export interface TimelineEvent {
  at: number;
  type: string;
  agent: string | null;
  summary: string | null;
}

export interface IncidentRow {
  key: string;
  externalId: string | null;
  number: number | null;
  title: string;
  severity: string;
  status: string;
  service: string | null;
  team: string | null;
  createdAt: number | null;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  ttaSeconds: number | null;
  ttrSeconds: number | null;
  ackSla: SlaOutcome | null;
  resolveSla: SlaOutcome | null;
  ackTargetSeconds: number | null;
  resolveTargetSeconds: number | null;
  pagerdutyUrl: string | null;
  jiraIssueKey: string | null;
  jiraUrl: string | null;
  postmortemKey: string | null;
  postmortemUrl: string | null;
  timeline: TimelineEvent[] | null;
}

export function missingIncidentFields(fieldNames: string[]): string[] {
  const present = new Set(fieldNames.map((name) => name.toLowerCase()));
  return INCIDENT_FIELDS.required.filter((name) => !present.has(name));
}

/** Column names are matched case-insensitively, as SQL folds unquoted aliases. */
function lowerKeys(row: Row): Row {
  const lowered: Row = {};
  for (const [name, value] of Object.entries(row)) {
    lowered[name.toLowerCase()] = value;
  }
  return lowered;
}

function instant(value: Row[string] | undefined): number | null {
  if (value === null || value === undefined) {
    return null;
  }
  if (typeof value === 'number') {
    return value;
  }
  const parsed = Date.parse(String(value));
  return Number.isNaN(parsed) ? null : parsed;
}

export function parseTimeline(value: Row[string] | undefined): TimelineEvent[] | null {
  if (value === null || value === undefined || value === '') {
    return null;
  }
  let parsed: unknown;
  try {
    parsed = typeof value === 'string' ? JSON.parse(value) : value;
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) {
    return null;
  }
  return parsed
    .map((entry: Record<string, unknown>) => ({
      at: instant(entry.at as string | number | null) ?? NaN,
      type: String(entry.type ?? 'other'),
      agent: entry.agent === null || entry.agent === undefined ? null : String(entry.agent),
      summary: entry.summary === null || entry.summary === undefined ? null : String(entry.summary),
    }))
    .filter((event) => Number.isFinite(event.at))
    .sort((a, b) => a.at - b.at);
}

export function toIncidentRow(source: Row, index: number): IncidentRow {
  const row = lowerKeys(source);
  const externalId = textOrNull(row.external_id);
  return {
    key: textOrNull(row.id) ?? externalId ?? String(index),
    externalId,
    number: numberOrNull(row.number),
    title: textOrNull(row.title) ?? '(untitled)',
    severity: textOrNull(row.severity) ?? 'UNKNOWN',
    status: textOrNull(row.status) ?? 'unknown',
    service: textOrNull(row.service),
    team: textOrNull(row.team),
    createdAt: instant(row.created_at),
    acknowledgedAt: instant(row.acknowledged_at),
    resolvedAt: instant(row.resolved_at),
    ttaSeconds: numberOrNull(row.tta_seconds),
    ttrSeconds: numberOrNull(row.ttr_seconds),
    ackSla: parseSlaOutcome(row.ack_sla),
    resolveSla: parseSlaOutcome(row.resolve_sla),
    ackTargetSeconds: numberOrNull(row.ack_target_seconds),
    resolveTargetSeconds: numberOrNull(row.resolve_target_seconds),
    pagerdutyUrl: textOrNull(row.html_url),
    jiraIssueKey: textOrNull(row.jira_issue_key),
    jiraUrl: textOrNull(row.jira_url),
    postmortemKey: textOrNull(row.postmortem_key),
    postmortemUrl: textOrNull(row.postmortem_url),
    timeline: parseTimeline(row.timeline),
  };
}
