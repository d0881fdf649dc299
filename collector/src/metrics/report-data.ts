import { sql, type Kysely } from 'kysely';
import { GRANULARITIES, type Granularity, type ReportJson, type Severity } from '@incident-lens/common/report';
import { isValidTimeZone } from '../config.ts';
import { parseIsoDay } from '../dates.ts';
import type { Database } from '../db/schema.ts';
import { UsageError } from '../errors.ts';

// The report is built by lens.report (sql/lens/85_report.sql), the incident
// rows by lens.incident_facts; this module checks the request and reads
// them. No figure and no part of the report's shape is made in TypeScript.

export interface ReportRequest {
  granularity: Granularity;
  /** `YYYY-MM-DD` (any day of the period) or, for a month, `YYYY-MM`. */
  date: string;
  /** IANA zone of the period boundaries and due-date deadlines. */
  timezone: string;
  asOf: Date;
  /** How many periods the trend covers, ending with this one; 0 leaves it out. */
  trendPeriods?: number;
  /** How many overdue action items are listed (all are counted). */
  overdueListLimit?: number;
  /** Restrict every figure to the account of this name (`sources:`); absent: every account. */
  source?: string;
}

/** One incident of the period, for the CSV report and incident lists. */
export interface PeriodIncident {
  externalId: string;
  number: number | null;
  title: string;
  sourceKind: string;
  severity: Severity;
  priority: string | null;
  service: string | null;
  team: string | null;
  createdAt: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  open: boolean;
  ttaSeconds: number | null;
  ttrSeconds: number | null;
  firstResponseSeconds: number | null;
  ackDeadline: string | null;
  ackSla: SlaOutcome | null;
  resolveDeadline: string | null;
  resolveSla: SlaOutcome | null;
  escalated: boolean;
  businessHours: boolean;
  postmortemRequired: boolean;
  postmortemDeadline: string | null;
  postmortemOutcome: PostmortemOutcome | null;
  postmortem: string | null;
  postmortemUrl: string | null;
  rootCause: string | null;
  repeat: boolean;
  url: string | null;
  jiraIssue: string | null;
  jiraUrl: string | null;
  autoResolved: boolean;
  transient: boolean;
}

export type SlaOutcome = 'met' | 'breached' | 'pending';
export type PostmortemOutcome = 'on_time' | 'late' | 'overdue' | 'pending';

/** `--date` to the local day it names: YYYY-MM-DD, or YYYY-MM for a month (its first day). */
export function reportDay(granularity: Granularity, date: string): string {
  if (!GRANULARITIES.includes(granularity)) {
    throw new UsageError(`--period must be day, week or month: got '${granularity}'`);
  }
  const month = /^(\d{4})-(\d{2})$/.exec(date);
  if (month) {
    if (granularity !== 'month') {
      throw new UsageError(`--date ${date} names a month; a ${granularity} report needs a day: YYYY-MM-DD`);
    }
    return checkedDay(`${date}-01`, date);
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    return checkedDay(date, date);
  }
  throw new UsageError(`--date must be YYYY-MM-DD${granularity === 'month' ? ' or YYYY-MM' : ''}: got '${date}'`);
}

function checkedDay(day: string, original: string): string {
  try {
    return parseIsoDay(day);
  } catch {
    throw new UsageError(`--date is not a calendar date: got '${original}'`);
  }
}

function checkRequest(request: ReportRequest): string {
  if (!isValidTimeZone(request.timezone)) {
    throw new UsageError(`--tz must be an IANA time zone such as Europe/Berlin: got '${request.timezone}'`);
  }
  if (Number.isNaN(request.asOf.getTime())) {
    throw new UsageError('--as-of must be an ISO 8601 instant');
  }
  return reportDay(request.granularity, request.date);
}

/**
 * The report of the period of `granularity` containing `date`, as of
 * `asOf`: what lens.report returns, in one statement and so one snapshot,
 * so the figures add up even while a sync writes.
 */
export async function readReport(db: Kysely<Database>, request: ReportRequest): Promise<ReportJson> {
  const day = checkRequest(request);
  const { granularity, asOf, timezone } = request;
  await checkSource(db, request.source);
  const { rows } = await sql<{ report: ReportJson }>`
    SELECT lens.report(${granularity}, ${day}::date, ${asOf}, ${timezone},
                       ${request.trendPeriods ?? 12}, ${request.overdueListLimit ?? 100},
                       ${request.source ?? null}) AS report`.execute(db);
  return rows[0]!.report;
}

/** `--source`: an account the database holds; lens.account_id names the known ones when it is not. */
async function checkSource(db: Kysely<Database>, source: string | undefined): Promise<void> {
  if (source === undefined) {
    return;
  }
  try {
    await sql`SELECT lens.account_id(${source})`.execute(db);
  } catch (error) {
    if ((error as { code?: string }).code === '22023') {
      throw new UsageError(`--source: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
}

interface IncidentFactsRow {
  external_id: string;
  incident_number: number | null;
  title: string;
  source_kind: string;
  severity: Severity;
  priority_raw: string | null;
  service_name: string | null;
  team_name: string | null;
  created_text: string;
  acknowledged_text: string | null;
  resolved_text: string | null;
  is_open: boolean;
  tta_seconds: number | null;
  ttr_seconds: number | null;
  first_response_seconds: number | null;
  ack_deadline_text: string | null;
  ack_outcome: SlaOutcome | null;
  resolve_deadline_text: string | null;
  resolve_outcome: SlaOutcome | null;
  escalated: boolean;
  business_hours: boolean;
  postmortem_required: boolean;
  postmortem_deadline_text: string | null;
  postmortem_outcome: PostmortemOutcome | null;
  postmortem_external_id: string | null;
  postmortem_url: string | null;
  root_cause_key: string | null;
  is_repeat: boolean;
  html_url: string | null;
  jira_issue_key: string | null;
  jira_url: string | null;
  auto_resolved: boolean;
  transient: boolean;
}

/**
 * The incidents of the period, oldest first, with their facts as of `asOf`
 * and times in the report's zone. Merged duplicates are left out, as from
 * every figure of the report.
 */
export async function listPeriodIncidents(
  db: Kysely<Database>,
  request: Pick<ReportRequest, 'granularity' | 'date' | 'timezone' | 'asOf' | 'source'>
): Promise<PeriodIncident[]> {
  const day = checkRequest(request);
  const { timezone, granularity, asOf } = request;
  await checkSource(db, request.source);
  const rows = await sql<IncidentFactsRow>`
    SELECT f.*,
      lens.iso_local(f.created_at, ${timezone}) AS created_text,
      lens.iso_local(f.acknowledged_at, ${timezone}) AS acknowledged_text,
      lens.iso_local(f.resolved_at, ${timezone}) AS resolved_text,
      lens.iso_local(f.ack_deadline, ${timezone}) AS ack_deadline_text,
      lens.iso_local(f.resolve_deadline, ${timezone}) AS resolve_deadline_text,
      lens.iso_local(f.postmortem_deadline, ${timezone}) AS postmortem_deadline_text
      , n.auto_resolved, n.transient
    FROM lens.period_bounds(${granularity}, ${day}::date, ${timezone}) p
    CROSS JOIN LATERAL lens.incident_facts(p.period_start, p.period_end, ${asOf}, ${timezone}, ${request.source ?? null}) f
    JOIN lens.incident_noise(p.period_start, p.period_end, ${asOf}) n ON n.incident_id = f.incident_id
    WHERE NOT f.merged
    ORDER BY f.created_at, f.external_id`.execute(db);
  return rows.rows.map((row) => ({
    externalId: row.external_id,
    number: row.incident_number,
    title: row.title,
    sourceKind: row.source_kind,
    severity: row.severity,
    priority: row.priority_raw,
    service: row.service_name,
    team: row.team_name,
    createdAt: row.created_text,
    acknowledgedAt: row.acknowledged_text,
    resolvedAt: row.resolved_text,
    open: row.is_open,
    ttaSeconds: row.tta_seconds,
    ttrSeconds: row.ttr_seconds,
    firstResponseSeconds: row.first_response_seconds,
    ackDeadline: row.ack_deadline_text,
    ackSla: row.ack_outcome,
    resolveDeadline: row.resolve_deadline_text,
    resolveSla: row.resolve_outcome,
    escalated: row.escalated,
    businessHours: row.business_hours,
    postmortemRequired: row.postmortem_required,
    postmortemDeadline: row.postmortem_deadline_text,
    postmortemOutcome: row.postmortem_outcome,
    postmortem: row.postmortem_external_id,
    postmortemUrl: row.postmortem_url,
    rootCause: row.root_cause_key,
    repeat: row.is_repeat,
    url: row.html_url,
    jiraIssue: row.jira_issue_key,
    jiraUrl: row.jira_url,
    autoResolved: row.auto_resolved,
    transient: row.transient,
  }));
}
