// Every SQL text the app sends, in one place. Each selects from the metric
// objects that sql/ defines (the single source of truth); none computes a
// metric itself. Template variables follow Grafana's SQL rules
// (templateVariables.ts); $__ macros are expanded by the datasource.

/** Proves the datasource reaches the reporting objects as the reader role. */
export const CONNECTION_CHECK_SQL = `SELECT count(*) AS severities FROM sla_policy`;

export const SLA_POLICY_SQL = `
SELECT severity, ack_target_seconds, resolve_target_seconds, postmortem_due_seconds, updated_at
FROM sla_policy
ORDER BY severity`;

export const REPORT_SQL = `
SELECT incident_report('$granularity', '$date'::date, '$timezone', '$as_of'::timestamptz)::text AS report`;

export const OVERVIEW_SUMMARY_SQL = `
SELECT * FROM range_summary($__timeFrom(), $__timeTo(), now())`;

export const OVERVIEW_BY_SEVERITY_SQL = `
SELECT severity, incidents FROM range_severity_distribution($__timeFrom(), $__timeTo()) ORDER BY severity`;

export const OVERVIEW_TRENDS_SQL = `
SELECT bucket_start AS time, mtta_mean_seconds, mttr_mean_seconds, ack_compliance, resolve_compliance
FROM range_trends($__timeFrom(), $__timeTo(), 'week', '$timezone', now())
ORDER BY bucket_start`;

export const INCIDENT_FILTER_OPTIONS_SQL = `
SELECT DISTINCT 'service' AS kind, service AS value FROM incident_facts WHERE service IS NOT NULL
UNION SELECT DISTINCT 'team', team FROM incident_facts WHERE team IS NOT NULL
UNION SELECT DISTINCT 'status', status FROM incident_facts
ORDER BY kind, value`;

export const INCIDENTS_SQL = `
SELECT *
FROM incident_facts
WHERE $__timeFilter(created_at)
  AND ('__all' IN ($service) OR service IN ($service))
  AND ('__all' IN ($team) OR team IN ($team))
  AND ('__all' IN ($severity) OR severity IN ($severity))
  AND ('__all' IN ($status) OR status IN ($status))
ORDER BY created_at DESC`;

export const ACTION_ITEMS_SQL = `
SELECT *
FROM action_item_facts('$timezone', now())
WHERE $include_done OR NOT done
ORDER BY overdue DESC, due_date NULLS LAST, created_at`;
