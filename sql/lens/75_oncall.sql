-- On-call load and noise (docs/metrics.md §10 and 11) from the tables of
-- sql/008_oncall.sql: interruptions by band in each responder's own zone,
-- nights interrupted, acknowledgements, auto-resolved and transient incidents.

-- ---------------------------------------------------------------------------
-- Late data: the cache of a period (lens.oncall_rollup) is valid only while
-- no recorded change overlaps it, as for lens.period_rollup. A notification
-- changes its own instant; a user's zone, the bands of all their
-- notifications; an incident's acknowledger or resolver, its creation
-- instant; its service or team, the instants of its notifications.

CREATE FUNCTION lens.on_notifications_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM lens.record_change_everywhere();
  ELSIF TG_OP = 'INSERT' THEN
    PERFORM lens.record_fact_change(ARRAY(SELECT n.notified_at FROM new_rows n));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM lens.record_fact_change(ARRAY(SELECT n.notified_at FROM new_rows n UNION SELECT o.notified_at FROM old_rows o));
  ELSE
    PERFORM lens.record_fact_change(ARRAY(SELECT o.notified_at FROM old_rows o));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER oncall_change_insert AFTER INSERT ON public.notifications
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_notifications_changed();
CREATE TRIGGER oncall_change_update AFTER UPDATE ON public.notifications
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_notifications_changed();
CREATE TRIGGER oncall_change_delete AFTER DELETE ON public.notifications
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_notifications_changed();
CREATE TRIGGER oncall_change_truncate AFTER TRUNCATE ON public.notifications
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_notifications_changed();

-- Only a changed zone moves bands; a renamed user changes no cached figure
-- (names are joined when read).
CREATE FUNCTION lens.on_user_zone_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM lens.record_fact_change(ARRAY(SELECT n.notified_at FROM public.notifications n WHERE n.user_id = NEW.id));
  RETURN NULL;
END $$;

CREATE TRIGGER oncall_zone_change AFTER UPDATE ON public.users
  FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone) EXECUTE FUNCTION lens.on_user_zone_changed();

CREATE FUNCTION lens.on_incident_responders_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM lens.record_fact_change(ARRAY(
    SELECT changed.created_at FROM (
      SELECT n.id, n.created_at, n.acknowledged_by, n.resolved_by, n.removed_at FROM new_rows n
      EXCEPT SELECT o.id, o.created_at, o.acknowledged_by, o.resolved_by, o.removed_at FROM old_rows o) changed
    UNION ALL
    SELECT nt.notified_at FROM (
      SELECT n.id, n.service_id, n.team_id FROM new_rows n
      EXCEPT SELECT o.id, o.service_id, o.team_id FROM old_rows o) moved
    JOIN public.notifications nt ON nt.incident_id = moved.id));
  RETURN NULL;
END $$;

CREATE TRIGGER oncall_change_update AFTER UPDATE ON public.incidents
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION lens.on_incident_responders_changed();

REVOKE EXECUTE ON FUNCTION lens.on_notifications_changed(), lens.on_user_zone_changed(),
  lens.on_incident_responders_changed() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- The figures. An interruption is a notification by sms, phone or push (never
-- email, never unknown), merged incidents' included. Its band is read in the
-- notified user's own zone (the report's when the user has none), half-open:
-- sleep 22:00-08:00 every day, business Mon-Fri 08:00-18:00, off the rest. A
-- night is named by the date of its 22:00 start. It belongs to the period its
-- own instant falls in. Noise (section 11) is over the period's unmerged
-- incidents: auto-resolved when a service, an integration or a timeout made
-- the resolving entry; transient when resolved at most 300 s after creation
-- and not acknowledged, both as of as_of.


-- The band of a local wall-clock time.
CREATE FUNCTION lens.interruption_band(local_at timestamp) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN local_at::time >= time '22:00' OR local_at::time < time '08:00' THEN 'sleep'
            WHEN date_part('isodow', local_at) <= 5 AND local_at::time < time '18:00' THEN 'business'
            ELSE 'off' END;

-- The night a local time of the sleep band belongs to: the date of its 22:00.
CREATE FUNCTION lens.night_of(local_at timestamp) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN local_at::time < time '08:00' THEN local_at::date - 1 ELSE local_at::date END;

-- Noise of one incident as of an instant. A set-returning SQL function of
-- plain columns, so that PostgreSQL inlines it rather than calling it per row.
CREATE FUNCTION lens.noise_state(created_at timestamptz, acknowledged_at timestamptz, resolved_at timestamptz,
                                 resolved_by text, as_of timestamptz)
RETURNS TABLE (auto_resolved boolean, transient boolean)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT coalesce(resolved_at <= as_of AND resolved_by IN ('service', 'integration', 'timeout'), false),
         coalesce(resolved_at <= as_of AND lens.seconds_between(resolved_at, created_at) <= 300
                  AND NOT coalesce(acknowledged_at <= as_of, false), false);
END;

-- The notifications of [range_start, range_end) up to as_of, with their
-- incident's service and team and their local time in the user's zone and in
-- the report's. `account`: that account's only.
CREATE FUNCTION lens.oncall_notifications(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                          account text DEFAULT NULL)
RETURNS TABLE (user_id bigint, method text, interrupts boolean, service_id bigint, team_id bigint, notified_at timestamptz,
               local_at timestamp, report_local timestamp)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT n.user_id, n.method, n.method IN ('sms', 'phone', 'push'), f.service_id, f.team_id, n.notified_at,
         n.notified_at AT TIME ZONE coalesce(u.time_zone, tz), n.notified_at AT TIME ZONE tz
  FROM public.notifications n
  JOIN public.users u ON u.id = n.user_id
  -- The incident's service and team: most incidents of a period's notifications
  -- were created in it or just before, read by time in one go; the others by key.
  LEFT JOIN (SELECT x.incident_id, x.service_id, x.team_id FROM lens.incident_fact x
             WHERE x.created_at >= range_start - interval '2 days' AND x.created_at < range_end) recent
    ON recent.incident_id = n.incident_id
  LEFT JOIN LATERAL (SELECT x.service_id, x.team_id FROM lens.incident_fact x
                     WHERE recent.incident_id IS NULL AND x.incident_id = n.incident_id OFFSET 0) older ON true
  CROSS JOIN LATERAL (SELECT coalesce(recent.service_id, older.service_id) AS service_id,
                             coalesce(recent.team_id, older.team_id) AS team_id) f
  WHERE n.notified_at >= range_start AND n.notified_at < range_end AND n.notified_at <= as_of
    AND (account IS NULL OR n.source_id = (SELECT lens.account_id(account)));
END;

-- `account`: the notifications and incidents of that account only.
CREATE FUNCTION lens.compute_oncall(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                    account text DEFAULT NULL)
RETURNS TABLE (stable_from timestamptz, figures lens.oncall_metrics[])
LANGUAGE sql STABLE PARALLEL SAFE
-- A month of notifications is grouped in memory.
SET work_mem = '32MB'
BEGIN ATOMIC
  WITH notified AS MATERIALIZED (
    SELECT n.* FROM lens.oncall_notifications(range_start, range_end, as_of, tz, account) n
  ),
  interruption AS MATERIALIZED (
    SELECT n.user_id, n.service_id, n.team_id, lens.interruption_band(n.local_at) AS band,
           lens.night_of(n.local_at) AS night,
           ((date_part('isodow', n.report_local)::integer - 1) * 24 + date_part('hour', n.report_local)::integer) AS hour_of_week
    FROM notified n WHERE n.interrupts
  ),
  -- A night is a user's: every dimension counts the distinct (user, night)
  -- pairs of its sleep interruptions, so two responders woken on one date are
  -- two nights, one woken twice in a night is one. A service's or team's are
  -- those its incidents caused. None per hour of the week.
  nights AS MATERIALIZED (
    SELECT CASE WHEN GROUPING(s.user_id) = 0 THEN 'responder' WHEN GROUPING(s.service_id) = 0 THEN 'service'
                WHEN GROUPING(s.team_id) = 0 THEN 'team' ELSE 'total' END AS dimension,
           CASE WHEN GROUPING(s.user_id) = 0 THEN s.user_id::text WHEN GROUPING(s.service_id) = 0 THEN s.service_id::text
                WHEN GROUPING(s.team_id) = 0 THEN s.team_id::text END AS dimension_key,
           count(DISTINCT (s.user_id, s.night))::integer AS nights
    FROM interruption s WHERE s.band = 'sleep'
    GROUP BY GROUPING SETS ((), (s.user_id), (s.service_id), (s.team_id))
  ),
  incident AS MATERIALIZED (
    SELECT i.service_id, i.team_id, CASE WHEN i.acknowledged_at <= as_of THEN i.acknowledged_by END AS acknowledged_by,
           v.auto_resolved, v.transient, greatest(i.acknowledged_at, i.resolved_at) AS settled_at
    FROM public.incidents i
    CROSS JOIN LATERAL lens.noise_state(i.created_at, i.acknowledged_at, i.resolved_at, i.resolved_by, as_of) v
    WHERE i.created_at >= range_start AND i.created_at < range_end AND i.created_at <= as_of AND NOT i.merged
      AND i.removed_at IS NULL
      AND (account IS NULL OR i.source_id = (SELECT lens.account_id(account)))
  ),
  -- One pass over every notification and incident, all dimensions at once
  -- (plain counts, so PostgreSQL hashes rather than sorts).
  counted AS (
    SELECT
      CASE WHEN GROUPING(x.responder) = 0 THEN 'responder' WHEN GROUPING(x.service_id) = 0 THEN 'service'
           WHEN GROUPING(x.team_id) = 0 THEN 'team' WHEN GROUPING(x.hour_of_week) = 0 THEN 'hour_of_week'
           ELSE 'total' END AS dimension,
      CASE WHEN GROUPING(x.responder) = 0 THEN x.responder::text WHEN GROUPING(x.service_id) = 0 THEN x.service_id::text
           WHEN GROUPING(x.team_id) = 0 THEN x.team_id::text WHEN GROUPING(x.hour_of_week) = 0 THEN x.hour_of_week::text
           END AS dimension_key,
      coalesce(sum(x.notifications), 0)::integer AS notifications,
      coalesce(sum(x.unknown_method), 0)::integer AS unknown_method,
      count(x.band)::integer AS interruptions,
      count(*) FILTER (WHERE x.band = 'business')::integer AS business,
      count(*) FILTER (WHERE x.band = 'off')::integer AS off,
      count(*) FILTER (WHERE x.band = 'sleep')::integer AS sleep,
      count(x.acknowledged_by)::integer AS acknowledged,
      count(x.noise_row)::integer AS incidents,
      count(*) FILTER (WHERE x.auto_resolved)::integer AS auto_resolved,
      count(*) FILTER (WHERE x.transient)::integer AS transient
    FROM (
      SELECT n.user_id AS responder, n.service_id, n.team_id, NULL::integer AS hour_of_week, 1 AS notifications,
             (n.method = 'unknown')::integer AS unknown_method, NULL::text AS band,
             NULL::bigint AS acknowledged_by, NULL::boolean AS noise_row, NULL::boolean AS auto_resolved,
             NULL::boolean AS transient
      FROM notified n WHERE NOT n.interrupts
      UNION ALL
      SELECT i.user_id, i.service_id, i.team_id, i.hour_of_week, 1, 0, i.band, NULL, NULL, NULL, NULL
      FROM interruption i
      UNION ALL
      SELECT c.acknowledged_by, c.service_id, c.team_id, NULL, 0, 0, NULL, c.acknowledged_by, true, c.auto_resolved, c.transient
      FROM incident c
    ) x
    GROUP BY GROUPING SETS ((), (x.responder), (x.service_id), (x.team_id), (x.hour_of_week))
  )
  SELECT greatest(range_end, (SELECT max(c.settled_at) FROM incident c)),
    coalesce((SELECT array_agg(ROW(g.dimension, g.dimension_key, g.notifications, g.unknown_method, g.interruptions,
                                   g.business, g.off, g.sleep,
                                   CASE WHEN g.dimension <> 'hour_of_week' THEN
                                     coalesce((SELECT n.nights FROM nights n WHERE n.dimension = g.dimension
                                                 AND n.dimension_key IS NOT DISTINCT FROM g.dimension_key), 0) END,
                                   g.acknowledged, g.incidents, g.auto_resolved, g.transient)::lens.oncall_metrics
                               ORDER BY array_position(ARRAY['total', 'responder', 'service', 'team', 'hour_of_week'], g.dimension),
                                        g.dimension_key)
              FROM counted g
              -- Rows without a responder or an hour (incidents, emails) make no such group. A responder
              -- row exists for any notification or acknowledgement, so that the figures of adjacent
              -- ranges add up; lens.oncall_metrics shows those with an interruption or an acknowledgement.
              WHERE g.dimension = 'total'
                 OR (g.dimension IN ('service', 'team') AND g.notifications + g.incidents > 0)
                 OR (g.dimension = 'responder' AND g.dimension_key IS NOT NULL AND g.notifications + g.acknowledged > 0)
                 OR (g.dimension = 'hour_of_week' AND g.dimension_key IS NOT NULL)),
             -- Nothing happened: the total row all the same.
             ARRAY[ROW('total', NULL, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)::lens.oncall_metrics]);
END;

-- The nights woken on both sides of `boundary` within [range_start,
-- range_end), per dimension as compute_oncall counts nights: the figures of
-- the two sides count each such night once each, the two together once. Only
-- nights_interrupted is set. A night lasts 10 hours of its user's clock (11
-- across a DST change), so a day either side of the boundary holds them all.
CREATE FUNCTION lens.compute_oncall_shared_nights(boundary timestamptz, range_start timestamptz, range_end timestamptz,
                                                  as_of timestamptz, tz text)
RETURNS lens.oncall_metrics[]
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  WITH woken AS (
    SELECT n.user_id, n.service_id, n.team_id, lens.night_of(n.local_at) AS night, n.notified_at < boundary AS before
    FROM lens.oncall_notifications(range_start, range_end, as_of, tz) n
    WHERE n.interrupts AND lens.interruption_band(n.local_at) = 'sleep'
  ),
  shared AS MATERIALIZED (
    SELECT w.user_id, w.service_id, w.team_id, GROUPING(w.service_id) = 0 AS of_service, GROUPING(w.team_id) = 0 AS of_team
    FROM woken w
    GROUP BY GROUPING SETS ((w.user_id, w.night), (w.user_id, w.night, w.service_id), (w.user_id, w.night, w.team_id))
    HAVING bool_or(w.before) AND NOT bool_and(w.before)
  )
  SELECT coalesce(array_agg(ROW(g.dimension, g.dimension_key, 0, 0, 0, 0, 0, 0, g.nights, 0, 0, 0, 0)::lens.oncall_metrics), '{}')
  FROM (
    SELECT CASE WHEN GROUPING(s.user_id) = 0 THEN 'responder' ELSE 'total' END AS dimension, s.user_id::text AS dimension_key,
           count(*)::integer AS nights
    FROM shared s WHERE NOT s.of_service AND NOT s.of_team
    GROUP BY GROUPING SETS ((), (s.user_id))
    UNION ALL
    SELECT 'service', s.service_id::text, count(*)::integer FROM shared s WHERE s.of_service GROUP BY s.service_id
    UNION ALL
    SELECT 'team', s.team_id::text, count(*)::integer FROM shared s WHERE s.of_team GROUP BY s.team_id
  ) g
  WHERE g.nights > 0;
END;

-- ---------------------------------------------------------------------------
-- Cached pieces (lens.oncall_rollup), under the rules of lens.period_rollup:
-- every whole day, ISO week and month of the report's zone (granularity day,
-- week, month), and for each local midnight t the nights shared by its two
-- sides (granularity midnight, period [t - 24 h, t + 24 h): only changes there
-- can move them).

-- The whole local days [from_midnight, to_midnight) as pieces: each ISO week
-- among them whose cached row holds now (with its figures), and the days of
-- the others (figures NULL: looked up or computed by the caller).
CREATE FUNCTION lens.oncall_day_pieces(from_midnight timestamptz, to_midnight timestamptz, as_of timestamptz,
                                       tz text)
RETURNS TABLE (granularity text, period_start timestamptz, period_end timestamptz, figures lens.oncall_metrics[])
LANGUAGE sql STABLE
BEGIN ATOMIC
  WITH day AS (
    SELECT d.period_start, d.period_end, w.period_start AS week_start, w.period_end AS week_end
    FROM lens.periods('day', from_midnight, to_midnight, tz) d
    CROSS JOIN LATERAL lens.period_bounds('week', (d.period_start AT TIME ZONE tz)::date, tz) w
  ),
  week AS MATERIALIZED (
    SELECT w.week_start, w.week_end,
      (SELECT r.figures FROM lens.oncall_rollup r
       WHERE r.granularity = 'week' AND r.tz = oncall_day_pieces.tz AND r.period_start = w.week_start
         AND r.period_end = w.week_end AND r.stable_from <= as_of
         AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot)) AS figures
    FROM (SELECT DISTINCT day.week_start, day.week_end FROM day
          WHERE day.week_start >= from_midnight AND day.week_end <= to_midnight) w
  )
  SELECT 'week', w.week_start, w.week_end, w.figures FROM week w WHERE w.figures IS NOT NULL
  UNION ALL
  SELECT 'day', d.period_start, d.period_end, NULL FROM day d
  WHERE NOT EXISTS (SELECT 1 FROM week w WHERE w.figures IS NOT NULL AND w.week_start = d.week_start);
END;
REVOKE EXECUTE ON FUNCTION lens.oncall_day_pieces(timestamptz, timestamptz, timestamptz, text) FROM PUBLIC;

-- The figures of [range_start, range_end) of every account, composed of cached
-- pieces and computed edges. A whole period of `granularity` is its cached
-- row when current. Otherwise the whole local months in the range (a month not
-- cached: its weeks and days), the whole ISO weeks and local days beside them
-- and the partial days at either end: counts add
-- up, and since no night outlasts a day, a night counted by two adjacent
-- pieces is one shared by their common midnight, subtracted once. A piece or
-- midnight not cached (not yet settled, or stale) is computed as of as_of. It
-- only reads; lens.cache_oncall_period_figures (run by the collector) fills
-- the cache.
CREATE FUNCTION lens.oncall_figures(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                    granularity text DEFAULT NULL)
RETURNS lens.oncall_metrics[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  cached lens.oncall_metrics[];
  first_midnight timestamptz;
  last_midnight timestamptz;
  months_start timestamptz;
  months_end timestamptz;
BEGIN
  IF granularity IS NOT NULL THEN
    SELECT r.figures INTO cached FROM lens.oncall_rollup r
    WHERE r.granularity = granularity AND r.tz = tz AND r.period_start = range_start
      AND r.period_end = range_end AND r.stable_from <= as_of
      AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot);
    IF FOUND THEN
      RETURN cached;
    END IF;
  END IF;
  -- Nothing cached in the range (a first report, a new zone): one computation
  -- of it all costs a third of computing each day and midnight apart.
  IF NOT EXISTS (SELECT 1 FROM lens.oncall_rollup r
                 WHERE r.granularity IN ('day', 'week', 'month') AND r.tz = tz AND r.period_start >= range_start
                   AND r.period_start < range_end AND r.period_end <= range_end AND r.stable_from <= as_of
                   AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot)) THEN
    RETURN (SELECT c.figures FROM lens.compute_oncall(range_start, range_end, as_of, tz) c);
  END IF;
  -- The whole days are [first_midnight, last_midnight), the whole months [months_start, months_end).
  SELECT CASE WHEN d.period_start = range_start THEN d.period_start ELSE d.period_end END INTO first_midnight
  FROM lens.period_bounds('day', (range_start AT TIME ZONE tz)::date, tz) d;
  SELECT d.period_start INTO last_midnight FROM lens.period_bounds('day', (range_end AT TIME ZONE tz)::date, tz) d;
  IF first_midnight >= last_midnight THEN
    RETURN (SELECT c.figures FROM lens.compute_oncall(range_start, range_end, as_of, tz) c);
  END IF;
  SELECT CASE WHEN m.period_start = first_midnight THEN m.period_start ELSE m.period_end END INTO months_start
  FROM lens.period_bounds('month', (first_midnight AT TIME ZONE tz)::date, tz) m;
  SELECT m.period_start INTO months_end FROM lens.period_bounds('month', (last_midnight AT TIME ZONE tz)::date, tz) m;
  IF months_start >= months_end THEN
    months_start := last_midnight;
    months_end := last_midnight;
  END IF;
  RETURN (
    -- Scalar subqueries: one lookup by key per piece, whatever the planner guesses of the cache's size.
    WITH month AS MATERIALIZED (
      SELECT m.period_start, m.period_end,
             (SELECT r.figures FROM lens.oncall_rollup r
              WHERE r.granularity = 'month' AND r.tz = tz AND r.period_start = m.period_start
                AND r.period_end = m.period_end AND r.stable_from <= as_of
                AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot)) AS figures
      FROM lens.periods('month', months_start, months_end, tz) m
    ),
    -- A month not cached (stale since late data, or being cached) is its days.
    piece AS MATERIALIZED (
      SELECT NULL AS granularity, range_start AS period_start, first_midnight AS period_end,
             NULL::lens.oncall_metrics[] AS figures
      WHERE range_start < first_midnight
      UNION ALL
      SELECT x.* FROM lens.oncall_day_pieces(first_midnight, months_start, as_of, tz) x
      UNION ALL
      SELECT 'month', m.period_start, m.period_end, m.figures FROM month m WHERE m.figures IS NOT NULL
      UNION ALL
      SELECT x.*
      FROM month m CROSS JOIN LATERAL lens.oncall_day_pieces(m.period_start, m.period_end, as_of, tz) x
      WHERE m.figures IS NULL
      UNION ALL
      SELECT x.* FROM lens.oncall_day_pieces(months_end, last_midnight, as_of, tz) x
      UNION ALL
      SELECT NULL, last_midnight, range_end, NULL WHERE last_midnight < range_end
    ),
    counted AS (
      SELECT coalesce(p.figures,
                      (SELECT r.figures FROM lens.oncall_rollup r
                       WHERE r.granularity = 'day' AND p.granularity = 'day' AND r.tz = tz
                         AND r.period_start = p.period_start AND r.period_end = p.period_end AND r.stable_from <= as_of
                         AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot)),
                      (SELECT x.figures FROM lens.compute_oncall(p.period_start, p.period_end, as_of, tz) x)) AS figures
      FROM piece p
    ),
    -- Between two whole pieces a night shared by their midnight lies in both, so
    -- the cached day either side holds it; at a partial end, only the range does.
    shared AS (
      SELECT coalesce((SELECT r.figures FROM lens.oncall_rollup r
                       WHERE b.midnight > first_midnight AND b.midnight < last_midnight
                         AND r.granularity = 'midnight' AND r.tz = tz AND r.period_start = b.midnight - lens.seconds(86400)
                         AND r.period_end = b.midnight + lens.seconds(86400) AND r.stable_from <= as_of
                         AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot)),
                      lens.compute_oncall_shared_nights(b.midnight, greatest(range_start, b.midnight - lens.seconds(86400)),
                                                        least(range_end, b.midnight + lens.seconds(86400)), as_of, tz))
               AS figures
      FROM (SELECT p.period_start AS midnight FROM piece p WHERE p.period_start > range_start) b
    ),
    summed AS (
      SELECT f.dimension, f.dimension_key, sum(f.notifications)::integer AS notifications,
             sum(f.unknown_method)::integer AS unknown_method, sum(f.interruptions)::integer AS interruptions,
             sum(f.business)::integer AS business, sum(f.off)::integer AS off, sum(f.sleep)::integer AS sleep,
             sum(f.nights_interrupted)::integer AS nights_interrupted, sum(f.acknowledged)::integer AS acknowledged,
             sum(f.incidents)::integer AS incidents, sum(f.auto_resolved)::integer AS auto_resolved,
             sum(f.transient)::integer AS transient
      FROM (SELECT f.* FROM counted c CROSS JOIN LATERAL unnest(c.figures) f
            UNION ALL
            SELECT f.dimension, f.dimension_key, 0, 0, 0, 0, 0, 0, -f.nights_interrupted, 0, 0, 0, 0
            FROM shared s CROSS JOIN LATERAL unnest(s.figures) f) f
      GROUP BY f.dimension, f.dimension_key
    )
    SELECT array_agg(ROW(s.dimension, s.dimension_key, s.notifications, s.unknown_method, s.interruptions, s.business,
                         s.off, s.sleep, s.nights_interrupted, s.acknowledged, s.incidents, s.auto_resolved,
                         s.transient)::lens.oncall_metrics
                     ORDER BY array_position(ARRAY['total', 'responder', 'service', 'team', 'hour_of_week'], s.dimension),
                              s.dimension_key)
    FROM summed s);
END $$;

-- Caches one piece like lens.cache_period_figures. For the owner only.
CREATE FUNCTION lens.cache_oncall_period_figures(granularity text, period_start timestamptz, period_end timestamptz,
                                                 tz text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  computed record;
  composed boolean := false;
BEGIN
  IF EXISTS (SELECT 1 FROM lens.oncall_rollup r
             WHERE r.granularity = granularity AND r.tz = tz AND r.period_start = period_start
               AND r.period_end = period_end
               AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot)) THEN
    RETURN false;
  END IF;
  -- One statement each, so that the snapshot recorded is the one the figures were computed from.
  IF granularity = 'midnight' THEN
    SELECT period_end AS stable_from,
           lens.compute_oncall_shared_nights(period_start + lens.seconds(lens.seconds_between(period_end, period_start) / 2),
                                             period_start, period_end, now(), tz) AS figures,
           pg_current_snapshot() AS snapshot, st.epoch INTO computed
    FROM lens.rollup_state st;
  ELSIF granularity IN ('week', 'month') THEN
    -- Of its cached days when all are (lens.refresh_closed_periods caches them first): lookups instead
    -- of a pass over the period's notifications, settled when its last day is.
    SELECT greatest(period_end, d.settled) AS stable_from,
           CASE WHEN d.cached = d.days THEN lens.oncall_figures(period_start, period_end, now(), tz) END AS figures,
           pg_current_snapshot() AS snapshot, st.epoch INTO computed
    FROM lens.rollup_state st
    CROSS JOIN LATERAL (
      SELECT max(r.stable_from) AS settled, count(*) AS cached,
             (SELECT count(*) FROM lens.periods('day', period_start, period_end, tz)) AS days
      FROM lens.oncall_rollup r
      WHERE r.granularity = 'day' AND r.tz = tz AND r.period_start >= period_start AND r.period_end <= period_end
        AND r.stable_from <= now() AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot)) d;
    composed := computed.figures IS NOT NULL;
  END IF;
  IF granularity <> 'midnight' AND NOT composed THEN
    SELECT c.stable_from, c.figures, pg_current_snapshot() AS snapshot, st.epoch INTO computed
    FROM lens.compute_oncall(period_start, period_end, now(), tz) c CROSS JOIN lens.rollup_state st;
  END IF;
  IF computed.stable_from > now() THEN
    RETURN false;
  END IF;
  INSERT INTO lens.oncall_rollup AS r (granularity, tz, period_start, period_end, stable_from, epoch,
                                       computed_snapshot, figures)
  VALUES (granularity, tz, period_start, period_end, computed.stable_from, computed.epoch,
          computed.snapshot, computed.figures)
  ON CONFLICT ON CONSTRAINT oncall_rollup_pkey DO UPDATE SET
    period_end = excluded.period_end, stable_from = excluded.stable_from, epoch = excluded.epoch,
    computed_snapshot = excluded.computed_snapshot, computed_at = excluded.computed_at,
    figures = excluded.figures;
  RETURN true;
EXCEPTION WHEN serialization_failure OR deadlock_detected THEN
  RETURN false;
END $$;

-- Caches every closed local day and midnight since the first incident that
-- lacks a current row, newest first (lens.refresh_closed_periods calls it), so
-- that any range finds its edges cached. The number of rows written.
CREATE FUNCTION lens.cache_oncall_days(tz text, as_of timestamptz)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  piece record;
  written integer := 0;
BEGIN
  FOR piece IN
    SELECT p.granularity, p.period_start, p.period_end
    FROM (SELECT min(f.created_at) AS first FROM lens.incident_fact f) history
    CROSS JOIN LATERAL lens.periods('day', history.first, as_of, tz) d
    CROSS JOIN LATERAL (VALUES ('day', d.period_start, d.period_end),
                               ('midnight', d.period_start - lens.seconds(86400), d.period_start + lens.seconds(86400)))
      AS p(granularity, period_start, period_end)
    WHERE p.period_end <= as_of
      AND NOT EXISTS (SELECT 1 FROM lens.oncall_rollup r
                      WHERE r.granularity = p.granularity AND r.tz = tz AND r.period_start = p.period_start
                        AND r.period_end = p.period_end
                        AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot))
    ORDER BY p.period_start DESC
  LOOP
    written := written + lens.cache_oncall_period_figures(piece.granularity, piece.period_start, piece.period_end, tz)::integer;
  END LOOP;
  RETURN written;
END $$;

-- ---------------------------------------------------------------------------
-- The API: on-call and noise figures of [range_start, range_end) per bucket
-- (granularity NULL: the range itself) and dimension; `dimensions`: only
-- those (a chart of years by week reads the total alone). The report reads one
-- period.

CREATE FUNCTION lens.oncall_metrics(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                    granularity text DEFAULT NULL, account text DEFAULT NULL,
                                    dimensions text[] DEFAULT NULL)
RETURNS TABLE (
  period_start timestamptz, period_end timestamptz, period_label text,
  dimension text, dimension_key text, external_id text, dimension_label text,
  -- Responders: the zone their bands were read in (the user's, else tz).
  time_zone text,
  notifications integer, unknown_method integer,
  interruptions integer, business integer, off integer, sleep integer, nights_interrupted integer,
  acknowledged integer, incidents integer, auto_resolved integer, transient integer,
  auto_resolved_share double precision, transient_share double precision
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT b.bucket_start, b.bucket_end, b.period_label, f.dimension, f.dimension_key,
    CASE f.dimension WHEN 'responder' THEN u.external_id WHEN 'service' THEN sv.external_id
                     WHEN 'team' THEN tm.external_id END,
    CASE f.dimension WHEN 'total' THEN 'All'
                     WHEN 'responder' THEN u.name
                     WHEN 'service' THEN coalesce(sv.name, '(no service)')
                     WHEN 'team' THEN coalesce(tm.name, '(no team)')
                     ELSE to_char(date '2024-01-01' + (f.dimension_key::integer / 24), 'Dy') || ' '
                          || lpad((f.dimension_key::integer % 24)::text, 2, '0') || ':00' END,
    CASE f.dimension WHEN 'responder' THEN coalesce(u.time_zone, tz) END,
    f.notifications, f.unknown_method, f.interruptions, f.business, f.off, f.sleep, f.nights_interrupted,
    f.acknowledged, f.incidents, f.auto_resolved, f.transient,
    f.auto_resolved::double precision / nullif(f.incidents, 0),
    f.transient::double precision / nullif(f.incidents, 0)
  FROM lens.buckets(granularity, range_start, range_end, tz) b
  CROSS JOIN LATERAL (
    -- The cache holds every account's figures: one account's are computed.
    SELECT CASE WHEN account IS NULL
                THEN lens.oncall_figures(b.bucket_start, b.bucket_end, as_of, tz, CASE WHEN b.whole THEN granularity END)
                ELSE (SELECT c.figures FROM lens.compute_oncall(b.bucket_start, b.bucket_end, as_of, tz, account) c) END
             AS figures
  ) piece
  -- The total comes first in every array of figures: a chart of totals (five
  -- years by week) need not expand the 370 rows of each week.
  CROSS JOIN LATERAL unnest(CASE WHEN dimensions = '{total}' THEN piece.figures[1:1] ELSE piece.figures END) f
  LEFT JOIN public.users u ON f.dimension = 'responder' AND u.id::text = f.dimension_key
  LEFT JOIN public.services sv ON f.dimension = 'service' AND sv.id::text = f.dimension_key
  LEFT JOIN public.teams tm ON f.dimension = 'team' AND tm.id::text = f.dimension_key
  WHERE (f.dimension <> 'responder' OR f.interruptions + f.acknowledged > 0)
    AND (dimensions IS NULL OR f.dimension = ANY (dimensions))
  ORDER BY b.bucket_start, array_position(ARRAY['total', 'responder', 'service', 'team', 'hour_of_week'], f.dimension),
    -- Responders by sleep, then total, descending, then name (README.md);
    -- services and teams by incidents; hours in order.
    CASE WHEN f.dimension = 'responder' THEN f.sleep END DESC,
    CASE WHEN f.dimension = 'responder' THEN f.interruptions END DESC,
    CASE WHEN f.dimension IN ('service', 'team') THEN f.incidents END DESC,
    CASE WHEN f.dimension = 'hour_of_week' THEN f.dimension_key::integer END,
    7, 5;
END;

-- Responders with at least metric_settings.sleep_interruption_alert sleep
-- interruptions in the 7 days (of 86400 s) before as_of: the alert rule.
CREATE FUNCTION lens.sleep_interruption_alerts(as_of timestamptz DEFAULT now())
RETURNS TABLE (responder text, user_external_id text, time_zone text, sleep integer, nights_interrupted integer,
               threshold integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT m.dimension_label, m.external_id, m.time_zone, m.sleep, m.nights_interrupted, st.sleep_interruption_alert
  FROM public.metric_settings st
  CROSS JOIN LATERAL lens.oncall_metrics(as_of - lens.seconds(7 * 86400), as_of + lens.seconds(1e-6), as_of,
                                         st.timezone, dimensions => '{responder}') m
  WHERE m.sleep >= st.sleep_interruption_alert
  ORDER BY m.sleep DESC, m.dimension_label;
END;

CREATE VIEW lens.oncall_settings AS
SELECT sleep_interruption_alert FROM public.metric_settings;

REVOKE EXECUTE ON FUNCTION lens.oncall_figures(timestamptz, timestamptz, timestamptz, text, text) FROM PUBLIC;
-- They read public.notifications as their caller: only the owner's functions call them.
REVOKE EXECUTE ON FUNCTION lens.compute_oncall(timestamptz, timestamptz, timestamptz, text, text),
  lens.oncall_notifications(timestamptz, timestamptz, timestamptz, text, text),
  lens.compute_oncall_shared_nights(timestamptz, timestamptz, timestamptz, timestamptz, text) FROM PUBLIC;

-- The `onCall` and `noise` parts of the report JSON (README.md) for one
-- period: responders by sleep, then total, descending, then name; services by
-- incidents descending, then name; the heatmap's cells with interruptions.
CREATE FUNCTION lens.oncall_report(granularity text, range_start timestamptz, range_end timestamptz,
                                   as_of timestamptz, tz text, account text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  WITH m AS MATERIALIZED (
    SELECT x.* FROM lens.oncall_metrics(range_start, range_end, as_of, tz, granularity, account) x
  )
  SELECT jsonb_build_object(
    'onCall', jsonb_build_object(
      'interruptions', (SELECT jsonb_build_object('total', t.interruptions, 'business', t.business, 'off', t.off, 'sleep', t.sleep)
                        FROM m t WHERE t.dimension = 'total'),
      'nightsInterrupted', (SELECT t.nights_interrupted FROM m t WHERE t.dimension = 'total'),
      'notifications', (SELECT t.notifications FROM m t WHERE t.dimension = 'total'),
      'unknownMethod', (SELECT t.unknown_method FROM m t WHERE t.dimension = 'total'),
      'responders', coalesce((SELECT jsonb_agg(jsonb_build_object(
          'user', r.external_id, 'name', r.dimension_label, 'timeZone', r.time_zone,
          'total', r.interruptions, 'business', r.business, 'off', r.off, 'sleep', r.sleep,
          'nightsInterrupted', r.nights_interrupted, 'acknowledged', r.acknowledged)
          ORDER BY r.sleep DESC, r.interruptions DESC, r.dimension_label, r.external_id)
        FROM m r WHERE r.dimension = 'responder'), '[]'),
      'byService', coalesce((SELECT jsonb_agg(jsonb_build_object(
          'service', s.dimension_label, 'total', s.interruptions, 'business', s.business, 'off', s.off, 'sleep', s.sleep,
          'nightsInterrupted', s.nights_interrupted)
          ORDER BY s.interruptions DESC, s.dimension_label)
        FROM m s WHERE s.dimension = 'service' AND s.interruptions > 0), '[]'),
      -- Hour of week in the report's zone: weekday 1 = Monday, hour 0-23.
      'heatmap', coalesce((SELECT jsonb_agg(jsonb_build_object(
          'weekday', h.dimension_key::integer / 24 + 1, 'hour', h.dimension_key::integer % 24,
          'interruptions', h.interruptions) ORDER BY h.dimension_key::integer)
        FROM m h WHERE h.dimension = 'hour_of_week'), '[]')),
    'noise', (SELECT jsonb_build_object(
        'autoResolved', t.auto_resolved, 'transient', t.transient,
        'autoResolvedShare', t.auto_resolved_share, 'transientShare', t.transient_share,
        'byService', coalesce((SELECT jsonb_agg(jsonb_build_object(
            'service', s.dimension_label, 'incidents', s.incidents, 'autoResolved', s.auto_resolved, 'transient', s.transient)
            ORDER BY s.incidents DESC, s.dimension_label)
          FROM m s WHERE s.dimension = 'service' AND s.incidents > 0), '[]'))
      FROM m t WHERE t.dimension = 'total'));
END;

-- Each incident of a range with its noise flags (the CSV report's columns).
CREATE FUNCTION lens.incident_noise(range_start timestamptz, range_end timestamptz, as_of timestamptz)
RETURNS TABLE (incident_id bigint, external_id text, auto_resolved boolean, transient boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT i.id, i.external_id, v.auto_resolved, v.transient
  FROM public.incidents i
  CROSS JOIN LATERAL lens.noise_state(i.created_at, i.acknowledged_at, i.resolved_at, i.resolved_by, as_of) v
  WHERE i.created_at >= range_start AND i.created_at < range_end AND i.created_at <= as_of AND i.removed_at IS NULL;
END;
