import { sql, type Kysely } from 'kysely';
import { SEVERITIES, isValidTimeZone, type Severity } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { UsageError } from '../errors.ts';

// Everything here arranges rows that the SQL functions of schema `lens`
// computed (sql/005_metrics.sql); no figure is computed in TypeScript.

export type Granularity = 'day' | 'week' | 'month';
export const GRANULARITIES: readonly Granularity[] = ['day', 'week', 'month'];
export type TargetSeverity = (typeof SEVERITIES)[number];
export const ALL_SEVERITIES: readonly Severity[] = [...SEVERITIES, 'UNKNOWN'];

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
}

export interface DurationFigures {
  count: number;
  meanSeconds: number | null;
  medianSeconds: number | null;
  p90Seconds: number | null;
  p95Seconds: number | null;
}

export interface MttaFigures extends DurationFigures {
  unacknowledged: number;
}

export interface SlaOutcomes {
  met: number;
  breached: number;
  pending: number;
  compliance: number | null;
}

export interface SlaFigures {
  ack: SlaOutcomes;
  resolve: SlaOutcomes;
}

export interface PostmortemFigures {
  required: number;
  completed: number;
  completedOnTime: number;
  overdue: number;
}

export interface ActionItemFigures {
  total: number;
  completed: number;
  completedOnTime: number;
  open: number;
  overdue: number;
  completionRate: number | null;
  onTimeRate: number | null;
  noDueDate: number;
}

export interface RepeatRootCause {
  rootCause: string;
  count: number;
  repeats: number;
  incidents: string[];
}

export interface ReportPeriod {
  granularity: Granularity;
  /** Local time with its offset, e.g. 2026-10-01T00:00:00+02:00. */
  start: string;
  end: string;
  timezone: string;
  asOf: string;
  /** 2026-10, 2026-W44 or 2026-10-25. */
  label: string;
}

export interface SeverityFigures {
  count: number;
  share: number | null;
  mtta: MttaFigures;
  mttr: DurationFigures;
}

/** The figures of one service or team (or the incidents with none). */
export interface DimensionFigures {
  /** Service or team id; null for incidents without one. */
  key: string | null;
  name: string;
  incidents: number;
  share: number | null;
  open: number;
  mtta: MttaFigures;
  mttr: DurationFigures;
  sla: SlaFigures;
  postmortems: PostmortemFigures;
  actionItems: ActionItemFigures;
  escalationRate: number | null;
  repeatRate: number | null;
}

export interface PeriodHeadline {
  label: string;
  start: string;
  end: string;
  incidents: { total: number; open: number; merged: number; unclassified: number };
  mtta: MttaFigures;
  mttr: DurationFigures;
  sla: SlaFigures;
  postmortems: PostmortemFigures;
  escalationRate: number | null;
  repeatRate: number | null;
}

export interface PreviousPeriod extends PeriodHeadline {
  actionItems: ActionItemFigures;
}

export interface OverdueActionItem {
  externalId: string;
  title: string;
  owner: string | null;
  status: string;
  dueDate: string;
  deadline: string;
  overdueSeconds: number;
  incident: string | null;
  incidentTitle: string | null;
  postmortem: string | null;
  service: string | null;
  team: string | null;
  url: string | null;
}

export interface BandCounts {
  total: number;
  business: number;
  off: number;
  sleep: number;
}

/** On-call load (METRICS.md 10), computed by lens.oncall_report (sql/008_oncall.sql). */
export interface OnCallFigures {
  interruptions: BandCounts;
  nightsInterrupted: number;
  /** Every notification, email and unknown methods included. */
  notifications: number;
  unknownMethod: number;
  responders: (BandCounts & {
    user: string;
    name: string;
    timeZone: string;
    nightsInterrupted: number;
    acknowledged: number;
  })[];
  byService: (BandCounts & { service: string })[];
  /** Cells with interruptions, in the report's zone: weekday 1 = Monday, hour 0-23. */
  heatmap: { weekday: number; hour: number; interruptions: number }[];
}

/** Noise (METRICS.md 11). */
export interface NoiseFigures {
  autoResolved: number;
  transient: number;
  autoResolvedShare: number | null;
  transientShare: number | null;
  byService: { service: string; incidents: number; autoResolved: number; transient: number }[];
}

/** The report JSON of INTERFACES.md, plus extra fields (never renamed ones). */
export interface ReportJson {
  period: ReportPeriod;
  incidents: {
    total: number;
    open: number;
    merged: number;
    unclassified: number;
    bySeverity: Record<Severity, number>;
  };
  mtta: MttaFigures;
  mttr: DurationFigures;
  sla: SlaFigures & { bySeverity: Record<TargetSeverity, SlaFigures> };
  bySeverity: Record<Severity, SeverityFigures>;
  postmortems: PostmortemFigures;
  actionItems: ActionItemFigures & { openOverdueTotal: number };
  repeatRootCauses: RepeatRootCause[];
  repeatRate: number | null;
  escalationRate: number | null;
  /** Mean time from the start of impact to the incident, where a source knows it. */
  mttdSeconds: number | null;
  mttd: DurationFigures;
  businessHours: { businessHours: number; offHours: number };
  byService: DimensionFigures[];
  byTeam: DimensionFigures[];
  previous: PreviousPeriod | null;
  trend: PeriodHeadline[];
  overdueActionItems: OverdueActionItem[];
  onCall: OnCallFigures;
  noise: NoiseFigures;
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

/** A row of lens.metrics (sql/005_metrics.sql, type lens.incident_metrics). */
interface MetricsRow {
  period_start: Date;
  period_end: Date;
  period_label: string | null;
  dimension: 'total' | 'severity' | 'service' | 'team';
  dimension_key: string | null;
  dimension_label: string;
  incidents: number;
  share: number | null;
  merged: number;
  open: number;
  unclassified: number;
  mtta_count: number;
  unacknowledged: number;
  mtta_mean_seconds: number | null;
  mtta_median_seconds: number | null;
  mtta_p90_seconds: number | null;
  mtta_p95_seconds: number | null;
  mttr_count: number;
  mttr_mean_seconds: number | null;
  mttr_median_seconds: number | null;
  mttr_p90_seconds: number | null;
  mttr_p95_seconds: number | null;
  ack_met: number;
  ack_breached: number;
  ack_pending: number;
  ack_compliance: number | null;
  resolve_met: number;
  resolve_breached: number;
  resolve_pending: number;
  resolve_compliance: number | null;
  postmortems_required: number;
  postmortems_completed: number;
  postmortems_completed_on_time: number;
  postmortems_overdue: number;
  escalation_rate: number | null;
  business_hours: number;
  off_hours: number;
  mttd_count: number;
  mttd_mean_seconds: number | null;
  mttd_median_seconds: number | null;
  mttd_p90_seconds: number | null;
  mttd_p95_seconds: number | null;
  repeat_rate: number | null;
  start_text: string;
  end_text: string;
}

interface ActionItemMetricsRow {
  period_start: Date;
  dimension: 'total' | 'service' | 'team';
  dimension_key: string | null;
  total: number;
  completed: number;
  completed_on_time: number;
  open: number;
  overdue: number;
  completion_rate: number | null;
  on_time_rate: number | null;
  no_due_date: number;
}

interface PeriodRow {
  period_start: Date;
  period_end: Date;
  period_label: string;
  start_text: string;
  end_text: string;
}

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
  if (/^\d{4}-\d{2}-\d{2}$/.test(date)) return checkedDay(date, date);
  throw new UsageError(`--date must be YYYY-MM-DD${granularity === 'month' ? ' or YYYY-MM' : ''}: got '${date}'`);
}

function checkedDay(day: string, original: string): string {
  const parsed = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== day) {
    throw new UsageError(`--date is not a calendar date: got '${original}'`);
  }
  return day;
}

function checkRequest(request: ReportRequest): string {
  if (!isValidTimeZone(request.timezone)) {
    throw new UsageError(`--tz must be an IANA time zone such as Europe/Berlin: got '${request.timezone}'`);
  }
  if (Number.isNaN(request.asOf.getTime())) throw new UsageError('--as-of must be an ISO 8601 instant');
  return reportDay(request.granularity, request.date);
}

/** An instant as ISO 8601 UTC, without milliseconds when they are 0. */
export function isoInstant(instant: Date): string {
  return instant.toISOString().replace('.000Z', 'Z');
}

function duration(row: MetricsRow, prefix: 'mttr' | 'mttd'): DurationFigures {
  return {
    count: row[`${prefix}_count`],
    meanSeconds: row[`${prefix}_mean_seconds`],
    medianSeconds: row[`${prefix}_median_seconds`],
    p90Seconds: row[`${prefix}_p90_seconds`],
    p95Seconds: row[`${prefix}_p95_seconds`],
  };
}

function mtta(row: MetricsRow): MttaFigures {
  return {
    count: row.mtta_count,
    unacknowledged: row.unacknowledged,
    meanSeconds: row.mtta_mean_seconds,
    medianSeconds: row.mtta_median_seconds,
    p90Seconds: row.mtta_p90_seconds,
    p95Seconds: row.mtta_p95_seconds,
  };
}

function sla(row: MetricsRow): SlaFigures {
  return {
    ack: { met: row.ack_met, breached: row.ack_breached, pending: row.ack_pending, compliance: row.ack_compliance },
    resolve: {
      met: row.resolve_met,
      breached: row.resolve_breached,
      pending: row.resolve_pending,
      compliance: row.resolve_compliance,
    },
  };
}

function postmortems(row: MetricsRow): PostmortemFigures {
  return {
    required: row.postmortems_required,
    completed: row.postmortems_completed,
    completedOnTime: row.postmortems_completed_on_time,
    overdue: row.postmortems_overdue,
  };
}

const NO_ACTION_ITEMS: ActionItemFigures = {
  total: 0,
  completed: 0,
  completedOnTime: 0,
  open: 0,
  overdue: 0,
  completionRate: null,
  onTimeRate: null,
  noDueDate: 0,
};

function actionItems(row: ActionItemMetricsRow | undefined): ActionItemFigures {
  if (!row) return { ...NO_ACTION_ITEMS };
  return {
    total: row.total,
    completed: row.completed,
    completedOnTime: row.completed_on_time,
    open: row.open,
    overdue: row.overdue,
    completionRate: row.completion_rate,
    onTimeRate: row.on_time_rate,
    noDueDate: row.no_due_date,
  };
}

function headline(row: MetricsRow, label: string): PeriodHeadline {
  return {
    label,
    start: row.start_text,
    end: row.end_text,
    incidents: { total: row.incidents, open: row.open, merged: row.merged, unclassified: row.unclassified },
    mtta: mtta(row),
    mttr: duration(row, 'mttr'),
    sla: sla(row),
    postmortems: postmortems(row),
    escalationRate: row.escalation_rate,
    repeatRate: row.repeat_rate,
  };
}

function dimensionFigures(rows: MetricsRow[], items: ActionItemMetricsRow[], dimension: 'service' | 'team'): DimensionFigures[] {
  return rows
    .filter((row) => row.dimension === dimension)
    .map((row) => ({
      key: row.dimension_key,
      name: row.dimension_label,
      incidents: row.incidents,
      share: row.share,
      open: row.open,
      mtta: mtta(row),
      mttr: duration(row, 'mttr'),
      sla: sla(row),
      postmortems: postmortems(row),
      actionItems: actionItems(
        items.find((item) => item.dimension === dimension && item.dimension_key === row.dimension_key),
      ),
      escalationRate: row.escalation_rate,
      repeatRate: row.repeat_rate,
    }))
    .sort((a, b) => b.incidents - a.incidents || a.name.localeCompare(b.name));
}

function metricsQuery(rangeStart: Date, rangeEnd: Date, request: ReportRequest, dimensions: string[]) {
  return sql<MetricsRow>`
    SELECT m.*, lens.iso_local(m.period_start, ${request.timezone}) AS start_text,
           lens.iso_local(m.period_end, ${request.timezone}) AS end_text
    FROM lens.metrics(${rangeStart}, ${rangeEnd}, ${request.asOf}, ${request.timezone},
                      ${request.granularity}, ${sql.val(dimensions)}::text[]) m`;
}

/**
 * The report of the period of `granularity` containing `date`, as of
 * `asOf`: the JSON of INTERFACES.md with the previous period, the trend and
 * the overdue action items that the Markdown and HTML reports show. All
 * queries read one snapshot, so the figures add up even while a sync writes.
 */
export async function buildReport(db: Kysely<Database>, request: ReportRequest): Promise<ReportJson> {
  const day = checkRequest(request);
  const trendPeriods = request.trendPeriods ?? 12;
  const { timezone, granularity, asOf } = request;

  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      // The trend's periods, at least this one and the one before, oldest first.
      const periods = (
        await sql<PeriodRow>`
          SELECT p.*, lens.iso_local(p.period_start, ${timezone}) AS start_text,
                 lens.iso_local(p.period_end, ${timezone}) AS end_text
          FROM lens.recent_periods(${granularity}, ${day}::date, ${timezone}, ${Math.max(trendPeriods, 2)}) p
          ORDER BY p.period_start`.execute(trx)
      ).rows;
      const period = periods[periods.length - 1]!;
      const previousPeriod = periods[periods.length - 2]!;

      const current = (await metricsQuery(period.period_start, period.period_end, request, ['total', 'severity', 'service', 'team']).execute(trx)).rows;
      const total = current.find((row) => row.dimension === 'total')!;

      // The previous period's headline comes with the trend.
      const trendRows = (await metricsQuery(periods[0]!.period_start, period.period_end, request, ['total']).execute(trx)).rows;
      const previousRow = trendRows.find((row) => row.period_start.getTime() === previousPeriod.period_start.getTime());

      const items = (
        await sql<ActionItemMetricsRow>`
          SELECT * FROM lens.action_item_metrics(${previousPeriod.period_start}, ${period.period_end}, ${asOf},
                                                 ${timezone}, ${granularity})`.execute(trx)
      ).rows;
      const currentItems = items.filter((row) => row.period_start.getTime() === period.period_start.getTime());
      const previousItems = items.find(
        (row) => row.period_start.getTime() === previousPeriod.period_start.getTime() && row.dimension === 'total',
      );

      const repeats = (
        await sql<{ root_cause: string; incidents: number; repeats: number; incident_external_ids: string[] }>`
          SELECT * FROM lens.repeat_root_causes(${period.period_start}, ${period.period_end}, ${asOf}, ${timezone})`.execute(trx)
      ).rows;

      // count(*) OVER () is taken before LIMIT: every overdue item is counted, the oldest listed.
      const listLimit = request.overdueListLimit ?? 100;
      const overdueRows = (
        await sql<OverdueRow>`
          SELECT o.*, lens.iso_local(o.deadline, ${timezone}) AS deadline_text, count(*) OVER () AS total_overdue
          FROM lens.open_overdue_action_items(${asOf}, ${timezone}) o
          ORDER BY o.deadline, o.external_id
          LIMIT ${Math.max(listLimit, 1)}`.execute(trx)
      ).rows;
      const openOverdueTotal = overdueRows[0]?.total_overdue ?? 0;
      const overdue = overdueRows.slice(0, listLimit);

      const onCall = (
        await sql<{ figures: { onCall: OnCallFigures; noise: NoiseFigures } }>`
          SELECT lens.oncall_report(${granularity}, ${period.period_start}, ${period.period_end}, ${asOf}, ${timezone}) AS figures`.execute(trx)
      ).rows[0]!.figures;

      const severityRows = new Map(current.filter((row) => row.dimension === 'severity').map((row) => [row.dimension_key as Severity, row]));
      const severityRow = (severity: Severity) => severityRows.get(severity)!;

      return {
        period: {
          granularity,
          start: period.start_text,
          end: period.end_text,
          timezone,
          asOf: isoInstant(asOf),
          label: period.period_label,
        },
        incidents: {
          total: total.incidents,
          open: total.open,
          merged: total.merged,
          unclassified: total.unclassified,
          bySeverity: Object.fromEntries(ALL_SEVERITIES.map((severity) => [severity, severityRow(severity).incidents])) as Record<Severity, number>,
        },
        mtta: mtta(total),
        mttr: duration(total, 'mttr'),
        sla: {
          ...sla(total),
          bySeverity: Object.fromEntries(SEVERITIES.map((severity) => [severity, sla(severityRow(severity))])) as Record<TargetSeverity, SlaFigures>,
        },
        bySeverity: Object.fromEntries(
          ALL_SEVERITIES.map((severity) => {
            const row = severityRow(severity);
            return [severity, { count: row.incidents, share: row.share, mtta: mtta(row), mttr: duration(row, 'mttr') }];
          }),
        ) as Record<Severity, SeverityFigures>,
        postmortems: postmortems(total),
        actionItems: { ...actionItems(currentItems.find((row) => row.dimension === 'total')), openOverdueTotal },
        repeatRootCauses: repeats.map((row) => ({
          rootCause: row.root_cause,
          count: row.incidents,
          repeats: row.repeats,
          incidents: row.incident_external_ids,
        })),
        repeatRate: total.repeat_rate,
        escalationRate: total.escalation_rate,
        mttdSeconds: total.mttd_mean_seconds,
        mttd: duration(total, 'mttd'),
        businessHours: { businessHours: total.business_hours, offHours: total.off_hours },
        byService: dimensionFigures(current, currentItems, 'service'),
        byTeam: dimensionFigures(current, currentItems, 'team'),
        previous: previousRow
          ? { ...headline(previousRow, previousPeriod.period_label), actionItems: actionItems(previousItems) }
          : null,
        trend: trendPeriods > 0 ? trendRows.map((row) => headline(row, row.period_label ?? '')) : [],
        overdueActionItems: overdue.map((row) => ({
          externalId: row.external_id,
          title: row.title,
          owner: row.owner,
          status: row.status,
          dueDate: row.due_date,
          deadline: row.deadline_text,
          overdueSeconds: row.overdue_seconds,
          incident: row.incident_external_id,
          incidentTitle: row.incident_title,
          postmortem: row.postmortem_external_id,
          service: row.service_name,
          team: row.team_name,
          url: row.html_url,
        })),
        onCall: onCall.onCall,
        noise: onCall.noise,
      };
    });
}

interface OverdueRow {
  external_id: string;
  title: string;
  owner: string | null;
  status: string;
  due_date: string;
  deadline_text: string;
  overdue_seconds: number;
  incident_external_id: string | null;
  incident_title: string | null;
  postmortem_external_id: string | null;
  service_name: string | null;
  team_name: string | null;
  html_url: string | null;
  total_overdue: number;
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
  request: Pick<ReportRequest, 'granularity' | 'date' | 'timezone' | 'asOf'>,
): Promise<PeriodIncident[]> {
  const day = checkRequest(request);
  const { timezone, granularity, asOf } = request;
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
    CROSS JOIN LATERAL lens.incident_facts(p.period_start, p.period_end, ${asOf}, ${timezone}) f
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
