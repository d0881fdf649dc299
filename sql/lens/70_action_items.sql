-- Action items (docs/metrics.md §7). The deadline is the end of the due day in
-- the report's zone; done means a Done-category status reached by as_of.

-- docs/metrics.md §7: an item due on a day must be done before the end of that
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

-- The incident of an item known only by its post-mortem: the first incident
-- the post-mortem names, unmerged ones first. Inlined like lens.placed_action_items.
CREATE FUNCTION lens.postmortem_first_incident(postmortem bigint)
RETURNS TABLE (incident_id bigint)
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT l.incident_id
  FROM public.postmortem_incidents l JOIN public.incidents i ON i.id = l.incident_id
  WHERE l.postmortem_id = postmortem
  ORDER BY i.merged, i.created_at, i.id
  LIMIT 1;
END;
REVOKE EXECUTE ON FUNCTION lens.postmortem_first_incident(bigint) FROM PUBLIC;

-- The account an action item counts under (docs/metrics.md §13): its
-- incident's (named directly, or the post-mortem's first incident), else the
-- Jira account that holds it. So a leader who picks a PagerDuty account sees
-- the follow-through of that account's incidents, wherever the tickets live.
CREATE FUNCTION lens.action_item_account(incident_id bigint, postmortem_id bigint, item_source_id integer)
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
RETURN coalesce((SELECT i.source_id FROM public.incidents i
                 WHERE i.id = coalesce(incident_id, (SELECT f.incident_id
                                                     FROM lens.postmortem_first_incident(postmortem_id) f))),
                item_source_id);
REVOKE EXECUTE ON FUNCTION lens.action_item_account(bigint, bigint, integer) FROM PUBLIC;

-- The items of a range as placed by docs/metrics.md §7: due in it, or without a due
-- date and created in it; nothing created after as_of. Not SECURITY DEFINER,
-- so that it is inlined into its callers (which are) and the columns they do
-- not use are never read; only the owner may call it (REVOKE below).
-- `account`: the items counted under that account (lens.action_item_account).
CREATE FUNCTION lens.placed_action_items(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                         account text DEFAULT NULL)
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
  WHERE a.created_at <= as_of AND a.removed_at IS NULL
    AND (account IS NULL OR lens.action_item_account(a.incident_id, a.postmortem_id, a.source_id)
                                = (SELECT lens.account_id(account)))
  UNION ALL
  SELECT a.id, a.external_id, a.title, a.owner, a.status, a.status_category, a.due_date, a.created_at,
         a.completed_at, a.incident_id, a.postmortem_id, a.html_url, 'created_at', a.created_at
  FROM public.action_items a
  WHERE a.due_date IS NULL AND a.created_at >= range_start AND a.created_at < range_end AND a.created_at <= as_of
    AND a.removed_at IS NULL
    AND (account IS NULL OR lens.action_item_account(a.incident_id, a.postmortem_id, a.source_id)
                                = (SELECT lens.account_id(account)));
END;

REVOKE EXECUTE ON FUNCTION lens.placed_action_items(timestamptz, timestamptz, timestamptz, text, text) FROM PUBLIC;

CREATE FUNCTION lens.action_item_facts(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                       account text DEFAULT NULL)
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
  FROM lens.placed_action_items(range_start, range_end, as_of, tz, account) a
  CROSS JOIN LATERAL (SELECT lens.due_deadline(a.due_date, tz) AS at) deadline
  CROSS JOIN LATERAL lens.action_item_state(deadline.at, a.status_category, a.completed_at, as_of) v
  LEFT JOIN LATERAL (SELECT x.id, x.external_id, x.html_url, (SELECT f.incident_id FROM lens.postmortem_first_incident(x.id) f) AS incident_id
                     FROM public.postmortems x WHERE x.id = a.postmortem_id) pm ON true
  LEFT JOIN public.incidents i ON i.id = coalesce(a.incident_id, pm.incident_id)
  LEFT JOIN public.services sv ON sv.id = i.service_id
  LEFT JOIN public.teams tm ON tm.id = i.team_id
  ORDER BY a.attributed_at, a.id;
END;

CREATE FUNCTION lens.action_item_metrics(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                         granularity text DEFAULT NULL,
                                         dimensions text[] DEFAULT ARRAY['total', 'service', 'team'],
                                         account text DEFAULT NULL)
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
           coalesce(a.incident_id, (SELECT f.incident_id FROM lens.postmortem_first_incident(a.postmortem_id) f)) AS incident_id
    FROM day
    JOIN public.action_items a ON a.due_date = day.day
    CROSS JOIN LATERAL lens.action_item_state(day.deadline, a.status_category, a.completed_at, as_of) v
    WHERE a.created_at <= as_of AND a.removed_at IS NULL
      AND (account IS NULL OR lens.action_item_account(a.incident_id, a.postmortem_id, a.source_id)
                                  = (SELECT lens.account_id(account)))
    UNION ALL
    SELECT false, a.created_at, NULL, NULL, NULL,
           coalesce(a.incident_id, (SELECT f.incident_id FROM lens.postmortem_first_incident(a.postmortem_id) f))
    FROM public.action_items a
    WHERE a.due_date IS NULL AND a.created_at >= range_start AND a.created_at < range_end AND a.created_at <= as_of
      AND a.removed_at IS NULL
      AND (account IS NULL OR lens.action_item_account(a.incident_id, a.postmortem_id, a.source_id)
                                  = (SELECT lens.account_id(account)))
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
    -- OFFSET 0 keeps it a lookup per item: flattened, PostgreSQL merges the items with every fact by key.
    LEFT JOIN LATERAL (SELECT x.service_id, x.team_id FROM lens.incident_fact x
                       WHERE x.incident_id = it.incident_id AND dimensions && ARRAY['service', 'team'] OFFSET 0) f ON true
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

CREATE FUNCTION lens.open_overdue_action_items(as_of timestamptz DEFAULT now(), tz text DEFAULT lens.default_timezone(),
                                               account text DEFAULT NULL)
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
           x.completed_at, x.incident_id, x.postmortem_id, x.html_url, x.source_id
    FROM public.action_items x
    WHERE (x.completed_at IS NULL OR lower(x.status_category) <> 'done')
      AND x.due_date < (as_of AT TIME ZONE tz)::date + 1 AND x.removed_at IS NULL
    UNION ALL
    SELECT x.id, x.external_id, x.title, x.owner, x.status, x.status_category, x.due_date, x.created_at,
           x.completed_at, x.incident_id, x.postmortem_id, x.html_url, x.source_id
    FROM public.action_items x
    WHERE x.completed_at > as_of AND lower(x.status_category) = 'done'
      AND x.due_date < (as_of AT TIME ZONE tz)::date + 1 AND x.removed_at IS NULL
  ) a
  CROSS JOIN LATERAL (SELECT lens.due_deadline(a.due_date, tz) AS at) deadline
  CROSS JOIN LATERAL lens.action_item_state(deadline.at, a.status_category, a.completed_at, as_of) v
  LEFT JOIN LATERAL (SELECT x.id, x.external_id, x.title, x.html_url, (SELECT f.incident_id FROM lens.postmortem_first_incident(x.id) f) AS incident_id
                     FROM public.postmortems x WHERE x.id = a.postmortem_id) pm ON true
  LEFT JOIN public.incidents i ON i.id = coalesce(a.incident_id, pm.incident_id)
  LEFT JOIN public.services sv ON sv.id = i.service_id
  LEFT JOIN public.teams tm ON tm.id = i.team_id
  WHERE v.is_overdue AND a.created_at <= as_of
    AND (account IS NULL OR lens.action_item_account(a.incident_id, a.postmortem_id, a.source_id)
                                = (SELECT lens.account_id(account)))
  ORDER BY deadline.at, a.id;
END;
