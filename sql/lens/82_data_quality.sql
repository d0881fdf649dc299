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

CREATE FUNCTION lens.incidents_without_severity(range_start timestamptz, range_end timestamptz, as_of timestamptz,
                                                account text DEFAULT NULL)
RETURNS TABLE (external_id text, number integer, title text, priority_raw text, created_at timestamptz, html_url text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  SELECT i.external_id, i.number, i.title, i.priority_raw, i.created_at, i.html_url
  FROM lens.unknown_severity_incidents(range_start, range_end, as_of, account) u
  CROSS JOIN LATERAL (SELECT x.* FROM public.incidents x WHERE x.id = u.incident_id OFFSET 0) i
  ORDER BY i.created_at, i.external_id;
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

-- The action items placed in the period (docs/metrics.md §7) without an owner or
-- without a due date.
CREATE FUNCTION lens.action_items_without_owner_or_due_date(range_start timestamptz, range_end timestamptz,
                                                           as_of timestamptz, tz text,
                                                           account text DEFAULT NULL)
RETURNS TABLE (external_id text, title text, owner text, due_date date, created_at timestamptz,
               without_owner boolean, without_due_date boolean, html_url text,
               incident_external_id text, incident_url text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
-- A few hundred items by key: parallel workers cost more than they save.
SET max_parallel_workers_per_gather = 0
SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  SELECT a.external_id, a.title, a.owner, a.due_date, a.created_at,
         p.without_owner, p.due_date IS NULL, a.html_url, i.external_id, i.html_url
  FROM lens.placed_action_items(range_start, range_end, as_of, tz, account) p
  CROSS JOIN LATERAL (SELECT x.* FROM public.action_items x WHERE x.id = p.action_item_id OFFSET 0) a
  LEFT JOIN public.incidents i ON i.id = a.incident_id
  WHERE p.without_owner OR p.due_date IS NULL
  ORDER BY a.created_at, a.external_id;
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
