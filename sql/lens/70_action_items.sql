-- Action items (docs/metrics.md §7). The deadline is the end of the due day in
-- the report's zone; done means a Done-category status reached by as_of.
-- Every figure reads lens.action_item_fact (sql/015_action_item_fact.sql),
-- kept equal to the core tables by the triggers below; the lists join the
-- core tables only for the rows they show.

-- docs/metrics.md §7: an item due on a day must be done before the end of that
-- day in the report's zone.
CREATE FUNCTION lens.due_deadline(due_date date, tz text) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
RETURN (due_date + 1)::timestamp AT TIME ZONE tz;

-- The state of an action item as of an instant: done means a Done-category
-- status reached by as_of. A set-returning SQL function of plain columns, so
-- that PostgreSQL inlines it instead of calling it once per row, and
-- `deadline` (a time zone conversion) is evaluated only where it decides:
-- not for an item done before or after its due day in every zone
-- (lens.action_item_fact.completed_vs_due; 0 or NULL: look at the deadline).
CREATE FUNCTION lens.action_item_state(deadline timestamptz, done_status boolean, completed_at timestamptz,
                                       as_of timestamptz, completed_vs_due smallint DEFAULT NULL)
RETURNS TABLE (is_done boolean, completed_on_time boolean, is_overdue boolean)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT d.is_done,
         d.is_done AND CASE WHEN completed_vs_due < 0 THEN true WHEN completed_vs_due > 0 THEN false
                            ELSE completed_at < deadline END,
         NOT d.is_done AND deadline <= as_of
  FROM (SELECT coalesce(done_status AND completed_at <= as_of, false) AS is_done) d;
END;

-- The incident of an item known only by its post-mortem: the first incident
-- the post-mortem names, unmerged ones first.
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

-- Writes the facts of the given items as the core tables hold them now: the
-- incident an item counts under (named directly, or its post-mortem's first
-- incident), and the account it counts under (docs/metrics.md §13): that
-- incident's, else the Jira account that holds the item. So a leader who
-- picks a PagerDuty account sees the follow-through of that account's
-- incidents, wherever the tickets live. Service and team are the incident's
-- while it is not removed, as in lens.incident_fact.
CREATE FUNCTION lens.refresh_action_item_facts(item_ids bigint[]) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF coalesce(cardinality(item_ids), 0) = 0 THEN
    RETURN;
  END IF;

  WITH wanted AS (
    SELECT DISTINCT t.id FROM unnest(item_ids) AS t(id) WHERE t.id IS NOT NULL
  ),
  -- By key through LATERAL ... OFFSET 0, as lens.refresh_incident_facts does:
  -- a few lookups per item whatever the statistics say.
  desired AS (
    SELECT a.id AS action_item_id, a.due_date, a.created_at, a.completed_at,
           lower(a.status_category) = 'done' AS done_status, coalesce(btrim(a.owner), '') = '' AS without_owner,
           -- Before the due day began in UTC, or two days later: no zone is a day away.
           CASE WHEN a.completed_at < a.due_date::timestamp AT TIME ZONE 'UTC' THEN -1
                WHEN a.completed_at >= (a.due_date + 2)::timestamp AT TIME ZONE 'UTC' THEN 1
                WHEN a.completed_at IS NOT NULL AND a.due_date IS NOT NULL THEN 0 END AS completed_vs_due,
           counted.incident_id, coalesce(i.source_id, a.source_id) AS source_id,
           CASE WHEN i.removed_at IS NULL THEN i.service_id END AS service_id,
           CASE WHEN i.removed_at IS NULL THEN i.team_id END AS team_id
    FROM wanted
    CROSS JOIN LATERAL (SELECT x.* FROM public.action_items x WHERE x.id = wanted.id AND x.removed_at IS NULL OFFSET 0) a
    CROSS JOIN LATERAL (SELECT coalesce(a.incident_id, (SELECT f.incident_id FROM lens.postmortem_first_incident(a.postmortem_id) f))
                          AS incident_id) counted
    LEFT JOIN LATERAL (SELECT x.source_id, x.service_id, x.team_id, x.removed_at FROM public.incidents x
                       WHERE x.id = counted.incident_id OFFSET 0) i ON true
  ),
  removed AS (
    DELETE FROM lens.action_item_fact f
    WHERE f.action_item_id IN (SELECT w.id FROM wanted w)
      AND NOT EXISTS (SELECT 1 FROM desired d WHERE d.action_item_id = f.action_item_id)
  )
  INSERT INTO lens.action_item_fact AS f (action_item_id, due_date, created_at, completed_at, done_status,
                                          completed_vs_due, without_owner, incident_id, source_id, service_id, team_id)
  SELECT d.action_item_id, d.due_date, d.created_at, d.completed_at, d.done_status, d.completed_vs_due,
         d.without_owner, d.incident_id, d.source_id, d.service_id, d.team_id
  FROM desired d
  ORDER BY d.due_date, d.created_at -- keeps a range of due days on few pages
  ON CONFLICT (action_item_id) DO UPDATE SET
    due_date = excluded.due_date, created_at = excluded.created_at, completed_at = excluded.completed_at,
    done_status = excluded.done_status, completed_vs_due = excluded.completed_vs_due,
    without_owner = excluded.without_owner, incident_id = excluded.incident_id,
    source_id = excluded.source_id, service_id = excluded.service_id, team_id = excluded.team_id
  WHERE (f.due_date, f.created_at, f.completed_at, f.done_status, f.completed_vs_due, f.without_owner, f.incident_id,
         f.source_id, f.service_id, f.team_id)
        IS DISTINCT FROM
        (excluded.due_date, excluded.created_at, excluded.completed_at, excluded.done_status, excluded.completed_vs_due,
         excluded.without_owner, excluded.incident_id, excluded.source_id, excluded.service_id, excluded.team_id);
END $$;

-- What can move an item's facts: the item itself; the links of its
-- post-mortem (which incident is first); and its incident's order among the
-- post-mortem's incidents (merged, created_at), account, service, team or
-- removal. A post-mortem's own columns place no item (deleting one deletes
-- its links, whose trigger refreshes), and an incident referenced by an item
-- cannot be deleted. Updates that change none of these cost no refresh.
CREATE FUNCTION lens.on_action_item_source_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_TABLE_NAME = 'action_items' THEN
    IF TG_OP = 'TRUNCATE' THEN
      DELETE FROM lens.action_item_fact;
    ELSIF TG_OP = 'INSERT' THEN
      PERFORM lens.refresh_action_item_facts(ARRAY(SELECT n.id FROM new_rows n));
    ELSIF TG_OP = 'UPDATE' THEN
      PERFORM lens.refresh_action_item_facts(ARRAY(
        SELECT changed.id FROM (
          SELECT n.id, n.source_id, n.incident_id, n.postmortem_id, n.status_category, n.owner, n.due_date,
                 n.created_at, n.completed_at, n.removed_at
          FROM new_rows n
          EXCEPT
          SELECT o.id, o.source_id, o.incident_id, o.postmortem_id, o.status_category, o.owner, o.due_date,
                 o.created_at, o.completed_at, o.removed_at
          FROM old_rows o) changed));
    ELSE
      PERFORM lens.refresh_action_item_facts(ARRAY(SELECT o.id FROM old_rows o));
    END IF;
  ELSIF TG_TABLE_NAME = 'postmortem_incidents' THEN
    -- Only items without an incident of their own follow their post-mortem's first.
    IF TG_OP = 'TRUNCATE' THEN
      PERFORM lens.refresh_action_item_facts(ARRAY(
        SELECT a.id FROM public.action_items a WHERE a.incident_id IS NULL AND a.postmortem_id IS NOT NULL));
    ELSIF TG_OP = 'INSERT' THEN
      PERFORM lens.refresh_action_item_facts(ARRAY(
        SELECT a.id FROM public.action_items a
        WHERE a.postmortem_id IN (SELECT n.postmortem_id FROM new_rows n) AND a.incident_id IS NULL));
    ELSIF TG_OP = 'UPDATE' THEN
      PERFORM lens.refresh_action_item_facts(ARRAY(
        SELECT a.id FROM public.action_items a
        WHERE a.postmortem_id IN (SELECT n.postmortem_id FROM new_rows n UNION SELECT o.postmortem_id FROM old_rows o)
          AND a.incident_id IS NULL));
    ELSE
      PERFORM lens.refresh_action_item_facts(ARRAY(
        SELECT a.id FROM public.action_items a
        WHERE a.postmortem_id IN (SELECT o.postmortem_id FROM old_rows o) AND a.incident_id IS NULL));
    END IF;
  ELSE
    PERFORM lens.refresh_action_item_facts(ARRAY(
      WITH changed AS (
        SELECT n.id, n.created_at, n.merged, n.source_id, n.service_id, n.team_id, n.removed_at FROM new_rows n
        EXCEPT
        SELECT o.id, o.created_at, o.merged, o.source_id, o.service_id, o.team_id, o.removed_at FROM old_rows o
      )
      SELECT a.id FROM public.action_items a WHERE a.incident_id IN (SELECT c.id FROM changed c)
      UNION
      SELECT a.id FROM public.postmortem_incidents l JOIN public.action_items a ON a.postmortem_id = l.postmortem_id
      WHERE l.incident_id IN (SELECT c.id FROM changed c) AND a.incident_id IS NULL));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER action_item_fact_insert AFTER INSERT ON public.action_items
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_source_changed();
CREATE TRIGGER action_item_fact_update AFTER UPDATE ON public.action_items
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_source_changed();
CREATE TRIGGER action_item_fact_delete AFTER DELETE ON public.action_items
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_source_changed();
CREATE TRIGGER action_item_fact_truncate AFTER TRUNCATE ON public.action_items
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_source_changed();
CREATE TRIGGER action_item_fact_insert AFTER INSERT ON public.postmortem_incidents
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_source_changed();
CREATE TRIGGER action_item_fact_update AFTER UPDATE ON public.postmortem_incidents
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_source_changed();
CREATE TRIGGER action_item_fact_delete AFTER DELETE ON public.postmortem_incidents
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_source_changed();
CREATE TRIGGER action_item_fact_truncate AFTER TRUNCATE ON public.postmortem_incidents
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_source_changed();
CREATE TRIGGER action_item_fact_update AFTER UPDATE ON public.incidents
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_source_changed();

-- An item is settled when it is done, before its due day began in UTC or
-- two days after (lens.action_item_fact.completed_vs_due -1 or 1): on time
-- or late in every zone, and done as of any instant after its creation and
-- completion. Subtracts the settled items among `removed` from
-- lens.action_item_due_month (sql/021_action_item_due_months.sql) and adds
-- those among `added`; the same test picks the others in
-- action_item_fact_unsettled_idx and lens.action_item_metrics. Counts are
-- added to, never recounted, so concurrent writers sum up; one statement
-- locks its rows in one order.
CREATE FUNCTION lens.count_settled_action_items(removed lens.action_item_fact[], added lens.action_item_fact[])
RETURNS void
LANGUAGE sql VOLATILE
BEGIN ATOMIC
  INSERT INTO lens.action_item_due_month AS t (due_month, source_id, service_id, team_id, settled, settled_early,
                                               settled_until)
  SELECT date_trunc('month', i.due_date::timestamp)::date, i.source_id, i.service_id, i.team_id, sum(i.sign),
         coalesce(sum(i.sign) FILTER (WHERE i.completed_vs_due < 0), 0),
         -- A removal keeps the bound.
         coalesce(max(greatest(i.created_at, i.completed_at)) FILTER (WHERE i.sign > 0), '-infinity')
  FROM (SELECT r.*, -1 AS sign FROM unnest(removed) r UNION ALL SELECT a.*, 1 FROM unnest(added) a) i
  WHERE i.due_date IS NOT NULL AND i.done_status AND coalesce(i.completed_vs_due, 0) <> 0
  GROUP BY 1, 2, 3, 4
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (due_month, source_id, service_id, team_id) DO UPDATE SET
    settled = t.settled + excluded.settled, settled_early = t.settled_early + excluded.settled_early,
    settled_until = greatest(t.settled_until, excluded.settled_until)
  -- An item rewritten in place (its incident, owner, creation before the bound) changes nothing here.
  WHERE excluded.settled <> 0 OR excluded.settled_early <> 0 OR excluded.settled_until > t.settled_until;
  DELETE FROM lens.action_item_due_month t WHERE cardinality(removed) > 0 AND t.settled = 0;
END;

CREATE FUNCTION lens.on_action_item_fact_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM lens.action_item_due_month;
  ELSIF TG_OP = 'INSERT' THEN
    PERFORM lens.count_settled_action_items('{}', ARRAY(SELECT ROW(n.*)::lens.action_item_fact FROM new_rows n));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM lens.count_settled_action_items(ARRAY(SELECT ROW(o.*)::lens.action_item_fact FROM old_rows o), '{}');
  ELSE
    PERFORM lens.count_settled_action_items(ARRAY(SELECT ROW(o.*)::lens.action_item_fact FROM old_rows o),
                                            ARRAY(SELECT ROW(n.*)::lens.action_item_fact FROM new_rows n));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER action_item_due_month_insert AFTER INSERT ON lens.action_item_fact
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_fact_changed();
CREATE TRIGGER action_item_due_month_update AFTER UPDATE ON lens.action_item_fact
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_fact_changed();
CREATE TRIGGER action_item_due_month_delete AFTER DELETE ON lens.action_item_fact
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_fact_changed();
CREATE TRIGGER action_item_due_month_truncate AFTER TRUNCATE ON lens.action_item_fact
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_action_item_fact_changed();

-- The facts of the items not done as of as_of: not done now (a small partial
-- index), or done only after as_of. Inlined into its callers.
CREATE FUNCTION lens.open_action_item_facts(as_of timestamptz)
RETURNS SETOF lens.action_item_fact
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT x.* FROM lens.action_item_fact x WHERE NOT (x.done_status AND x.completed_at IS NOT NULL)
  UNION ALL
  SELECT x.* FROM lens.action_item_fact x WHERE x.done_status AND x.completed_at > as_of;
END;

-- The items of a range as placed by docs/metrics.md §7: due in it, or without a due
-- date and created in it; nothing created after as_of. Inlined into its
-- callers, so the columns they do not use are never read. The range of due
-- days is a pair of values (not a join), so that each index of the items
-- read is scanned for it alone.
-- `account`: the items counted under that account. `include_done` false:
-- only those not done as of as_of, read from the open items alone.
CREATE FUNCTION lens.placed_action_items(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                         account text DEFAULT NULL, include_done boolean DEFAULT true)
RETURNS TABLE (
  action_item_id bigint, due_date date, created_at timestamptz, completed_at timestamptz, done_status boolean,
  without_owner boolean, incident_id bigint, service_id bigint, team_id bigint,
  attribution text, attributed_at timestamptz
)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  WITH candidate AS NOT MATERIALIZED (
    SELECT x.* FROM lens.action_item_fact x WHERE include_done
    UNION ALL
    SELECT x.* FROM lens.open_action_item_facts(as_of) x WHERE NOT include_done
  )
  SELECT f.action_item_id, f.due_date, f.created_at, f.completed_at, f.done_status, f.without_owner, f.incident_id,
         f.service_id, f.team_id, 'due_date', f.due_date::timestamp AT TIME ZONE tz
  FROM candidate f
  WHERE f.due_date >= (SELECT d.first_day FROM lens.local_days(range_start, range_end, tz) d)
    AND f.due_date < (SELECT d.end_day FROM lens.local_days(range_start, range_end, tz) d)
    AND f.created_at <= as_of AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
  UNION ALL
  SELECT f.action_item_id, f.due_date, f.created_at, f.completed_at, f.done_status, f.without_owner, f.incident_id,
         f.service_id, f.team_id, 'created_at', f.created_at
  FROM candidate f
  WHERE f.due_date IS NULL AND f.created_at >= range_start AND f.created_at < range_end AND f.created_at <= as_of
    AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)));
END;

-- `include_done` false leaves out the items done by as_of (the Action items
-- page hides them unless asked), `include_overdue` false those overdue (the
-- page lists every overdue item apart), before any of their details are read.
CREATE FUNCTION lens.action_item_facts(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                       account text DEFAULT NULL, include_done boolean DEFAULT true,
                                       include_overdue boolean DEFAULT true)
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
-- Planned for the range and flags of each call: a plan for any range (which
-- PostgreSQL caches after five calls in a session) reads far more.
SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  SELECT a.id, a.external_id, a.title, a.owner, a.status, a.status_category,
    p.due_date, deadline.at, p.created_at, CASE WHEN v.is_done THEN p.completed_at END,
    v.is_done, v.completed_on_time, v.is_overdue,
    p.attribution, p.attributed_at,
    i.id, i.external_id, pm.id, pm.external_id, i.severity, i.service_id, sv.name, i.team_id, tm.name,
    a.html_url, i.html_url, pm.html_url
  FROM lens.placed_action_items(range_start, range_end, as_of, tz, account, include_done) p
  CROSS JOIN LATERAL (SELECT lens.due_deadline(p.due_date, tz) AS at) deadline
  CROSS JOIN LATERAL lens.action_item_state(deadline.at, p.done_status, p.completed_at, as_of) v
  -- By key (OFFSET 0): a merge with every item is what a misjudged range gets.
  CROSS JOIN LATERAL (SELECT x.* FROM public.action_items x WHERE x.id = p.action_item_id OFFSET 0) a
  LEFT JOIN public.postmortems pm ON pm.id = a.postmortem_id
  LEFT JOIN public.incidents i ON i.id = p.incident_id
  LEFT JOIN public.services sv ON sv.id = i.service_id
  LEFT JOIN public.teams tm ON tm.id = i.team_id
  WHERE (include_done OR NOT v.is_done) AND (include_overdue OR v.is_overdue IS NOT TRUE)
  ORDER BY p.attributed_at, a.id;
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
SET max_parallel_workers_per_gather = 0
BEGIN ATOMIC
  -- A bucket is a period, or the part of one in the range (the whole range
  -- without granularity); a due day belongs to the period containing its
  -- midnight, so the local start of the period names the bucket of both.
  WITH bucket AS MATERIALIZED (
    SELECT b.bucket_start, b.bucket_end, b.period_label, date_trunc(granularity, b.bucket_start AT TIME ZONE tz) AS period
    FROM lens.buckets(granularity, range_start, range_end, tz) b
  ),
  -- The due days of the range; with no granularity or by month, the whole
  -- calendar months among them too (a bucket of a week or a day holds none).
  days AS MATERIALIZED (
    SELECT d.first_day, d.end_day,
           CASE WHEN granularity IS NULL OR granularity = 'month'
                THEN date_trunc('month', d.first_day::timestamp - interval '1 day') + interval '1 month' END AS months_from,
           date_trunc('month', d.end_day::timestamp) AS months_to
    FROM lens.local_days(range_start, range_end, tz) d
  ),
  -- A whole month's settled items are counted from lens.action_item_due_month
  -- when none was created or completed after as_of; otherwise the month is
  -- read item by item.
  month AS MATERIALIZED (
    SELECT m.month::date AS month, (m.month + interval '1 month')::date AS month_end,
           coalesce((SELECT bool_and(t.settled_until <= as_of) FROM lens.action_item_due_month t
                     WHERE t.due_month = m.month::date
                       AND (account IS NULL OR t.source_id = (SELECT lens.account_id(account)))), true) AS counted
    FROM days CROSS JOIN generate_series(days.months_from, days.months_to - interval '1 month', interval '1 month') m(month)
  ),
  -- The days read item by item: before the first whole month, after the
  -- last, and the months not counted.
  piece AS (
    SELECT days.first_day AS first_day, coalesce((SELECT min(m.month) FROM month m), days.end_day) AS end_day FROM days
    UNION ALL
    SELECT coalesce((SELECT max(m.month_end) FROM month m), days.end_day), days.end_day FROM days
    UNION ALL
    SELECT m.month, m.month_end FROM month m WHERE NOT m.counted
  ),
  item AS (
    SELECT f.due_date, f.created_at, f.completed_at, f.done_status, f.completed_vs_due, f.source_id, f.service_id,
           f.team_id
    FROM piece p JOIN lens.action_item_fact f ON f.due_date >= p.first_day AND f.due_date < p.end_day
    UNION ALL
    SELECT f.due_date, f.created_at, f.completed_at, f.done_status, f.completed_vs_due, f.source_id, f.service_id,
           f.team_id
    FROM month m JOIN lens.action_item_fact f ON f.due_date >= m.month AND f.due_date < m.month_end
    WHERE m.counted AND NOT (f.done_status AND coalesce(f.completed_vs_due, 0) <> 0)
  ),
  -- The items due in the range per period, and service or team when a
  -- dimension needs it: a few hundred rows, counted from the items read and
  -- the months counted (FILTER: grouping by state as well costs more per item).
  dated AS (
    SELECT date_trunc(granularity, f.due_date::timestamp) AS period, s.service_id, s.team_id, count(*) AS total,
           count(*) FILTER (WHERE v.is_done) AS completed, count(*) FILTER (WHERE v.completed_on_time) AS completed_on_time,
           count(*) FILTER (WHERE v.is_overdue) AS overdue
    FROM item f
    CROSS JOIN LATERAL lens.action_item_state(lens.due_deadline(f.due_date, tz), f.done_status, f.completed_at, as_of,
                                              f.completed_vs_due) v
    CROSS JOIN LATERAL (SELECT CASE WHEN 'service' = ANY (dimensions) THEN f.service_id END AS service_id,
                               CASE WHEN 'team' = ANY (dimensions) THEN f.team_id END AS team_id) s
    WHERE f.created_at <= as_of AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
    GROUP BY 1, s.service_id, s.team_id
    UNION ALL
    -- Settled by as_of: done, on time when early, never overdue.
    SELECT date_trunc(granularity, t.due_month::timestamp), s.service_id, s.team_id, sum(t.settled), sum(t.settled),
           sum(t.settled_early), 0
    FROM month m JOIN lens.action_item_due_month t ON t.due_month = m.month
    CROSS JOIN LATERAL (SELECT CASE WHEN 'service' = ANY (dimensions) THEN t.service_id END AS service_id,
                               CASE WHEN 'team' = ANY (dimensions) THEN t.team_id END AS team_id) s
    WHERE m.counted AND (account IS NULL OR t.source_id = (SELECT lens.account_id(account)))
    GROUP BY 1, s.service_id, s.team_id
  ),
  tally AS (
    SELECT bk.bucket_start, t.service_id, t.team_id, t.total, t.completed, t.completed_on_time, t.overdue,
           0 AS no_due_date
    FROM dated t JOIN bucket bk ON bk.period IS NOT DISTINCT FROM t.period
    UNION ALL
    SELECT bk.bucket_start, s.service_id, s.team_id, 0, 0, 0, 0, count(*)
    FROM bucket bk
    JOIN lens.action_item_fact f ON f.due_date IS NULL AND f.created_at >= bk.bucket_start AND f.created_at < bk.bucket_end
    CROSS JOIN LATERAL (SELECT CASE WHEN 'service' = ANY (dimensions) THEN f.service_id END AS service_id,
                               CASE WHEN 'team' = ANY (dimensions) THEN f.team_id END AS team_id) s
    WHERE f.created_at <= as_of AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
    GROUP BY bk.bucket_start, s.service_id, s.team_id
  ),
  grouped AS (
    SELECT b.bucket_start, b.bucket_end, b.period_label, d.dimension,
      CASE d.dimension WHEN 'service' THEN t.service_id::text WHEN 'team' THEN t.team_id::text END AS dimension_key,
      coalesce(sum(t.total), 0) AS total, coalesce(sum(t.completed), 0) AS completed,
      coalesce(sum(t.completed_on_time), 0) AS completed_on_time, coalesce(sum(t.overdue), 0) AS overdue,
      coalesce(sum(t.no_due_date), 0) AS no_due_date
    FROM bucket b
    LEFT JOIN tally t ON t.bucket_start = b.bucket_start
    JOIN unnest(dimensions) AS d(dimension) ON d.dimension IN ('total', 'service', 'team')
    -- An empty bucket still has its total row; per-service rows only where items are.
    WHERE d.dimension = 'total' OR t.bucket_start IS NOT NULL
    GROUP BY b.bucket_start, b.bucket_end, b.period_label, d.dimension,
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

-- The items past their deadline and not done as of as_of, whatever their due
-- date, from the fact alone: counting them reads nothing else. Inlined into
-- its callers.
CREATE FUNCTION lens.overdue_action_items(as_of timestamptz, tz text, account text DEFAULT NULL)
RETURNS TABLE (action_item_id bigint, due_date date, deadline timestamptz, incident_id bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT f.action_item_id, f.due_date, lens.due_deadline(f.due_date, tz), f.incident_id
  FROM lens.open_action_item_facts(as_of) f
  -- An item due two local days before as_of's or earlier is past its deadline
  -- (a local day lasts at least 23 hours): only the last two due days need
  -- the zone's conversion, not every open item.
  WHERE f.due_date < (as_of AT TIME ZONE tz)::date + 1
    AND (f.due_date < (as_of AT TIME ZONE tz)::date - 1 OR lens.due_deadline(f.due_date, tz) <= as_of)
    AND f.created_at <= as_of
    AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)));
END;

-- With `list_limit`, only the list_limit first by deadline and external id
-- (what the report lists): only the items due by the list_limit-th deadline
-- are read, and the details of those listed.
CREATE FUNCTION lens.open_overdue_action_items(as_of timestamptz DEFAULT now(), tz text DEFAULT lens.default_timezone(),
                                               account text DEFAULT NULL, list_limit integer DEFAULT NULL)
RETURNS TABLE (
  action_item_id bigint, external_id text, title text, owner text, status text,
  due_date date, deadline timestamptz, overdue_seconds double precision, created_at timestamptz,
  incident_id bigint, incident_external_id text, incident_title text, postmortem_id bigint,
  postmortem_external_id text, postmortem_title text,
  severity text, service_id bigint, service_name text, team_id bigint, team_name text,
  html_url text, incident_url text, postmortem_url text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0 SET random_page_cost = 1.1 SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  SELECT a.id, a.external_id, a.title, a.owner, a.status, a.due_date, a.deadline,
    lens.seconds_between(as_of, a.deadline), a.created_at,
    i.id, i.external_id, i.title, pm.id, pm.external_id, pm.title,
    i.severity, i.service_id, sv.name, i.team_id, tm.name,
    a.html_url, i.html_url, pm.html_url
  FROM (
    SELECT x.id, x.external_id, x.title, x.owner, x.status, x.due_date, o.deadline, x.created_at, x.postmortem_id,
           x.html_url, o.incident_id
    FROM lens.overdue_action_items(as_of, tz, account) o
    CROSS JOIN LATERAL (SELECT y.* FROM public.action_items y WHERE y.id = o.action_item_id OFFSET 0) x
    -- By due date, which orders the deadlines without converting each to the zone.
    WHERE list_limit IS NULL
       OR o.due_date <= coalesce((SELECT c.due_date FROM lens.overdue_action_items(as_of, tz, account) c
                                  ORDER BY c.due_date OFFSET greatest(list_limit - 1, 0) LIMIT 1), 'infinity')
    ORDER BY CASE WHEN list_limit IS NOT NULL THEN o.due_date END, CASE WHEN list_limit IS NOT NULL THEN x.external_id END
    LIMIT list_limit
  ) a
  LEFT JOIN public.postmortems pm ON pm.id = a.postmortem_id
  LEFT JOIN public.incidents i ON i.id = a.incident_id
  LEFT JOIN public.services sv ON sv.id = i.service_id
  LEFT JOIN public.teams tm ON tm.id = i.team_id
  ORDER BY a.deadline, a.id;
END;
