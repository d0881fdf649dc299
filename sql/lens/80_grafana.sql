-- Reading aids for the incidents panel and the collector-stale alert. They
-- project and join; every figure comes from the metric functions.

-- Each incident's log, for the timeline the incidents panel shows on expand.
CREATE VIEW lens.incident_timeline AS
SELECT e.incident_id, e.occurred_at, e.type, e.agent, e.summary
FROM public.incident_events e;

-- Where a page of a list paged by keyset (lens.incident_list, the data
-- quality lists) starts: the page_cursor of the last row of the page before
-- (`2026-10-05T09:00:00.000000Z/123`); NULL or '' for the first page.
-- Anything else is refused with a message that names the list, not with a
-- cast's complaint.
CREATE FUNCTION lens.page_after(page_after text, list text, OUT after_at timestamptz, OUT after_id bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  IF coalesce(page_after, '') <> '' THEN
    after_at := split_part(page_after, '/', 1)::timestamptz;
    after_id := split_part(page_after, '/', 2)::bigint;
  END IF;
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_text_representation
               OR numeric_value_out_of_range THEN
  RAISE EXCEPTION 'page_after must be the page_cursor of a row of %: got %', list, quote_literal(left(page_after, 80))
    USING ERRCODE = 'invalid_parameter_value';
END $$;

-- The page_cursor of a row: its place in the list's order, as lens.page_after reads it.
CREATE FUNCTION lens.page_cursor(instant timestamptz, id bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN to_char(instant AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '/' || id;

-- The incidents of a range with the columns the incidents panel documents
-- (plugin README): SLA outcomes and times from lens.incident_facts, the
-- targets in force, and the timeline up to as_of as JSON text; newest first.
-- With page_size, one page: the rows after `page_after` (the page_cursor of
-- the last row of the page before; NULL or '' for the first page), read by
-- the index on (created_at, incident_id), so a page costs the same at any
-- depth. The filters take names, NULL or an array holding '__all' (Grafana's
-- include-All value) for all; merged incidents only with include_merged.
-- `account`: one account's incidents.
CREATE FUNCTION lens.incident_list(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                   account text DEFAULT NULL, page_size integer DEFAULT NULL, page_after text DEFAULT NULL,
                                   services text[] DEFAULT NULL, teams text[] DEFAULT NULL,
                                   severities text[] DEFAULT NULL, statuses text[] DEFAULT NULL,
                                   include_merged boolean DEFAULT true)
RETURNS TABLE (
  id bigint, external_id text, number integer, title text, severity text, status text,
  service text, team text, created_at timestamptz, acknowledged_at timestamptz, resolved_at timestamptz,
  tta_seconds double precision, ttr_seconds double precision, ack_sla text, resolve_sla text,
  ack_target_seconds integer, resolve_target_seconds integer,
  html_url text, jira_issue_key text, jira_url text, postmortem_key text, postmortem_url text,
  escalated boolean, merged boolean, timeline text,
  -- Where the next page starts: pass the last row's as page_after.
  page_cursor text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  -- Where the page starts: after the cursor, or at the end of the range (as_of included). One
  -- bound, so that the index scan starts there; with the range's end as a second upper bound
  -- PostgreSQL starts at the range's end and walks every newer row.
  WITH bound AS (
    SELECT CASE WHEN c.after_at < c.range_end THEN c.after_at ELSE c.range_end END AS created_at,
           CASE WHEN c.after_at < c.range_end THEN c.after_id ELSE 0 END AS incident_id
    FROM (SELECT cursor.after_at, cursor.after_id, least(range_end, as_of + interval '1 microsecond') AS range_end
          FROM lens.page_after(page_after, 'lens.incident_list') cursor) c
  ),
  page AS (
    SELECT f.incident_id, f.created_at
    FROM lens.incident_fact f
    LEFT JOIN public.services sv ON sv.id = f.service_id
    LEFT JOIN public.teams tm ON tm.id = f.team_id
    WHERE f.created_at >= range_start
      AND (f.created_at, f.incident_id) < ((SELECT b.created_at FROM bound b), (SELECT b.incident_id FROM bound b))
      AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
      AND (include_merged OR NOT f.merged)
      AND (services IS NULL OR '__all' = ANY (services) OR sv.name = ANY (services))
      AND (teams IS NULL OR '__all' = ANY (teams) OR tm.name = ANY (teams))
      AND (severities IS NULL OR '__all' = ANY (severities) OR f.severity = ANY (severities))
      AND (statuses IS NULL OR '__all' = ANY (statuses)
           OR (SELECT i.status FROM public.incidents i WHERE i.id = f.incident_id) = ANY (statuses))
    ORDER BY f.created_at DESC, f.incident_id DESC
    LIMIT page_size
  ),
  -- The facts of the page's stretch of time only (all of the range without page_size).
  span AS (
    SELECT CASE WHEN page_size IS NULL THEN range_start ELSE min(p.created_at) END AS range_start,
           CASE WHEN page_size IS NULL THEN range_end ELSE max(p.created_at) + interval '1 microsecond' END AS range_end
    FROM page p
  )
  SELECT f.incident_id, f.external_id, f.incident_number, f.title, f.severity, f.source_status,
    f.service_name, f.team_name, f.created_at, f.acknowledged_at, f.resolved_at,
    f.tta_seconds, f.ttr_seconds, f.ack_outcome, f.resolve_outcome,
    p.ack_target_seconds, p.resolve_target_seconds,
    f.html_url, f.jira_issue_key, f.jira_url, f.postmortem_external_id, f.postmortem_url,
    f.escalated, f.merged,
    (SELECT json_agg(json_build_object('at', t.occurred_at, 'type', t.type, 'agent', t.agent, 'summary', t.summary)
                     ORDER BY t.occurred_at)::text
     FROM lens.incident_timeline t
     WHERE t.incident_id = f.incident_id AND t.occurred_at <= as_of),
    lens.page_cursor(f.created_at, f.incident_id)
  FROM span s
  CROSS JOIN LATERAL lens.incident_facts(s.range_start, s.range_end, as_of, tz, account) f
  JOIN page pg ON pg.incident_id = f.incident_id
  LEFT JOIN lens.sla_policy p ON p.severity = f.severity
  ORDER BY f.created_at DESC, f.incident_id DESC;
END;

-- The Action items page's list (docs/metrics.md §7) in three parts: every
-- item overdue as of as_of, whatever its due date (what the alert fires
-- on); then the others due in the range; then those created in it without a
-- due date (done ones only with include_done). The first two by deadline,
-- the last by id; id breaks ties. Its page_cursor is the row's part and its
-- place in it: `overdue:` or `due:` and the lens.page_cursor of its deadline
-- and id, or `undated:` and its id.
CREATE FUNCTION lens.action_item_page_after(page_after text, tz text,
                                            OUT after_part integer, OUT after_due date, OUT after_id bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
  part text := substring(page_after FROM '^(overdue|due|undated):');
  place text := substr(page_after, length(part) + 2);
BEGIN
  IF coalesce(page_after, '') = '' THEN
    after_part := 0;
  ELSIF part = 'undated' AND place ~ '^[0-9]{1,18}$' THEN
    after_part := 3;
    after_id := place::bigint;
  ELSIF part IN ('overdue', 'due') AND place <> '' THEN
    -- The deadline ends the due day in tz: the day before its local date.
    SELECT CASE part WHEN 'overdue' THEN 1 ELSE 2 END, (c.after_at AT TIME ZONE tz)::date - 1, c.after_id
    INTO after_part, after_due, after_id
    FROM lens.page_after(place, 'lens.action_item_list') c;
  ELSE
    RAISE EXCEPTION 'page_after must be the page_cursor of a row of lens.action_item_list: got %',
      quote_literal(left(page_after, 80))
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
END $$;

-- Where part `part` (1 overdue, 2 due, 3 undated) of a page of
-- lens.action_item_list starts: after the cursor when it lies in the part
-- (at first_due or later; the undated part has no first_due), at first_due
-- when the cursor comes before; no row when the cursor is past the part, so
-- that it is not read.
CREATE FUNCTION lens.action_item_page_start(page_after text, tz text, part integer, first_due date,
                                            OUT after_due date, OUT after_id bigint)
RETURNS SETOF record
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT CASE WHEN c.after_part = part AND c.after_due >= first_due THEN c.after_due ELSE first_due END,
         CASE WHEN c.after_part = part AND (c.after_due >= first_due OR first_due IS NULL) THEN c.after_id ELSE 0 END
  FROM lens.action_item_page_after(page_after, tz) c
  WHERE c.after_part <= part;
END;

-- With page_size, one page: the rows after `page_after` (the page_cursor of
-- the last row of the page before; NULL or '' for the first page). Each part
-- is read in the list's order from an index (sql/022_action_item_list_keyset.sql),
-- page_size rows at most, so a page of every item costs the same at any
-- depth; with include_done false, from the open items alone (a few
-- thousand, sorted). Only the page's rows are joined to their details. Its
-- size is lens.action_item_list_size.
CREATE FUNCTION lens.action_item_list(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                      account text DEFAULT NULL, include_done boolean DEFAULT true,
                                      page_size integer DEFAULT NULL, page_after text DEFAULT NULL)
RETURNS TABLE (
  action_item_id bigint, external_id text, title text, owner text, status text, due_date date,
  deadline timestamptz, created_at timestamptz, completed_at timestamptz, is_done boolean, is_overdue boolean,
  incident_id bigint, incident_external_id text, postmortem_id bigint, postmortem_external_id text,
  service_name text, team_name text, html_url text, incident_url text, postmortem_url text,
  -- Where the next page starts: pass the last row's as page_after.
  page_cursor text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0 SET random_page_cost = 1.1
SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  -- Each part has an arm for every item and one for the open items: below a
  -- UNION ALL of both sources PostgreSQL sorts the whole part instead of
  -- reading the index in order.
  WITH page AS (
    SELECT p.part, p.action_item_id, p.due_date, coalesce(p.done_status AND p.completed_at <= as_of, false) AS is_done
    FROM (
      (SELECT 1 AS part, o.action_item_id, o.due_date, false AS done_status, NULL::timestamptz AS completed_at
       FROM lens.action_item_page_start(page_after, tz, 1, '-infinity') b
       CROSS JOIN LATERAL (
         SELECT o.action_item_id, o.due_date
         FROM lens.overdue_action_items(as_of, tz, account) o
         WHERE o.due_date >= b.after_due AND (o.due_date, o.action_item_id) > (b.after_due, b.after_id)
         ORDER BY o.due_date, o.action_item_id
         LIMIT page_size
       ) o)
      UNION ALL
      -- Due in the range and not overdue: done (include_done), or due later.
      (SELECT 2, f.action_item_id, f.due_date, f.done_status, f.completed_at
       FROM lens.local_days(range_start, range_end, tz) d
       CROSS JOIN lens.action_item_page_start(page_after, tz, 2, d.first_day) b
       CROSS JOIN LATERAL (
         SELECT f.action_item_id, f.due_date, f.done_status, f.completed_at
         FROM lens.action_item_fact f
         WHERE include_done AND f.due_date >= b.after_due AND f.due_date < d.end_day
           AND (f.due_date, f.action_item_id) > (b.after_due, b.after_id)
           AND f.created_at <= as_of AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
           AND (f.done_status AND f.completed_at <= as_of OR lens.due_deadline(f.due_date, tz) > as_of)
         ORDER BY f.due_date, f.action_item_id
         LIMIT page_size
       ) f)
      UNION ALL
      (SELECT 2, f.action_item_id, f.due_date, false, NULL
       FROM lens.local_days(range_start, range_end, tz) d
       CROSS JOIN lens.action_item_page_start(page_after, tz, 2, d.first_day) b
       CROSS JOIN LATERAL (
         SELECT f.action_item_id, f.due_date
         FROM lens.open_action_item_facts(as_of) f
         WHERE NOT include_done AND f.due_date >= b.after_due AND f.due_date < d.end_day
           AND (f.due_date, f.action_item_id) > (b.after_due, b.after_id)
           AND f.created_at <= as_of AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
           AND lens.due_deadline(f.due_date, tz) > as_of
         ORDER BY f.due_date, f.action_item_id
         LIMIT page_size
       ) f)
      UNION ALL
      -- Created in the range without a due date.
      (SELECT 3, f.action_item_id, NULL, f.done_status, f.completed_at
       FROM lens.action_item_page_start(page_after, tz, 3, NULL) b
       CROSS JOIN LATERAL (
         SELECT f.action_item_id, f.done_status, f.completed_at
         FROM lens.action_item_fact f
         WHERE include_done AND f.due_date IS NULL AND f.action_item_id > b.after_id
           AND f.created_at >= range_start AND f.created_at < range_end AND f.created_at <= as_of
           AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
         ORDER BY f.action_item_id
         LIMIT page_size
       ) f)
      UNION ALL
      (SELECT 3, f.action_item_id, NULL, false, NULL
       FROM lens.action_item_page_start(page_after, tz, 3, NULL) b
       CROSS JOIN LATERAL (
         SELECT f.action_item_id
         FROM lens.open_action_item_facts(as_of) f
         WHERE NOT include_done AND f.due_date IS NULL AND f.action_item_id > b.after_id
           AND f.created_at >= range_start AND f.created_at < range_end AND f.created_at <= as_of
           AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
         ORDER BY f.action_item_id
         LIMIT page_size
       ) f)
    ) p
    ORDER BY p.part, p.due_date, p.action_item_id
    LIMIT page_size
  )
  SELECT a.id, a.external_id, a.title, a.owner, a.status, p.due_date, deadline.at, a.created_at,
    CASE WHEN p.is_done THEN a.completed_at END, p.is_done, p.part = 1,
    i.id, i.external_id, pm.id, pm.external_id, sv.name, tm.name, a.html_url, i.html_url, pm.html_url,
    CASE p.part WHEN 1 THEN 'overdue:' || lens.page_cursor(deadline.at, p.action_item_id)
                WHEN 2 THEN 'due:' || lens.page_cursor(deadline.at, p.action_item_id)
                ELSE 'undated:' || p.action_item_id END
  FROM page p
  CROSS JOIN LATERAL (SELECT lens.due_deadline(p.due_date, tz) AS at) deadline
  CROSS JOIN LATERAL (SELECT x.* FROM public.action_items x WHERE x.id = p.action_item_id OFFSET 0) a
  JOIN lens.action_item_fact af ON af.action_item_id = p.action_item_id
  LEFT JOIN public.postmortems pm ON pm.id = a.postmortem_id
  LEFT JOIN public.incidents i ON i.id = af.incident_id
  LEFT JOIN public.services sv ON sv.id = i.service_id
  LEFT JOIN public.teams tm ON tm.id = i.team_id
  ORDER BY p.part, p.due_date, p.action_item_id;
END;

-- The size of lens.action_item_list and how many of its items are overdue,
-- without reading any item's details: every overdue item, and the items the
-- range places that are not overdue. Every item placed is counted by the
-- figures (lens.action_item_metrics, mostly from monthly counts), the open
-- ones alone from their index.
CREATE FUNCTION lens.action_item_list_size(range_start timestamptz, range_end timestamptz, as_of timestamptz,
                                           tz text, account text DEFAULT NULL, include_done boolean DEFAULT true)
RETURNS TABLE (items bigint, overdue bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0 SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  SELECT o.overdue + p.placed - p.overdue, o.overdue
  FROM (SELECT count(*) AS overdue FROM lens.overdue_action_items(as_of, tz, account)) o
  CROSS JOIN (
    SELECT m.total::bigint + m.no_due_date AS placed, m.overdue::bigint AS overdue
    FROM lens.action_item_metrics(range_start, range_end, as_of, tz, NULL, ARRAY['total'], account) m
    WHERE include_done
    UNION ALL
    SELECT c.placed, c.overdue
    FROM (SELECT count(*) AS placed, count(*) FILTER (WHERE lens.due_deadline(f.due_date, tz) <= as_of) AS overdue
          FROM lens.placed_action_items(range_start, range_end, as_of, tz, account, include_done => false) f) c
    WHERE NOT include_done
  ) p;
END;

-- The services and teams with incidents in a range and the source statuses
-- of those incidents: the choices of the incident filters. One index probe
-- per service, team and status, never a scan of the range. `account`: one
-- account's incidents.
CREATE FUNCTION lens.incident_filter_options(range_start timestamptz, range_end timestamptz, as_of timestamptz,
                                             account text DEFAULT NULL)
RETURNS TABLE (kind text, value text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  WITH until AS (SELECT least(range_end, as_of + interval '1 microsecond') AS range_end,
                        (SELECT lens.account_id(account)) AS source_id)
  SELECT 'service', sv.name FROM public.services sv, until u
  WHERE EXISTS (SELECT 1 FROM lens.incident_fact f
                WHERE f.service_id = sv.id AND f.created_at >= range_start AND f.created_at < u.range_end
                  AND (account IS NULL OR f.source_id = u.source_id))
  UNION
  SELECT 'team', tm.name FROM public.teams tm, until u
  WHERE EXISTS (SELECT 1 FROM lens.incident_fact f
                WHERE f.team_id = tm.id AND f.created_at >= range_start AND f.created_at < u.range_end
                  AND (account IS NULL OR f.source_id = u.source_id))
  UNION
  SELECT 'status', st.status FROM until u
  CROSS JOIN LATERAL (
    -- The distinct statuses by skipping through the index, one probe each.
    WITH RECURSIVE found AS (
      (SELECT i.status FROM public.incidents i
       WHERE i.created_at >= range_start AND i.created_at < u.range_end
         AND (account IS NULL OR i.source_id = u.source_id)
       ORDER BY i.status LIMIT 1)
      UNION ALL
      SELECT (SELECT i.status FROM public.incidents i
              WHERE i.status > found.status AND i.created_at >= range_start AND i.created_at < u.range_end
                AND (account IS NULL OR i.source_id = u.source_id)
              ORDER BY i.status LIMIT 1)
      FROM found WHERE found.status IS NOT NULL)
    SELECT found.status FROM found WHERE found.status IS NOT NULL) st
  ORDER BY 1, 2;
END;

-- When each source last synced successfully. A source that never has counts
-- from when it was added, so that a collector that never worked is stale too.
CREATE VIEW lens.collector_freshness AS
SELECT s.kind AS source_kind, s.name AS source_name, last_run.finished_at AS last_success_at,
       lens.seconds_between(now(), coalesce(last_run.finished_at, s.created_at)) AS seconds_since_success
FROM public.sources s
LEFT JOIN LATERAL (
  SELECT max(r.finished_at) AS finished_at FROM public.sync_runs r
  WHERE r.source_id = s.id AND r.outcome = 'succeeded') last_run ON true;

-- ---------------------------------------------------------------------------
-- Grants: read the schema lens. Its views run with their owner's rights and
-- its functions that read core tables are SECURITY DEFINER, so nothing in
