// The Data quality page's SQL: the lists of sql/lens/82_data_quality.sql for the
// selected range, as of now, and lens.data_quality for the counts the report carries.

const RANGE = "$__timeFrom(), $__timeTo(), now(), '$timezone', account => $source";

export const DATA_QUALITY_SUMMARY_SQL = `SELECT lens.data_quality(${RANGE})::text AS figures`;

export const INCIDENTS_WITHOUT_SEVERITY_SQL = `
SELECT external_id, number, title, priority_raw, created_at, html_url
FROM lens.incidents_without_severity($__timeFrom(), $__timeTo(), now(), account => $source)`;

export const MISSING_POSTMORTEMS_SQL = `
SELECT external_id, number, title, severity, resolved_at, postmortem_deadline, html_url, jira_issue_key, jira_url
FROM lens.missing_postmortems(${RANGE})`;

export const ACTION_ITEMS_WITHOUT_OWNER_OR_DUE_DATE_SQL = `
SELECT external_id, title, owner, due_date::text AS due_date, without_owner, without_due_date, html_url,
       incident_external_id, incident_url
FROM lens.action_items_without_owner_or_due_date(${RANGE})`;

export const QUARANTINED_RECORDS_SQL = `
SELECT source_kind, source_name, record_kind, external_id, reason, first_seen_at, last_seen_at, seen_count
FROM lens.quarantined_records(now(), 30, account => $source)`;

export const UNLINKED_JIRA_TICKETS_SQL = `
SELECT issue_key, html_url, created_at, array_to_string(missing_incident_ids, ', ') AS missing_incident_ids
FROM lens.unlinked_jira_tickets(now(), account => $source)`;

export const LAST_SYNCS_SQL = `
SELECT source_kind, source_name, last_success_at, seconds_since_success
FROM lens.collector_freshness ORDER BY source_kind, source_name`;
