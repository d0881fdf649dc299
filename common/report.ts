// The report JSON (README.md "Report JSON", plus the extra fields the
// README documents) as lens.report (sql/lens/85_report.sql) returns it, and the
// columns of the lens functions both the collector and the plugin read. The
// SQL is the shape's one definition; these types describe it for TypeScript.

/** The severities with SLA targets, most urgent first (docs/metrics.md §4). */
export const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const;
export type TargetSeverity = (typeof SEVERITIES)[number];
/** Incidents whose priority maps to no severity are UNKNOWN, never guessed. */
export type Severity = TargetSeverity | 'UNKNOWN';
export const ALL_SEVERITIES: readonly Severity[] = [...SEVERITIES, 'UNKNOWN'];

export const GRANULARITIES = ['day', 'week', 'month'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

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
  /** YYYY-MM-DD. */
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

/** A headline figure that differs between the published report and today's. */
export interface Revision {
  figure: string;
  published: number | null;
  current: number | null;
}

/** A change a reconciliation found, since publication, in a record of the period (lens.report_reconciled). */
export interface ReconciledRecord {
  /** The account's name. */
  source: string;
  kind: 'incident' | 'postmortem' | 'action_item';
  /** The key it had when the change was found (a Jira key, a PagerDuty incident id). */
  record: string;
  /** deleted, kind (no longer / again of its kind), key (moved), or the incident field that changed. */
  field: string;
  from: string | null;
  to: string | null;
  foundAt: string;
}

export interface PublishedComparison {
  publishedAt: string;
  /** The as-of instant of the published report. */
  asOf: string;
  revisions: Revision[];
  /** Absent from reports frozen before reconciliations were recorded. */
  reconciled?: ReconciledRecord[];
}

export interface BandCounts {
  total: number;
  business: number;
  off: number;
  sleep: number;
}

/** On-call load (docs/metrics.md §10). */
export interface OnCallFigures {
  interruptions: BandCounts;
  nightsInterrupted: number;
  /** Every notification, email and unknown methods included. */
  notifications: number;
  unknownMethod: number;
  responders: Array<
    BandCounts & {
      user: string;
      name: string;
      timeZone: string;
      nightsInterrupted: number;
      acknowledged: number;
    }
  >;
  byService: Array<BandCounts & { service: string; nightsInterrupted: number }>;
  /** Cells with interruptions, in the report's zone: weekday 1 = Monday, hour 0-23. */
  heatmap: Array<{ weekday: number; hour: number; interruptions: number }>;
}

/** Noise (docs/metrics.md §11). */
export interface NoiseFigures {
  autoResolved: number;
  transient: number;
  autoResolvedShare: number | null;
  transientShare: number | null;
  byService: Array<{ service: string; incidents: number; autoResolved: number; transient: number }>;
}

/** What the figures cannot see (docs/metrics.md §12). */
export interface DataQualityFigures {
  withoutSeverity: number;
  postmortemMissing: number;
  actionItemsWithoutOwner: number;
  actionItemsWithoutDueDate: number;
  quarantinedLast30Days: number;
  unlinkedTickets: number;
}

/** The account (`sources:` name) a report is restricted to. */
export interface ReportSource {
  name: string;
  /** pagerduty, jira, ... */
  kind: string;
}

export interface ReportJson {
  period: ReportPeriod;
  /** The account every figure covers; null: every account. Absent from reports published before accounts. */
  source?: ReportSource | null;
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
  dataQuality: DataQualityFigures;
  /** Present when this period's report was published: what late data changed since. */
  published?: PublishedComparison | null;
}

/**
 * A row of lens.metrics (type lens.incident_metrics). `Time` is how the
 * reader receives timestamptz: a Date from node-postgres, epoch
 * milliseconds from a Grafana data frame.
 */
export interface IncidentMetricsRow<Time = Date> {
  period_start: Time;
  period_end: Time;
  /** 2026-10-25, 2026-W44 or 2026-10; null for a range that is no period. */
  period_label: string | null;
  dimension: 'total' | 'severity' | 'service' | 'team';
  /** null for total; SEV1..UNKNOWN; the service or team id (null: none). */
  dimension_key: string | null;
  dimension_label: string;
  incidents: number;
  share: number | null;
  merged: number;
  open: number;
  unclassified: number;
  sev1: number;
  sev2: number;
  sev3: number;
  sev4: number;
  unknown: number;
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
  escalated: number;
  escalation_rate: number | null;
  business_hours: number;
  off_hours: number;
  mttd_count: number;
  mttd_mean_seconds: number | null;
  mttd_median_seconds: number | null;
  mttd_p90_seconds: number | null;
  mttd_p95_seconds: number | null;
  root_cause_incidents: number;
  repeat_incidents: number;
  repeat_rate: number | null;
}
