// Every SQL text the app sends, in one place. Each selects from the metric
// objects of the schema `lens` (sql/lens/),
// the single source of truth: nothing here computes a metric. Template
// variables follow Grafana's SQL rules (templateVariables.ts); the $__ macros
// are expanded by the datasource. "As of" is now(), as in Grafana panels,
// except on the Reports page, which takes it from the URL like --as-of.
// `$source` is the account picker (accountVariable): a quoted name, or NULL
// for every account, passed as each function's `account`.

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
  (SELECT count(*) FROM lens.overdue_action_items(now(), '$timezone', account => $source)) AS open_overdue_action_items
FROM lens.metrics($__timeFrom(), $__timeTo(), now(), '$timezone', NULL, ARRAY['total'], account => $source) m`;

export const OVERVIEW_BY_SEVERITY_SQL = `
SELECT dimension_key AS severity, incidents, share
FROM lens.metrics($__timeFrom(), $__timeTo(), now(), '$timezone', NULL, ARRAY['severity'], account => $source, percentiles => false)
WHERE dimension = 'severity'
ORDER BY dimension_key`;

export const OVERVIEW_TRENDS_SQL = `
SELECT period_start AS time, incidents, mtta_mean_seconds, mttr_mean_seconds, ack_compliance, resolve_compliance
FROM lens.metrics($__timeFrom(), $__timeTo(), now(), '$timezone', 'week', ARRAY['total'], account => $source, percentiles => false)
WHERE dimension = 'total'
ORDER BY period_start`;

export const INCIDENT_FILTER_OPTIONS_SQL = `
SELECT kind, value FROM lens.incident_filter_options($__timeFrom(), $__timeTo(), now(), account => $source)`;

/** Rows per page of the Incidents page. */
export const INCIDENTS_PAGE_SIZE = 100;

/**
 * One page of the incidents panel's documented columns (plugin README),
 * newest first, filtered like a dashboard with include-All variables; the
 * server pages by keyset from $page_after (the previous page's last
 * page_cursor, empty for the first page).
 */
export const INCIDENTS_SQL = `
SELECT *
FROM lens.incident_list($__timeFrom(), $__timeTo(), now(), '$timezone',
  account => $source, page_size => ${INCIDENTS_PAGE_SIZE}, page_after => '$page_after',
  services => ARRAY[$service]::text[], teams => ARRAY[$team]::text[], severities => ARRAY[$severity]::text[],
  statuses => ARRAY[$status]::text[], include_merged => false)`;

/** Rows per page of the Action items page. */
export const ACTION_ITEMS_PAGE_SIZE = 100;

const ACTION_ITEMS_OF_RANGE =
  "$__timeFrom(), $__timeTo(), now(), '$timezone', account => $source, include_done => $include_done";

/**
 * One page of lens.action_item_list: every open overdue item whatever its
 * due date (what the alert fires on), then the other items due in the range
 * and those created in it without a due date. The server pages by keyset
 * from $page_after (the previous page's last page_cursor, empty for the
 * first page).
 */
export const ACTION_ITEMS_SQL = `
SELECT action_item_id AS id, external_id, title, owner, team_name AS team, status, due_date,
  is_overdue AS overdue, is_done AS done, completed_at, html_url,
  incident_external_id AS incident_label, incident_url, postmortem_external_id AS postmortem_label, postmortem_url,
  deadline, page_cursor
FROM lens.action_item_list(${ACTION_ITEMS_OF_RANGE},
  page_size => ${ACTION_ITEMS_PAGE_SIZE}, page_after => '$page_after')`;

/** The size of that list and how many of its items are overdue, counted without reading the items. */
export const ACTION_ITEMS_SIZE_SQL = `
SELECT items, overdue FROM lens.action_item_list_size(${ACTION_ITEMS_OF_RANGE})`;

/**
 * The On-call page's queries: every figure comes from lens.oncall_metrics
 * (sql/lens/75_oncall.sql), one row per dimension value.
 */
export const ONCALL_SQL = `
SELECT dimension, dimension_key, external_id, dimension_label, time_zone, notifications, unknown_method,
       interruptions, business, off, sleep, nights_interrupted, acknowledged,
       incidents, auto_resolved, transient, auto_resolved_share, transient_share
FROM lens.oncall_metrics($__timeFrom(), $__timeTo(), now(), '$timezone', account => $source)`;

export const ONCALL_BANDS_SQL = `
SELECT period_start AS time, business, off, sleep
FROM lens.oncall_metrics($__timeFrom(), $__timeTo(), now(), '$timezone', 'week', account => $source,
                         dimensions => '{total}')
ORDER BY period_start`;

/**
 * The report of one period, the value `incident-lens report --format json`
 * prints: lens.report builds it (sql/lens/85_report.sql), as text so the frame
 * carries it whole.
 */
export const REPORT_SQL = `
SELECT lens.report('$granularity', '$date'::date, '$as_of'::timestamptz, '$timezone', account => $source)::text AS report`;

/** The accounts for the account picker (names and kinds only). */
export const ACCOUNTS_SQL = `SELECT name, kind FROM lens.accounts ORDER BY name`;

/** The latest report deliveries (e-mail, Slack), for the Configuration page; recipients are addresses or variable names. */
export const REPORT_DELIVERIES_SQL = `
SELECT run_id, granularity, period_label, trigger, channel, recipient, status, tries, error, updated_at
FROM lens.report_deliveries
ORDER BY updated_at DESC, run_id DESC, position
LIMIT 50`;
