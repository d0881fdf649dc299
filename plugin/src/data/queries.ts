// Every SQL text the app sends, in one place. Each selects from the metric
// objects of the schema `lens` (sql/lens/),
// the single source of truth: nothing here computes a metric. Template
// variables follow Grafana's SQL rules (templateVariables.ts); the $__ macros
// are expanded by the datasource. "As of" is now(), as in Grafana panels,
// except on the Reports page, which takes it from the URL like --as-of.

/** Proves the datasource reaches the reporting objects as the reader role. */
export const CONNECTION_CHECK_SQL = `SELECT count(*) AS severities FROM lens.sla_policy`;

export const SLA_POLICY_SQL = `
SELECT severity, ack_target_seconds, resolve_target_seconds, postmortem_due_seconds, updated_at
FROM lens.sla_policy
ORDER BY severity`;

export const OVERVIEW_SUMMARY_SQL = `
SELECT m.incidents, m.open AS open_incidents,
  m.mtta_mean_seconds, m.mtta_median_seconds, m.mtta_p90_seconds,
  m.mttr_mean_seconds, m.mttr_median_seconds, m.mttr_p90_seconds,
  m.ack_compliance, m.ack_breached, m.resolve_compliance, m.resolve_breached,
  (SELECT count(*) FROM lens.open_overdue_action_items(now(), '$timezone')) AS open_overdue_action_items
FROM lens.metrics($__timeFrom(), $__timeTo(), now(), '$timezone', NULL, ARRAY['total']) m`;

export const OVERVIEW_BY_SEVERITY_SQL = `
SELECT dimension_key AS severity, incidents, share
FROM lens.metrics($__timeFrom(), $__timeTo(), now(), '$timezone', NULL, ARRAY['severity'])
WHERE dimension = 'severity'
ORDER BY dimension_key`;

export const OVERVIEW_TRENDS_SQL = `
SELECT period_start AS time, incidents, mtta_mean_seconds, mttr_mean_seconds, ack_compliance, resolve_compliance
FROM lens.metrics($__timeFrom(), $__timeTo(), now(), '$timezone', 'week', ARRAY['total'])
WHERE dimension = 'total'
ORDER BY period_start`;

export const INCIDENT_FILTER_OPTIONS_SQL = `
SELECT DISTINCT 'service' AS kind, service AS value FROM lens.incident_list($__timeFrom(), $__timeTo(), now(), '$timezone') WHERE service IS NOT NULL
UNION SELECT DISTINCT 'team', team FROM lens.incident_list($__timeFrom(), $__timeTo(), now(), '$timezone') WHERE team IS NOT NULL
UNION SELECT DISTINCT 'status', status FROM lens.incident_list($__timeFrom(), $__timeTo(), now(), '$timezone')
ORDER BY kind, value`;

/** The incidents panel's documented columns (plugin README), filtered like a dashboard with include-All variables. */
export const INCIDENTS_SQL = `
SELECT *
FROM lens.incident_list($__timeFrom(), $__timeTo(), now(), '$timezone')
WHERE NOT merged
  AND ('__all' IN ($service) OR service IN ($service))
  AND ('__all' IN ($team) OR team IN ($team))
  AND ('__all' IN ($severity) OR severity IN ($severity))
  AND ('__all' IN ($status) OR status IN ($status))
ORDER BY created_at DESC`;

/**
 * Every open overdue item whatever its due date (what the alert fires on),
 * then the other items due in the range and those created in it without a
 * due date; overdue first.
 */
export const ACTION_ITEMS_SQL = `
SELECT o.action_item_id AS id, o.external_id, o.title, o.owner, o.team_name AS team, o.status, o.due_date,
  true AS overdue, false AS done, NULL::timestamptz AS completed_at, o.html_url,
  o.incident_external_id AS incident_label, o.incident_url,
  o.postmortem_external_id AS postmortem_label, o.postmortem_url, o.deadline
FROM lens.open_overdue_action_items(now(), '$timezone') o
UNION ALL
SELECT f.action_item_id, f.external_id, f.title, f.owner, f.team_name, f.status, f.due_date,
  f.is_overdue, f.is_done, f.completed_at, f.html_url,
  f.incident_external_id, f.incident_url, f.postmortem_external_id, f.postmortem_url, f.deadline
FROM lens.action_item_facts($__timeFrom(), $__timeTo(), now(), '$timezone') f
WHERE NOT f.is_overdue AND ($include_done OR NOT f.is_done)
ORDER BY overdue DESC, deadline NULLS LAST, id`;

/** The period a report covers, as `incident-lens report --period --date --tz` cuts it. */
const REPORT_PERIOD = `lens.period_bounds('$granularity', '$date'::date, '$timezone')`;

/**
 * The report of one period in the shape of `incident-lens report --format json`
 * (INTERFACES.md), assembled from the same lens functions; JSON keys only,
 * every figure as SQL computed it.
 */
export const REPORT_SQL = `
WITH period AS (SELECT * FROM ${REPORT_PERIOD}),
as_of AS (SELECT '$as_of'::timestamptz AS instant),
-- The same call as buildReport (all four dimensions): a running period is computed live, and
-- a mean summed in another plan's row order may differ from the CLI's in the last bit.
figures AS (
  SELECT m.* FROM period p, as_of a,
  LATERAL lens.metrics(p.period_start, p.period_end, a.instant, '$timezone', '$granularity',
                       ARRAY['total', 'severity', 'service', 'team']) m
),
total AS (SELECT * FROM figures WHERE dimension = 'total'),
items AS (
  SELECT m.* FROM period p, as_of a,
  LATERAL lens.action_item_metrics(p.period_start, p.period_end, a.instant, '$timezone') m
  WHERE m.dimension = 'total'
)
SELECT json_build_object(
  'period', json_build_object('granularity', '$granularity', 'start', lens.iso_local(p.period_start, '$timezone'),
    'end', lens.iso_local(p.period_end, '$timezone'), 'timezone', '$timezone',
    'asOf', to_char(a.instant AT TIME ZONE 'UTC',
      CASE WHEN date_trunc('second', a.instant) = a.instant THEN 'YYYY-MM-DD"T"HH24:MI:SS"Z"' ELSE 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"' END),
    'label', p.period_label),
  'incidents', json_build_object('total', t.incidents, 'open', t.open, 'merged', t.merged, 'unclassified', t.unclassified,
    'bySeverity', json_build_object('SEV1', t.sev1, 'SEV2', t.sev2, 'SEV3', t.sev3, 'SEV4', t.sev4, 'UNKNOWN', t.unknown)),
  'mtta', json_build_object('count', t.mtta_count, 'unacknowledged', t.unacknowledged, 'meanSeconds', t.mtta_mean_seconds,
    'medianSeconds', t.mtta_median_seconds, 'p90Seconds', t.mtta_p90_seconds, 'p95Seconds', t.mtta_p95_seconds),
  'mttr', json_build_object('count', t.mttr_count, 'meanSeconds', t.mttr_mean_seconds, 'medianSeconds', t.mttr_median_seconds,
    'p90Seconds', t.mttr_p90_seconds, 'p95Seconds', t.mttr_p95_seconds),
  'sla', json_build_object(
    'ack', json_build_object('met', t.ack_met, 'breached', t.ack_breached, 'pending', t.ack_pending, 'compliance', t.ack_compliance),
    'resolve', json_build_object('met', t.resolve_met, 'breached', t.resolve_breached, 'pending', t.resolve_pending,
      'compliance', t.resolve_compliance),
    'bySeverity', (SELECT coalesce(json_object_agg(s.dimension_key, json_build_object(
        'ack', json_build_object('met', s.ack_met, 'breached', s.ack_breached, 'pending', s.ack_pending, 'compliance', s.ack_compliance),
        'resolve', json_build_object('met', s.resolve_met, 'breached', s.resolve_breached, 'pending', s.resolve_pending,
          'compliance', s.resolve_compliance))), '{}')
      FROM figures s WHERE s.dimension = 'severity' AND s.dimension_key <> 'UNKNOWN')),
  'bySeverity', (SELECT coalesce(json_object_agg(s.dimension_key, json_build_object('count', s.incidents, 'share', s.share,
      'mtta', json_build_object('count', s.mtta_count, 'unacknowledged', s.unacknowledged, 'meanSeconds', s.mtta_mean_seconds,
        'medianSeconds', s.mtta_median_seconds, 'p90Seconds', s.mtta_p90_seconds, 'p95Seconds', s.mtta_p95_seconds),
      'mttr', json_build_object('count', s.mttr_count, 'meanSeconds', s.mttr_mean_seconds, 'medianSeconds', s.mttr_median_seconds,
        'p90Seconds', s.mttr_p90_seconds, 'p95Seconds', s.mttr_p95_seconds))), '{}')
    FROM figures s WHERE s.dimension = 'severity'),
  'postmortems', json_build_object('required', t.postmortems_required, 'completed', t.postmortems_completed,
    'completedOnTime', t.postmortems_completed_on_time, 'overdue', t.postmortems_overdue),
  'actionItems', json_build_object('total', i.total, 'completed', i.completed, 'completedOnTime', i.completed_on_time,
    'open', i.open, 'overdue', i.overdue, 'completionRate', i.completion_rate, 'onTimeRate', i.on_time_rate,
    'noDueDate', i.no_due_date,
    'openOverdueTotal', (SELECT count(*) FROM lens.open_overdue_action_items(a.instant, '$timezone'))),
  'repeatRootCauses', (SELECT coalesce(json_agg(json_build_object('rootCause', r.root_cause, 'count', r.incidents,
      'repeats', r.repeats, 'incidents', r.incident_external_ids)), '[]')
    FROM lens.repeat_root_causes(p.period_start, p.period_end, a.instant, '$timezone') r),
  'repeatRate', t.repeat_rate,
  'escalationRate', t.escalation_rate
)::text AS report
FROM period p, as_of a, total t, items i`;
