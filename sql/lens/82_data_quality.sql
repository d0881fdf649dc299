-- Data quality (docs/metrics.md §12): what the figures cannot see. Each list is
-- the definition of its count in lens.data_quality; the Data quality page
-- shows the lists, the report the counts. The last successful sync of each
-- account is lens.collector_freshness (80_grafana.sql).
--
-- The lists and counts of a range read partial indexes of the facts, then
-- each listed row's details by key. They are planned for each call's range
-- (plan_cache_mode): the plan PostgreSQL caches for any range after five
-- calls in a session reads every incident of the range.

-- The period's incidents (merged left out) whose severity is UNKNOWN: no SLA
-- target applies to them, so they are missing from every compliance figure.
-- Read from the facts' partial index; inlined, so a count reads nothing else.
CREATE FUNCTION lens.unknown_severity_incidents(range_start timestamptz, range_end timestamptz, as_of timestamptz,
                                                account text DEFAULT NULL)
RETURNS TABLE (incident_id bigint, created_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT f.incident_id, f.created_at
  FROM lens.incident_fact f
  WHERE f.created_at >= range_start AND f.created_at < range_end AND f.created_at <= as_of
    AND NOT f.merged AND f.severity = 'UNKNOWN'
    AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)));
END;

-- Where a page of a list oldest first starts: after the page_cursor
-- `page_after` (lens.page_after), or at range_start when there is none or it
-- lies before; id 0 comes before every row at range_start (ids are positive).
-- A page's index scan is bounded below by this alone, passed in LATERAL: beside
-- a second lower bound PostgreSQL may start at the looser one and walk every
-- row up to the other (five years of rows before a 30-day range).
CREATE FUNCTION lens.page_start(page_after text, list text, range_start timestamptz,
                                OUT after_at timestamptz, OUT after_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT CASE WHEN c.after_at >= range_start THEN c.after_at ELSE range_start END,
         CASE WHEN c.after_at >= range_start THEN c.after_id ELSE 0 END
  FROM lens.page_after(page_after, list) c;
END;

-- Those incidents with their details, oldest first. With page_size, one
-- page: the rows after `page_after` (the page_cursor of the last row of the
-- page before; NULL or '' for the first page), read in the list's order from
-- the facts' partial index on (created_at, incident_id), so that a page costs
-- the same at any depth.
CREATE FUNCTION lens.incidents_without_severity(range_start timestamptz, range_end timestamptz, as_of timestamptz,
                                                account text DEFAULT NULL, page_size integer DEFAULT NULL,
                                                page_after text DEFAULT NULL)
RETURNS TABLE (external_id text, number integer, title text, priority_raw text, created_at timestamptz, html_url text,
               -- Where the next page starts: pass the last row's as page_after.
               page_cursor text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  WITH page AS (
    SELECT u.incident_id, u.created_at
    FROM lens.page_start(page_after, 'lens.incidents_without_severity', range_start) b
    CROSS JOIN LATERAL (
      SELECT u.incident_id, u.created_at
      FROM lens.unknown_severity_incidents(b.after_at, range_end, as_of, account) u
      WHERE (u.created_at, u.incident_id) > (b.after_at, b.after_id)
      ORDER BY u.created_at, u.incident_id
      LIMIT page_size
    ) u
  )
  SELECT i.external_id, i.number, i.title, i.priority_raw, i.created_at, i.html_url,
         lens.page_cursor(p.created_at, p.incident_id)
  FROM page p
  CROSS JOIN LATERAL (SELECT x.* FROM public.incidents x WHERE x.id = p.incident_id OFFSET 0) i
  ORDER BY p.created_at, p.incident_id;
END;

-- The period's incidents whose post-mortem the policy requires, none is
-- linked by as_of, and its due date has passed. From the facts' partial
-- index and, for an as_of in the past, the incidents whose first post-mortem
-- came after it; inlined, so a count reads nothing else.
CREATE FUNCTION lens.missing_postmortem_incidents(range_start timestamptz, range_end timestamptz, as_of timestamptz,
                                                  account text DEFAULT NULL)
RETURNS TABLE (incident_id bigint, resolved_at timestamptz, postmortem_deadline timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT f.incident_id, f.resolved_at, f.resolved_at + lens.seconds(sp.postmortem_due_seconds)
  FROM lens.sla_policy sp
  CROSS JOIN LATERAL (
    SELECT x.incident_id, x.resolved_at, x.source_id FROM lens.incident_fact x
    WHERE x.severity = sp.severity AND x.postmortem_created_at IS NULL AND NOT x.merged
      AND x.created_at >= range_start AND x.created_at < range_end AND x.created_at <= as_of
    UNION ALL
    SELECT x.incident_id, x.resolved_at, x.source_id FROM lens.incident_fact x
    WHERE x.postmortem_created_at > as_of AND x.severity = sp.severity AND NOT x.merged
      AND x.created_at >= range_start AND x.created_at < range_end AND x.created_at <= as_of
  ) f
  WHERE sp.postmortem_required AND f.resolved_at <= as_of
    AND f.resolved_at + lens.seconds(sp.postmortem_due_seconds) <= as_of
    AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)));
END;

CREATE FUNCTION lens.missing_postmortems(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                         account text DEFAULT NULL)
RETURNS TABLE (external_id text, number integer, title text, severity text, resolved_at timestamptz,
               postmortem_deadline timestamptz, html_url text, jira_issue_key text, jira_url text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  SELECT i.external_id, i.number, i.title, i.severity, m.resolved_at, m.postmortem_deadline, i.html_url,
         i.jira_issue_key, i.jira_url
  FROM lens.missing_postmortem_incidents(range_start, range_end, as_of, account) m
  CROSS JOIN LATERAL (SELECT x.* FROM public.incidents x WHERE x.id = m.incident_id OFFSET 0) i
  ORDER BY m.postmortem_deadline, i.external_id;
END;

-- The action items placed in the period (docs/metrics.md §7, as
-- lens.placed_action_items places them) without an owner or without a due
-- date, oldest created first. Paged like lens.incidents_without_severity; a
-- page is the first page_size rows of two lists: the items without a due
-- date created in the range, read in order from their partial index on
-- (created_at, action_item_id), and the items without an owner due in the
-- range (created whenever), read by due date from the index of those few and
-- sorted.
CREATE FUNCTION lens.action_items_without_owner_or_due_date(range_start timestamptz, range_end timestamptz,
                                                           as_of timestamptz, tz text,
                                                           account text DEFAULT NULL, page_size integer DEFAULT NULL,
                                                           page_after text DEFAULT NULL)
RETURNS TABLE (external_id text, title text, owner text, due_date date, created_at timestamptz,
               without_owner boolean, without_due_date boolean, html_url text,
               incident_external_id text, incident_url text,
               -- Where the next page starts: pass the last row's as page_after.
               page_cursor text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
-- A few hundred items by key: parallel workers cost more than they save.
SET max_parallel_workers_per_gather = 0
SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  WITH page AS (
    SELECT p.action_item_id, p.created_at, p.due_date, p.without_owner
    FROM (
      (SELECT f.action_item_id, f.created_at, f.due_date, f.without_owner
       FROM lens.page_start(page_after, 'lens.action_items_without_owner_or_due_date', range_start) b
       CROSS JOIN LATERAL (
         -- NULL: read from the index alone, which holds only items without a due date.
         SELECT f.action_item_id, f.created_at, NULL::date AS due_date, f.without_owner
         FROM lens.action_item_fact f
         WHERE f.due_date IS NULL AND (f.created_at, f.action_item_id) > (b.after_at, b.after_id)
           AND f.created_at >= b.after_at AND f.created_at < range_end AND f.created_at <= as_of
           AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
         ORDER BY f.created_at, f.action_item_id
         LIMIT page_size
       ) f)
      UNION ALL
      (SELECT f.action_item_id, f.created_at, f.due_date, f.without_owner
       FROM lens.page_start(page_after, 'lens.action_items_without_owner_or_due_date', '-infinity') b
       CROSS JOIN lens.local_days(range_start, range_end, tz) d
       CROSS JOIN LATERAL (
         SELECT f.action_item_id, f.created_at, f.due_date, f.without_owner
         FROM lens.action_item_fact f
         WHERE f.without_owner AND f.due_date >= d.first_day AND f.due_date < d.end_day
           AND (f.created_at, f.action_item_id) > (b.after_at, b.after_id) AND f.created_at <= as_of
           AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
         ORDER BY f.created_at, f.action_item_id
         LIMIT page_size
       ) f)
    ) p
    ORDER BY p.created_at, p.action_item_id
    LIMIT page_size
  )
  SELECT a.external_id, a.title, a.owner, a.due_date, a.created_at,
         p.without_owner, p.due_date IS NULL, a.html_url, i.external_id, i.html_url,
         lens.page_cursor(p.created_at, p.action_item_id)
  FROM page p
  CROSS JOIN LATERAL (SELECT x.* FROM public.action_items x WHERE x.id = p.action_item_id OFFSET 0) a
  LEFT JOIN public.incidents i ON i.id = a.incident_id
  ORDER BY p.created_at, p.action_item_id;
END;

-- Records a mapper or the database refused, seen in the `days` days up to
-- as_of, with the reason (the payload stays in ingest_errors: it can hold
-- personal data the page has no need to show).
CREATE FUNCTION lens.quarantined_records(as_of timestamptz, days integer DEFAULT 30, account text DEFAULT NULL)
RETURNS TABLE (source_kind text, source_name text, record_kind text, external_id text, reason text,
               first_seen_at timestamptz, last_seen_at timestamptz, seen_count integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT s.kind, s.name, e.record_kind, e.external_id, e.reason, e.first_seen_at, e.last_seen_at, e.seen_count
  FROM public.ingest_errors e
  JOIN public.sources s ON s.id = e.source_id
  WHERE e.last_seen_at > as_of - make_interval(days => days) AND e.first_seen_at <= as_of
    AND (account IS NULL OR e.source_id = (SELECT lens.account_id(account)))
  ORDER BY e.last_seen_at DESC, e.id;
END;

-- Jira incident tickets that name a PagerDuty incident the database does not
-- hold: a sync that missed it, or an id mistyped in the ticket. A ticket
-- counts under the Jira account that holds it.
CREATE FUNCTION lens.unlinked_jira_tickets(as_of timestamptz, account text DEFAULT NULL)
RETURNS TABLE (issue_key text, html_url text, created_at timestamptz, missing_incident_ids text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT j.issue_key, j.html_url, j.created_at, missing.ids
  FROM public.jira_issues j
  CROSS JOIN LATERAL (
    SELECT array_agg(named.id ORDER BY named.id) AS ids
    FROM unnest(j.pagerduty_incident_ids) AS named(id)
    WHERE NOT EXISTS (SELECT 1 FROM public.incidents i JOIN public.sources s ON s.id = i.source_id
                      WHERE s.kind = 'pagerduty' AND i.external_id = named.id)
  ) missing
  WHERE j.kind = 'incident' AND j.created_at <= as_of AND missing.ids IS NOT NULL
    AND j.deleted_at IS NULL AND j.unmatched_at IS NULL
    AND (account IS NULL OR j.source_id = (SELECT lens.account_id(account)))
  ORDER BY j.created_at, j.issue_key;
END;

-- The report's dataQuality object: the size of each list above, counted
-- from the facts where the list's rows come from them (no details read).
CREATE FUNCTION lens.data_quality(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                  account text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE
SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  SELECT jsonb_build_object(
    'withoutSeverity', (SELECT count(*) FROM lens.unknown_severity_incidents(range_start, range_end, as_of, account)),
    'postmortemMissing', (SELECT count(*) FROM lens.missing_postmortem_incidents(range_start, range_end, as_of, account)),
    'actionItemsWithoutOwner', count(*) FILTER (WHERE p.without_owner),
    'actionItemsWithoutDueDate', count(*) FILTER (WHERE p.due_date IS NULL),
    'quarantinedLast30Days', (SELECT count(*) FROM lens.quarantined_records(as_of, 30, account)),
    'unlinkedTickets', (SELECT count(*) FROM lens.unlinked_jira_tickets(as_of, account)))
  FROM lens.placed_action_items(range_start, range_end, as_of, tz, account) p
  WHERE p.without_owner OR p.due_date IS NULL;
END;
