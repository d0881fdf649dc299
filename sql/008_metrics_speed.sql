-- Speed (issue 3 benchmark, 1,000,000 incidents). The functions keep their
-- signatures and results; lens.action_item_metrics gains `dimensions`.

-- METRICS.md 7: an item due on a day must be done before the end of that
-- day in the report's zone.
CREATE FUNCTION lens.due_deadline(due_date date, tz text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (due_date + 1)::timestamp AT TIME ZONE tz;

-- The state of an action item as of an instant: done means a Done-category
-- status reached by as_of. A set-returning SQL function of plain columns, so
-- that PostgreSQL inlines it instead of calling it once per row.
CREATE FUNCTION lens.action_item_state(deadline timestamptz, status_category text, completed_at timestamptz,
                                       as_of timestamptz)
RETURNS TABLE (is_done boolean, completed_on_time boolean, is_overdue boolean)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT d.is_done, d.is_done AND completed_at < deadline, NOT d.is_done AND deadline <= as_of
  FROM (SELECT coalesce(lower(status_category) = 'done' AND completed_at <= as_of, false) AS is_done) d;
END;

-- The items of a range as placed by METRICS.md 7: due in it, or without a due
-- date and created in it; nothing created after as_of. Not SECURITY DEFINER,
-- so that it is inlined into its callers (which are) and the columns they do
-- not use are never read; only the owner may call it (REVOKE below).
CREATE FUNCTION lens.placed_action_items(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text)
RETURNS TABLE (
  id bigint, external_id text, title text, owner text, status text, status_category text, due_date date,
  created_at timestamptz, completed_at timestamptz, incident_id bigint, postmortem_id bigint, html_url text,
  attribution text, attributed_at timestamptz
)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT a.id, a.external_id, a.title, a.owner, a.status, a.status_category, a.due_date, a.created_at,
         a.completed_at, a.incident_id, a.postmortem_id, a.html_url, 'due_date', a.due_date::timestamp AT TIME ZONE tz
  FROM lens.local_days(range_start, range_end, tz) days
  JOIN public.action_items a ON a.due_date >= days.first_day AND a.due_date < days.end_day
  WHERE a.created_at <= as_of
  UNION ALL
  SELECT a.id, a.external_id, a.title, a.owner, a.status, a.status_category, a.due_date, a.created_at,
         a.completed_at, a.incident_id, a.postmortem_id, a.html_url, 'created_at', a.created_at
  FROM public.action_items a
  WHERE a.due_date IS NULL AND a.created_at >= range_start AND a.created_at < range_end AND a.created_at <= as_of;
END;

REVOKE EXECUTE ON FUNCTION lens.placed_action_items(timestamptz, timestamptz, timestamptz, text) FROM PUBLIC;

-- Few buckets, not the default thousand: joins on them are planned as such.
ALTER FUNCTION lens.buckets(text, timestamptz, timestamptz, text) ROWS 20;

-- Estimates for "not done": without them PostgreSQL takes nearly every item
-- for open and hashes whole tables to list a few hundred.
CREATE STATISTICS action_items_status_category_stats ON (lower(status_category)) FROM public.action_items;
ANALYZE public.action_items;

CREATE OR REPLACE FUNCTION lens.action_item_facts(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text)
RETURNS TABLE (
  action_item_id bigint, external_id text, title text, owner text, status text, status_category text,
  due_date date, deadline timestamptz, created_at timestamptz, completed_at timestamptz,
  is_done boolean, completed_on_time boolean, is_overdue boolean,
  -- due_date | created_at: which instant placed the item in the range.
  attribution text, attributed_at timestamptz,
  incident_id bigint, incident_external_id text, postmortem_id bigint, postmortem_external_id text,
  severity text, service_id bigint, service_name text, team_id bigint, team_name text,
  html_url text, incident_url text, postmortem_url text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
-- Thousands of rows fetched by key: cheaper than parallel workers hashing whole tables.
SET max_parallel_workers_per_gather = 0 SET random_page_cost = 1.1
BEGIN ATOMIC
  SELECT a.id, a.external_id, a.title, a.owner, a.status, a.status_category,
    a.due_date, deadline.at, a.created_at, CASE WHEN v.is_done THEN a.completed_at END,
    v.is_done, v.completed_on_time, v.is_overdue,
    a.attribution, a.attributed_at,
    i.id, i.external_id, pm.id, pm.external_id, i.severity, i.service_id, sv.name, i.team_id, tm.name,
    a.html_url, i.html_url, pm.html_url
  FROM lens.placed_action_items(range_start, range_end, as_of, tz) a
  CROSS JOIN LATERAL (SELECT lens.due_deadline(a.due_date, tz) AS at) deadline
  CROSS JOIN LATERAL lens.action_item_state(deadline.at, a.status_category, a.completed_at, as_of) v
  LEFT JOIN LATERAL (SELECT x.id, x.external_id, x.html_url, x.incident_id FROM public.postmortems x
                     WHERE x.id = a.postmortem_id) pm ON true
  LEFT JOIN public.incidents i ON i.id = coalesce(a.incident_id, pm.incident_id)
  LEFT JOIN public.services sv ON sv.id = i.service_id
  LEFT JOIN public.teams tm ON tm.id = i.team_id
  ORDER BY a.attributed_at, a.id;
END;

CREATE OR REPLACE FUNCTION lens.open_overdue_action_items(as_of timestamptz DEFAULT now(), tz text DEFAULT lens.default_timezone())
RETURNS TABLE (
  action_item_id bigint, external_id text, title text, owner text, status text,
  due_date date, deadline timestamptz, overdue_seconds double precision, created_at timestamptz,
  incident_id bigint, incident_external_id text, incident_title text, postmortem_id bigint,
  postmortem_external_id text, postmortem_title text,
  severity text, service_id bigint, service_name text, team_id bigint, team_name text,
  html_url text, incident_url text, postmortem_url text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0 SET random_page_cost = 1.1
BEGIN ATOMIC
  SELECT a.id, a.external_id, a.title, a.owner, a.status, a.due_date, deadline.at,
    lens.seconds_between(as_of, deadline.at), a.created_at,
    i.id, i.external_id, i.title, pm.id, pm.external_id, pm.title,
    i.severity, i.service_id, sv.name, i.team_id, tm.name,
    a.html_url, i.html_url, pm.html_url
  FROM (
    -- Not done now (the partial index), or done only after as_of.
    SELECT x.id, x.external_id, x.title, x.owner, x.status, x.status_category, x.due_date, x.created_at,
           x.completed_at, x.incident_id, x.postmortem_id, x.html_url
    FROM public.action_items x
    WHERE (x.completed_at IS NULL OR lower(x.status_category) <> 'done')
      AND x.due_date < (as_of AT TIME ZONE tz)::date + 1
    UNION ALL
    SELECT x.id, x.external_id, x.title, x.owner, x.status, x.status_category, x.due_date, x.created_at,
           x.completed_at, x.incident_id, x.postmortem_id, x.html_url
    FROM public.action_items x
    WHERE x.completed_at > as_of AND lower(x.status_category) = 'done'
      AND x.due_date < (as_of AT TIME ZONE tz)::date + 1
  ) a
  CROSS JOIN LATERAL (SELECT lens.due_deadline(a.due_date, tz) AS at) deadline
  CROSS JOIN LATERAL lens.action_item_state(deadline.at, a.status_category, a.completed_at, as_of) v
  LEFT JOIN LATERAL (SELECT x.id, x.external_id, x.title, x.html_url, x.incident_id FROM public.postmortems x
                     WHERE x.id = a.postmortem_id) pm ON true
  LEFT JOIN public.incidents i ON i.id = coalesce(a.incident_id, pm.incident_id)
  LEFT JOIN public.services sv ON sv.id = i.service_id
  LEFT JOIN public.teams tm ON tm.id = i.team_id
  WHERE v.is_overdue AND a.created_at <= as_of
  ORDER BY deadline.at, a.id;
END;

DROP FUNCTION lens.action_item_view(public.action_items, timestamptz, text);

CREATE OR REPLACE FUNCTION lens.incident_facts(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text)
RETURNS TABLE (
  incident_id bigint, source_kind text, external_id text, incident_number integer, title text,
  source_status text, priority_raw text, urgency text, severity text,
  service_id bigint, service_name text, team_id bigint, team_name text,
  created_at timestamptz, acknowledged_at timestamptz, resolved_at timestamptz, detected_at timestamptz,
  merged boolean, is_open boolean, escalated boolean, unack_count integer,
  tta_seconds double precision, ttr_seconds double precision, ttd_seconds double precision,
  first_response_at timestamptz, first_response_seconds double precision,
  ack_deadline timestamptz, ack_outcome text, resolve_deadline timestamptz, resolve_outcome text,
  postmortem_required boolean, postmortem_deadline timestamptz, postmortem_completed_at timestamptz,
  postmortem_outcome text, postmortem_external_id text, postmortem_url text,
  root_cause_key text, is_repeat boolean, business_hours boolean,
  html_url text, jira_issue_key text, jira_url text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT o.incident_id, src.kind, i.external_id, i.number, i.title, i.status, i.priority_raw, i.urgency, o.severity,
    o.service_id, sv.name, o.team_id, tm.name,
    o.created_at, o.acknowledged_at, o.resolved_at, i.detected_at,
    o.merged, o.is_open, o.escalated, i.unack_count,
    o.tta_seconds, o.ttr_seconds, o.ttd_seconds, o.first_response_at, o.first_response_seconds,
    o.ack_deadline, o.ack_outcome, o.resolve_deadline, o.resolve_outcome,
    o.postmortem_required, o.postmortem_deadline, o.postmortem_completed_at, o.postmortem_outcome,
    pm.external_id, pm.html_url,
    o.root_cause_key, o.is_repeat, o.business_hours,
    i.html_url, i.jira_issue_key, i.jira_url
  FROM lens.incident_outcomes(range_start, range_end, as_of, tz) o
  -- The range again on incidents: PostgreSQL then reads the range's rows by
  -- index instead of hashing the whole table.
  JOIN public.incidents i ON i.id = o.incident_id AND i.created_at >= range_start AND i.created_at < range_end
  JOIN public.sources src ON src.id = i.source_id
  LEFT JOIN public.services sv ON sv.id = o.service_id
  LEFT JOIN public.teams tm ON tm.id = o.team_id
  LEFT JOIN LATERAL (
    SELECT p.external_id, p.html_url FROM public.postmortems p
    WHERE p.incident_id = o.incident_id ORDER BY p.created_at, p.id LIMIT 1) pm ON true
  ORDER BY o.created_at, o.incident_id;
END;


-- Action-item figures per bucket and dimension (total, service, team: the
-- incident's), computing only the requested dimensions. It reads the few
-- columns the figures need; lens.action_item_facts lists the items.
DROP FUNCTION lens.action_item_metrics(timestamptz, timestamptz, timestamptz, text, text);

CREATE FUNCTION lens.action_item_metrics(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                         granularity text DEFAULT NULL,
                                         dimensions text[] DEFAULT ARRAY['total', 'service', 'team'])
RETURNS TABLE (
  period_start timestamptz, period_end timestamptz, period_label text,
  dimension text, dimension_key text, dimension_label text,
  total integer, completed integer, completed_on_time integer, open integer, overdue integer,
  completion_rate double precision, on_time_rate double precision, no_due_date integer
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0 SET random_page_cost = 1.1
BEGIN ATOMIC
  -- Each local day of the range with its bounds, so that the zone is applied
  -- once per day rather than once per item.
  WITH day AS (
    SELECT local_day::date AS day, local_day AT TIME ZONE tz AS day_start, lens.due_deadline(local_day::date, tz) AS deadline
    FROM lens.local_days(range_start, range_end, tz) days
    CROSS JOIN LATERAL generate_series(days.first_day::timestamp, days.end_day::timestamp - interval '1 day', interval '1 day') local_day
  ),
  item AS (
    SELECT true AS dated, day.day_start AS attributed_at, v.is_done, v.completed_on_time, v.is_overdue,
           coalesce(a.incident_id, (SELECT x.incident_id FROM public.postmortems x WHERE x.id = a.postmortem_id)) AS incident_id
    FROM day
    JOIN public.action_items a ON a.due_date = day.day
    CROSS JOIN LATERAL lens.action_item_state(day.deadline, a.status_category, a.completed_at, as_of) v
    WHERE a.created_at <= as_of
    UNION ALL
    SELECT false, a.created_at, NULL, NULL, NULL,
           coalesce(a.incident_id, (SELECT x.incident_id FROM public.postmortems x WHERE x.id = a.postmortem_id))
    FROM public.action_items a
    WHERE a.due_date IS NULL AND a.created_at >= range_start AND a.created_at < range_end AND a.created_at <= as_of
  ),
  -- Items per bucket, service, team and state (a few hundred rows), then the
  -- figures of each requested dimension from those.
  tally AS (
    SELECT b.bucket_start, b.bucket_end, b.period_label, f.service_id, f.team_id,
           it.dated, it.is_done, it.completed_on_time, it.is_overdue, count(it.dated) AS n
    FROM lens.buckets(granularity, range_start, range_end, tz) b
    LEFT JOIN item it ON it.attributed_at >= b.bucket_start AND it.attributed_at < b.bucket_end
    -- The incident's service and team, by key (LATERAL: never a scan of every
    -- incident), and only when a dimension needs them.
    LEFT JOIN LATERAL (SELECT x.service_id, x.team_id FROM lens.incident_fact x
                       WHERE x.incident_id = it.incident_id AND dimensions && ARRAY['service', 'team']) f ON true
    GROUP BY b.bucket_start, b.bucket_end, b.period_label, f.service_id, f.team_id,
             it.dated, it.is_done, it.completed_on_time, it.is_overdue
  ),
  grouped AS (
    SELECT t.bucket_start, t.bucket_end, t.period_label, d.dimension,
      CASE d.dimension WHEN 'service' THEN t.service_id::text WHEN 'team' THEN t.team_id::text END AS dimension_key,
      coalesce(sum(t.n) FILTER (WHERE t.dated), 0) AS total,
      coalesce(sum(t.n) FILTER (WHERE t.dated AND t.is_done), 0) AS completed,
      coalesce(sum(t.n) FILTER (WHERE t.dated AND t.completed_on_time), 0) AS completed_on_time,
      coalesce(sum(t.n) FILTER (WHERE t.dated AND t.is_overdue), 0) AS overdue,
      coalesce(sum(t.n) FILTER (WHERE NOT t.dated), 0) AS no_due_date
    FROM tally t
    JOIN unnest(dimensions) AS d(dimension) ON d.dimension IN ('total', 'service', 'team')
    -- An empty bucket still has its total row; per-service rows only where items are.
    WHERE d.dimension = 'total' OR t.dated IS NOT NULL
    GROUP BY t.bucket_start, t.bucket_end, t.period_label, d.dimension,
             CASE d.dimension WHEN 'service' THEN t.service_id::text WHEN 'team' THEN t.team_id::text END
  )
  SELECT g.bucket_start, g.bucket_end, g.period_label, g.dimension, g.dimension_key,
    CASE g.dimension WHEN 'total' THEN 'All action items'
                     WHEN 'service' THEN coalesce((SELECT sv.name FROM public.services sv WHERE sv.id::text = g.dimension_key), '(no service)')
                     ELSE coalesce((SELECT tm.name FROM public.teams tm WHERE tm.id::text = g.dimension_key), '(no team)') END,
    g.total::integer, g.completed::integer, g.completed_on_time::integer, (g.total - g.completed)::integer,
    g.overdue::integer, g.completed::double precision / nullif(g.total, 0),
    g.completed_on_time::double precision / nullif(g.total, 0), g.no_due_date::integer
  FROM grouped g
  ORDER BY g.bucket_start, array_position(ARRAY['total', 'service', 'team'], g.dimension), g.dimension_key;
END;

-- The repeat window as an InitPlan, evaluated once per query.
CREATE OR REPLACE FUNCTION lens.incident_outcomes(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text)
RETURNS TABLE (
  incident_id              bigint,
  created_at               timestamptz,
  severity                 text,
  service_id               bigint,
  team_id                  bigint,
  merged                   boolean,
  -- NULL when it had not happened by as_of.
  acknowledged_at          timestamptz,
  resolved_at              timestamptz,
  is_open                  boolean,
  escalated                boolean,
  tta_seconds              double precision,
  ttr_seconds              double precision,
  -- created_at - detected_at, where the start of impact is known.
  ttd_seconds              double precision,
  -- The earlier of ack and resolve: the runbooks' response (METRICS.md 5).
  first_response_at        timestamptz,
  first_response_seconds   double precision,
  ack_deadline             timestamptz,
  -- met | breached | pending; NULL for UNKNOWN severity (no target).
  ack_outcome              text,
  resolve_deadline         timestamptz,
  resolve_outcome          text,
  postmortem_required      boolean,
  postmortem_deadline      timestamptz,
  postmortem_completed_at  timestamptz,
  -- on_time | late | overdue | pending; NULL when not required.
  postmortem_outcome       text,
  root_cause_key           text,
  is_repeat                boolean,
  -- Mon-Fri 08:00-18:00 local time.
  business_hours           boolean,
  -- After this instant nothing about the incident changes with as_of.
  settled_at               timestamptz
)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  -- Each derived value is computed once per row in a subquery kept apart by
  -- OFFSET 0; flattened, PostgreSQL would evaluate it again at every use.
  SELECT r.incident_id, r.created_at, r.severity, r.service_id, r.team_id, r.merged,
    r.acknowledged_at, r.resolved_at, r.resolved_at IS NULL, r.escalated,
    lens.seconds_between(r.acknowledged_at, r.created_at),
    lens.seconds_between(r.resolved_at, r.created_at),
    r.ttd_seconds,
    r.first_response_at,
    lens.seconds_between(r.first_response_at, r.created_at),
    r.ack_deadline,
    CASE WHEN r.ack_deadline IS NULL THEN NULL
         WHEN r.first_response_at <= r.ack_deadline THEN 'met'
         WHEN r.first_response_at IS NOT NULL OR r.ack_deadline <= as_of THEN 'breached'
         ELSE 'pending' END,
    r.resolve_deadline,
    CASE WHEN r.resolve_deadline IS NULL THEN NULL
         WHEN r.resolved_at <= r.resolve_deadline THEN 'met'
         WHEN r.resolved_at IS NOT NULL OR r.resolve_deadline <= as_of THEN 'breached'
         ELSE 'pending' END,
    r.postmortem_required,
    r.postmortem_deadline,
    r.postmortem_completed_at,
    CASE WHEN NOT r.postmortem_required THEN NULL
         WHEN r.postmortem_completed_at IS NOT NULL
              AND (r.postmortem_deadline IS NULL OR r.postmortem_completed_at <= r.postmortem_deadline) THEN 'on_time'
         WHEN r.postmortem_completed_at IS NOT NULL THEN 'late'
         WHEN r.postmortem_deadline <= as_of THEN 'overdue'
         ELSE 'pending' END,
    r.root_cause_key,
    r.is_repeat,
    date_part('isodow', r.local_created) <= 5
      AND r.local_created::time >= time '08:00' AND r.local_created::time < time '18:00',
    r.settled_at
  FROM (
    SELECT seen.*,
      least(seen.acknowledged_at, seen.resolved_at) AS first_response_at,
      seen.resolved_at + seen.postmortem_due AS postmortem_deadline
    FROM (
      SELECT f.incident_id, f.created_at, f.severity, f.service_id, f.team_id, f.merged,
        CASE WHEN f.acknowledged_at <= as_of THEN f.acknowledged_at END AS acknowledged_at,
        CASE WHEN f.resolved_at <= as_of THEN f.resolved_at END AS resolved_at,
        CASE WHEN f.postmortem_completed_at <= as_of THEN f.postmortem_completed_at END AS postmortem_completed_at,
        coalesce(f.escalated_at <= as_of, false) AS escalated,
        CASE WHEN f.detected_at <= f.created_at THEN lens.seconds_between(f.created_at, f.detected_at) END AS ttd_seconds,
        f.created_at + p.ack_target AS ack_deadline,
        f.created_at + p.resolve_target AS resolve_deadline,
        p.postmortem_due,
        p.postmortem_due IS NOT NULL AS postmortem_required,
        f.root_cause_key,
        coalesce(f.root_cause_key IS NOT NULL AND NOT f.merged
                 AND f.previous_same_cause_at >= f.created_at - (
                   -- An InitPlan: evaluated once, where a join would pass every row through a loop.
                   SELECT lens.seconds(st.repeat_window_days * 86400.0) FROM lens.settings st), false) AS is_repeat,
        f.created_at AT TIME ZONE tz AS local_created,
        greatest(f.created_at, f.acknowledged_at, f.resolved_at, f.escalated_at, f.postmortem_completed_at,
                 f.created_at + p.ack_target, f.created_at + p.resolve_target,
                 f.resolved_at + p.postmortem_due) AS settled_at
      FROM lens.incident_fact f
      -- Targets as intervals once per query, not once per row.
      LEFT JOIN (SELECT sp.severity, lens.seconds(sp.ack_target_seconds) AS ack_target,
                        lens.seconds(sp.resolve_target_seconds) AS resolve_target,
                        lens.seconds(sp.postmortem_due_seconds) AS postmortem_due
                 FROM lens.sla_policy sp) p ON p.severity = f.severity
      WHERE f.created_at >= range_start AND f.created_at < range_end AND f.created_at <= as_of
      OFFSET 0
    ) seen
    OFFSET 0
  ) r;
END;

