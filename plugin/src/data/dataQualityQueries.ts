// The Data quality page's SQL: the lists of sql/lens/82_data_quality.sql for the
// selected range, as of now, and lens.data_quality for the counts the report carries.

const RANGE = "$__timeFrom(), $__timeTo(), now(), '$timezone', account => $source";

/** Rows per page of the two lists the server pages (by keyset, oldest first): a table that fits on a screen. */
export const DATA_QUALITY_PAGE_SIZE = 25;

// One page: the rows after $page_after (the last page_cursor of the page before; empty for the first).
const PAGE = `page_size => ${DATA_QUALITY_PAGE_SIZE}, page_after => '$page_after'`;

/**
 * The report's counts, and the action items without an owner and without a
 * due date: counted in both of the report's counts, listed once.
 */
export const DATA_QUALITY_SUMMARY_SQL = `
SELECT lens.data_quality(${RANGE})::text AS figures,
  (SELECT count(*) FROM lens.placed_action_items(${RANGE}) p WHERE p.without_owner AND p.due_date IS NULL)
    AS action_items_without_both`;

export const INCIDENTS_WITHOUT_SEVERITY_SQL = `
SELECT external_id, number, title, priority_raw, created_at, html_url, page_cursor
FROM lens.incidents_without_severity($__timeFrom(), $__timeTo(), now(), account => $source, ${PAGE})`;

export const MISSING_POSTMORTEMS_SQL = `
SELECT external_id, number, title, severity, resolved_at, postmortem_deadline, html_url, jira_issue_key, jira_url
FROM lens.missing_postmortems(${RANGE})`;

export const ACTION_ITEMS_WITHOUT_OWNER_OR_DUE_DATE_SQL = `
SELECT external_id, title, owner, due_date::text AS due_date, without_owner, without_due_date, html_url,
       incident_external_id, incident_url, page_cursor
FROM lens.action_items_without_owner_or_due_date(${RANGE}, ${PAGE})`;

export const QUARANTINED_RECORDS_SQL = `
SELECT source_kind, source_name, record_kind, external_id, reason, first_seen_at, last_seen_at, seen_count
FROM lens.quarantined_records(now(), 30, account => $source)`;

export const UNLINKED_JIRA_TICKETS_SQL = `
SELECT issue_key, html_url, created_at, array_to_string(missing_incident_ids, ', ') AS missing_incident_ids
FROM lens.unlinked_jira_tickets(now(), account => $source)`;

export const LAST_SYNCS_SQL = `
SELECT source_kind, source_name, last_success_at, seconds_since_success
FROM lens.collector_freshness ORDER BY source_kind, source_name`;
