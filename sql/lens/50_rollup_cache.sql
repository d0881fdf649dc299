-- Cached figures of whole periods (lens.period_rollup). A row is used only
-- when (1) as_of lies in [stable_from, valid_until), where the figures do not
-- change with as_of, (2) its snapshot saw every change recorded in
-- lens.fact_changes that overlaps the period, and (3) it was written under
-- the current epoch. Late data therefore shows at once: the stale row is
-- ignored and the period computed again. Any other range is summed from the
-- cached years, months, weeks and days it contains (lens.range_figures).

-- Records the instants a change touched, as hour ranges, for the validity
-- check of cached periods; now and then compacts the change log.
CREATE FUNCTION lens.record_fact_change(touched timestamptz[]) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  change_id bigint;
BEGIN
  INSERT INTO lens.fact_changes (affected)
  SELECT range_agg(tstzrange(hour, hour + interval '1 hour'))
  FROM (SELECT DISTINCT date_trunc('hour', t.at, 'UTC') AS hour FROM unnest(touched) AS t(at) WHERE t.at IS NOT NULL) hours
  HAVING count(*) > 0
  RETURNING id INTO change_id;
  IF change_id % 1000 = 0 THEN
    PERFORM lens.compact_rollups();
  END IF;
END $$;

-- The whole time line changed (policy, settings, truncation).
CREATE FUNCTION lens.record_change_everywhere() RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  INSERT INTO lens.fact_changes (affected) VALUES ('{(,)}');
END;

-- A new policy or repeat window changes every period. Row-level with WHEN,
-- so that writing the same policy again (at every start) changes nothing.
CREATE FUNCTION lens.on_policy_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM lens.record_change_everywhere();
  RETURN NULL;
END $$;

CREATE TRIGGER rollup_invalidate_insert_delete AFTER INSERT OR DELETE ON public.sla_policy
  FOR EACH ROW EXECUTE FUNCTION lens.on_policy_changed();
CREATE TRIGGER rollup_invalidate_update AFTER UPDATE ON public.sla_policy
  FOR EACH ROW WHEN ((OLD.ack_target_seconds, OLD.resolve_target_seconds, OLD.postmortem_due_seconds, OLD.severity)
                     IS DISTINCT FROM (NEW.ack_target_seconds, NEW.resolve_target_seconds, NEW.postmortem_due_seconds, NEW.severity))
  EXECUTE FUNCTION lens.on_policy_changed();
CREATE TRIGGER rollup_invalidate_truncate AFTER TRUNCATE ON public.sla_policy
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_policy_changed();
CREATE TRIGGER rollup_invalidate_update AFTER UPDATE ON public.metric_settings
  FOR EACH ROW WHEN (OLD.repeat_window_days IS DISTINCT FROM NEW.repeat_window_days)
  EXECUTE FUNCTION lens.on_policy_changed();
CREATE TRIGGER rollup_invalidate_insert_delete AFTER INSERT OR DELETE ON public.metric_settings
  FOR EACH ROW EXECUTE FUNCTION lens.on_policy_changed();

-- Whether a cached period (of lens.period_rollup or lens.oncall_rollup) still
-- holds: written under the current epoch, and its snapshot saw every change
-- that overlaps the period.
CREATE FUNCTION lens.cache_is_current(period_start timestamptz, period_end timestamptz, epoch bigint,
                                      computed_snapshot pg_snapshot) RETURNS boolean
LANGUAGE sql STABLE
BEGIN ATOMIC
  -- A change the snapshot did not see began at or after its xmax or was in
  -- progress then: two index lookups, not a visibility test of every change.
  -- Apart, each is a range scan of the transaction id index; joined by OR,
  -- the planner read every change of the log (up to 1,000) for every row.
  -- OFFSET 0: found by transaction id first; few are that recent.
  SELECT epoch = (SELECT st.epoch FROM lens.rollup_state st)
     AND NOT EXISTS (
       SELECT 1 FROM (SELECT c.affected FROM lens.fact_changes c
                      WHERE c.xid >= pg_snapshot_xmax(computed_snapshot) OFFSET 0) unseen
       WHERE unseen.affected && tstzrange(period_start, period_end))
     AND NOT EXISTS (
       SELECT 1 FROM (SELECT c.affected FROM lens.fact_changes c
                      WHERE c.xid = ANY (ARRAY(SELECT pg_snapshot_xip(computed_snapshot))) OFFSET 0) in_progress
       WHERE in_progress.affected && tstzrange(period_start, period_end));
END;

-- The cached rows of `granularity` for the periods that lie within
-- [range_start, range_end) and hold for as_of. It only reads, so readers and
-- hot standbys can use the cache; lens.cache_period_figures (run by the
-- collector) fills it.
CREATE FUNCTION lens.cached_periods(granularity text, range_start timestamptz, range_end timestamptz,
                                    as_of timestamptz, tz text)
RETURNS SETOF lens.period_rollup
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT r.* FROM lens.period_rollup r
  WHERE r.granularity = cached_periods.granularity AND r.tz = cached_periods.tz
    AND r.period_start >= cached_periods.range_start AND r.period_end <= cached_periods.range_end
    -- Implied by the line above; it bounds the index scan.
    AND r.period_start < cached_periods.range_end
    AND r.stable_from <= cached_periods.as_of AND cached_periods.as_of < r.valid_until
    AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot);
END;
REVOKE EXECUTE ON FUNCTION lens.cached_periods(text, timestamptz, timestamptz, timestamptz, text) FROM PUBLIC;

-- How many durations of each kind of the range fall in each bin: what a
-- cached period keeps to place a percentile's rank.
CREATE FUNCTION lens.duration_histograms(range_start timestamptz, range_end timestamptz, as_of timestamptz)
RETURNS lens.duration_histogram[]
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT coalesce(array_agg(ROW(h.metric, h.bins, h.counts)::lens.duration_histogram ORDER BY h.metric), '{}')
  FROM (
    SELECT b.metric, array_agg(b.bin ORDER BY b.bin) AS bins, array_agg(b.n ORDER BY b.bin) AS counts
    FROM (
      SELECT d.metric, d.bin, count(*)::integer AS n
      FROM lens.masked_durations(range_start, range_end, as_of) m
      CROSS JOIN LATERAL (VALUES ('tta', m.tta_bin), ('ttr', m.ttr_bin), ('ttd', m.ttd_bin)) d(metric, bin)
      WHERE d.bin IS NOT NULL
      GROUP BY d.metric, d.bin
    ) b
    GROUP BY b.metric
  ) h;
END;

-- The durations of one kind in one bin of a range, as lens.incident_outcomes
-- gives them: an index-only scan of that bin.
CREATE FUNCTION lens.durations_in_bin(metric text, bin smallint, range_start timestamptz, range_end timestamptz,
                                      as_of timestamptz)
RETURNS SETOF double precision
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT lens.seconds_between(f.acknowledged_at, f.created_at) FROM lens.incident_fact f
  WHERE durations_in_bin.metric = 'tta' AND f.tta_bin = durations_in_bin.bin AND NOT f.merged
    AND f.created_at >= range_start AND f.created_at < range_end AND f.created_at <= as_of
    AND f.acknowledged_at <= as_of
  UNION ALL
  SELECT lens.seconds_between(f.resolved_at, f.created_at) FROM lens.incident_fact f
  WHERE durations_in_bin.metric = 'ttr' AND f.ttr_bin = durations_in_bin.bin AND NOT f.merged
    AND f.created_at >= range_start AND f.created_at < range_end AND f.created_at <= as_of
    AND f.resolved_at <= as_of
  UNION ALL
  SELECT lens.seconds_between(f.created_at, f.detected_at) FROM lens.incident_fact f
  WHERE durations_in_bin.metric = 'ttd' AND f.ttd_bin = durations_in_bin.bin AND NOT f.merged
    AND f.created_at >= range_start AND f.created_at < range_end AND f.created_at <= as_of;
END;

-- The cached rows of `granularity` within `ranges` that hold for as_of: an
-- index scan per range (OFFSET 0), not a join over every cached period.
CREATE FUNCTION lens.cached_within(granularity text, ranges tstzmultirange, as_of timestamptz, tz text)
RETURNS SETOF lens.period_rollup
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT c.*
  FROM unnest(ranges) AS part(r)
  CROSS JOIN LATERAL (SELECT x.* FROM lens.cached_periods(granularity, lower(part.r), upper(part.r), as_of, tz) x
                      OFFSET 0) c;
END;
REVOKE EXECUTE ON FUNCTION lens.cached_within(text, tstzmultirange, timestamptz, text) FROM PUBLIC;

-- What of `ranges` the pieces leave.
CREATE FUNCTION lens.uncovered(ranges tstzmultirange, pieces tstzrange[]) RETURNS tstzmultirange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ranges - coalesce((SELECT range_agg(p.r) FROM unnest(pieces) AS p(r)), '{}');

-- The figures of any range: the cached years, months, weeks and days it
-- contains, the rest computed now, added up. Counts and exact sums add; percentiles do
-- not. Those of the total are placed by the pieces' bin counts
-- (sql/019_duration_bins.sql): added up, they give the bin that holds each
-- rank percentile_cont interpolates between and how many durations lie
-- below it, so only those bins are read and sorted. Those of a severity,
-- service or team are sorted from the range's incidents. Without
-- `percentiles` both are skipped and they are NULL. With nothing cached in
-- the range, it is simply computed.
CREATE FUNCTION lens.range_figures(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                   dimensions text[], percentiles boolean DEFAULT true)
RETURNS lens.incident_metrics[]
LANGUAGE sql STABLE
-- Any SET keeps PostgreSQL from reading this long body, at every plan of a
-- caller such as lens.metrics, to find it cannot be inlined: about 1.5 ms a
-- call without one. The bins it sorts stay in memory.
SET work_mem = '64MB'
BEGIN ATOMIC
  WITH span AS (
    -- Nothing created after as_of counts: the range up to it.
    SELECT tstzrange(range_start, greatest(range_start, least(range_end, as_of + interval '1 microsecond'))) AS r
  ),
  -- The cached years first (the collector caches ended ones), then the
  -- months, weeks and days in what is left: five years are about twenty
  -- pieces. Each `rest_` is what the larger pieces leave.
  years AS MATERIALIZED (
    SELECT c.* FROM span CROSS JOIN LATERAL lens.cached_within('year', tstzmultirange(span.r), as_of, tz) c
  ),
  rest_years AS MATERIALIZED (
    SELECT lens.uncovered(tstzmultirange(span.r),
                          ARRAY(SELECT tstzrange(c.period_start, c.period_end) FROM years c)) AS r
    FROM span
  ),
  months AS MATERIALIZED (
    SELECT c.* FROM rest_years u CROSS JOIN LATERAL lens.cached_within('month', u.r, as_of, tz) c
  ),
  rest_months AS MATERIALIZED (
    SELECT lens.uncovered(u.r, ARRAY(SELECT tstzrange(c.period_start, c.period_end) FROM months c)) AS r
    FROM rest_years u
  ),
  weeks AS MATERIALIZED (
    SELECT c.* FROM rest_months u CROSS JOIN LATERAL lens.cached_within('week', u.r, as_of, tz) c
  ),
  rest_weeks AS MATERIALIZED (
    SELECT lens.uncovered(u.r, ARRAY(SELECT tstzrange(c.period_start, c.period_end) FROM weeks c)) AS r
    FROM rest_months u
  ),
  days AS MATERIALIZED (
    SELECT c.* FROM rest_weeks u CROSS JOIN LATERAL lens.cached_within('day', u.r, as_of, tz) c
  ),
  cached AS (SELECT y.* FROM years y UNION ALL SELECT m.* FROM months m UNION ALL SELECT w.* FROM weeks w
             UNION ALL SELECT d.* FROM days d),
  -- What no cached period covers: at most a partial day at either end.
  live AS MATERIALIZED (
    SELECT gap.r
    FROM rest_weeks u
    CROSS JOIN LATERAL unnest(lens.uncovered(u.r, ARRAY(SELECT tstzrange(c.period_start, c.period_end) FROM days c)))
      AS gap(r)
  ),
  pieces AS (
    SELECT c.figures, c.sums FROM cached c
    UNION ALL
    SELECT computed.figures, computed.sums
    -- Their percentiles are not used: those of the range are placed or sorted below.
    FROM live
    CROSS JOIN LATERAL lens.compute_figures(lower(live.r), upper(live.r), as_of, tz, dimensions,
                                            percentiles => false) computed
    -- The total and every severity exist, with zeros, in every cached piece.
  ),
  counted AS (
    SELECT f.dimension, f.dimension_key, sum(f.incidents)::integer AS incidents, sum(f.merged)::integer AS merged,
      sum(f.open)::integer AS open, sum(f.unclassified)::integer AS unclassified, sum(f.sev1)::integer AS sev1,
      sum(f.sev2)::integer AS sev2, sum(f.sev3)::integer AS sev3, sum(f.sev4)::integer AS sev4,
      sum(f.unknown)::integer AS unknown, sum(f.mtta_count)::integer AS mtta_count,
      sum(f.mttr_count)::integer AS mttr_count, sum(f.ack_met)::integer AS ack_met,
      sum(f.ack_breached)::integer AS ack_breached, sum(f.ack_pending)::integer AS ack_pending,
      sum(f.resolve_met)::integer AS resolve_met, sum(f.resolve_breached)::integer AS resolve_breached,
      sum(f.resolve_pending)::integer AS resolve_pending, sum(f.postmortems_required)::integer AS pm_required,
      sum(f.postmortems_completed)::integer AS pm_completed,
      sum(f.postmortems_completed_on_time)::integer AS pm_on_time,
      sum(f.postmortems_overdue)::integer AS pm_overdue, sum(f.escalated)::integer AS escalated,
      sum(f.business_hours)::integer AS business_hours, sum(f.off_hours)::integer AS off_hours,
      sum(f.mttd_count)::integer AS mttd_count, sum(f.root_cause_incidents)::integer AS root_cause_incidents,
      sum(f.repeat_incidents)::integer AS repeat_incidents
    FROM pieces p CROSS JOIN LATERAL unnest(p.figures) f
    WHERE f.dimension = ANY (dimensions)
    GROUP BY f.dimension, f.dimension_key
  ),
  summed AS (
    SELECT s.dimension, s.dimension_key, sum(s.tta_seconds) AS tta, sum(s.ttr_seconds) AS ttr,
           sum(s.ttd_seconds) AS ttd
    FROM pieces p CROSS JOIN LATERAL unnest(p.sums) s
    GROUP BY s.dimension, s.dimension_key
  ),
  -- Whether the total's percentiles come from bin counts: every cached piece has them.
  by_bins AS (
    SELECT percentiles AND 'total' = ANY (dimensions) AND NOT EXISTS (SELECT 1 FROM cached c WHERE c.histograms IS NULL)
      AS chosen
  ),
  binned AS (
    SELECT h.metric, b.bin, sum(b.n) AS n
    FROM (SELECT c.histograms FROM cached c
          UNION ALL
          SELECT lens.duration_histograms(lower(live.r), upper(live.r), as_of) FROM live) p
    CROSS JOIN LATERAL unnest(p.histograms) h
    CROSS JOIN LATERAL unnest(h.bins, h.counts) b(bin, n)
    WHERE (SELECT chosen FROM by_bins)
    GROUP BY h.metric, b.bin
  ),
  -- Each bin's first rank (0-based) among the range's durations of its kind.
  placed AS (
    SELECT b.metric, b.bin, b.n, (sum(b.n) OVER (PARTITION BY b.metric ORDER BY b.bin) - b.n)::bigint AS below,
           (sum(b.n) OVER (PARTITION BY b.metric))::bigint AS total
    FROM binned b
  ),
  -- The two ranks each percentile interpolates between, with the offset of
  -- each in its bin, computed in double precision as percentile_cont does.
  ranks AS (
    SELECT q.metric, q.i, q.position, k.which, p.bin, (k.rank - p.below)::integer AS offset_in_bin
    FROM (SELECT t.metric, w.i, w.fraction * (t.total - 1) AS position
          FROM (SELECT DISTINCT placed.metric, placed.total FROM placed) t
          CROSS JOIN unnest(ARRAY[0.5, 0.9, 0.95]::double precision[]) WITH ORDINALITY w(fraction, i)) q
    CROSS JOIN LATERAL (VALUES ('low', floor(q.position)::bigint), ('high', ceil(q.position)::bigint)) k(which, rank)
    JOIN placed p ON p.metric = q.metric AND k.rank >= p.below AND k.rank < p.below + p.n
  ),
  -- MATERIALIZED: each bin is read once, though two ranks may take from it.
  sorted AS MATERIALIZED (
    SELECT w.metric, w.bin,
      (SELECT array_agg(d.seconds ORDER BY d.seconds)
       FROM lens.durations_in_bin(w.metric, w.bin, lower(span.r), upper(span.r), as_of) d(seconds)) AS durations
    FROM (SELECT DISTINCT ranks.metric, ranks.bin FROM ranks) w CROSS JOIN span
  ),
  interpolated AS (
    SELECT v.metric, array_agg(v.low + (v.position - floor(v.position)) * (v.high - v.low) ORDER BY v.i) AS p
    FROM (SELECT r.metric, r.i, r.position,
                 max(s.durations[r.offset_in_bin + 1]) FILTER (WHERE r.which = 'low') AS low,
                 max(s.durations[r.offset_in_bin + 1]) FILTER (WHERE r.which = 'high') AS high
          FROM ranks r JOIN sorted s ON s.metric = r.metric AND s.bin = r.bin
          GROUP BY r.metric, r.i, r.position) v
    GROUP BY v.metric
  ),
  -- The percentiles of the total placed by bins, the others sorted.
  ranked AS (
    SELECT 'total' AS dimension, NULL AS dimension_key,
      (SELECT i.p FROM interpolated i WHERE i.metric = 'tta') AS mtta_p,
      (SELECT i.p FROM interpolated i WHERE i.metric = 'ttr') AS mttr_p,
      (SELECT i.p FROM interpolated i WHERE i.metric = 'ttd') AS mttd_p
    FROM by_bins WHERE by_bins.chosen
    UNION ALL
    SELECT s.dimension, s.dimension_key, s.mtta_p, s.mttr_p, s.mttd_p
    FROM lens.duration_figures(range_start, range_end, as_of,
                               ARRAY(SELECT w.d FROM unnest(dimensions) w(d)
                                     WHERE w.d <> 'total' OR NOT (SELECT b.chosen FROM by_bins b)),
                               sums => false) s
    -- Not called at all when there is nothing to sort.
    WHERE percentiles AND (dimensions && ARRAY['severity', 'service', 'team'] OR NOT (SELECT b.chosen FROM by_bins b))
  ),
  composed AS (
    SELECT coalesce(array_agg(lens.with_rates(ROW(
        range_start, range_end, NULL, c.dimension, c.dimension_key, NULL, c.incidents, NULL,
        c.merged, c.open, c.unclassified, c.sev1, c.sev2, c.sev3, c.sev4, c.unknown,
        c.mtta_count, NULL, (s.tta / c.mtta_count)::double precision, r.mtta_p[1], r.mtta_p[2], r.mtta_p[3],
        c.mttr_count, (s.ttr / c.mttr_count)::double precision, r.mttr_p[1], r.mttr_p[2], r.mttr_p[3],
        c.ack_met, c.ack_breached, c.ack_pending, NULL, c.resolve_met, c.resolve_breached, c.resolve_pending, NULL,
        c.pm_required, c.pm_completed, c.pm_on_time, c.pm_overdue, c.escalated, NULL, c.business_hours, c.off_hours,
        c.mttd_count, (s.ttd / c.mttd_count)::double precision, r.mttd_p[1], r.mttd_p[2], r.mttd_p[3],
        c.root_cause_incidents, c.repeat_incidents, NULL
      )::lens.incident_metrics, c.dimension_incidents)
      ORDER BY array_position(ARRAY['total', 'severity', 'service', 'team'], c.dimension), c.dimension_key), '{}')
      AS figures
    FROM (SELECT counted.*, sum(counted.incidents) OVER (PARTITION BY counted.dimension) AS dimension_incidents
          FROM counted) c
    LEFT JOIN summed s ON s.dimension = c.dimension AND s.dimension_key IS NOT DISTINCT FROM c.dimension_key
    LEFT JOIN ranked r ON r.dimension = c.dimension AND r.dimension_key IS NOT DISTINCT FROM c.dimension_key
  )
  SELECT CASE WHEN EXISTS (SELECT 1 FROM cached) THEN (SELECT c.figures FROM composed c)
              ELSE (SELECT c.figures FROM lens.compute_figures(range_start, range_end, as_of, tz, dimensions,
                                                               percentiles => percentiles) c) END;
END;
REVOKE EXECUTE ON FUNCTION lens.range_figures(timestamptz, timestamptz, timestamptz, text, text[], boolean) FROM PUBLIC;

-- Caches the figures of one whole, ended period unless a row holds them now.
-- True when it wrote a row. For the owner only: readers must not grow the cache.
CREATE FUNCTION lens.cache_period_figures(granularity text, period_start timestamptz, period_end timestamptz, tz text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  computed record;
BEGIN
  IF period_end > now() OR EXISTS (SELECT 1 FROM lens.cached_periods(granularity, period_start, period_end, now(), tz)) THEN
    RETURN false;
  END IF;
  -- One statement, so that the snapshot recorded is the one the figures were computed from.
  SELECT c.stable_from, c.valid_until, c.figures, c.sums,
         lens.duration_histograms(period_start, period_end, now()) AS histograms,
         pg_current_snapshot() AS snapshot, st.epoch INTO computed
  FROM lens.compute_figures(period_start, period_end, now(), tz) c CROSS JOIN lens.rollup_state st;
  INSERT INTO lens.period_rollup AS r (granularity, tz, period_start, period_end, stable_from, valid_until, epoch,
                                       computed_snapshot, figures, sums, histograms)
  VALUES (granularity, tz, period_start, period_end, computed.stable_from, computed.valid_until, computed.epoch,
          computed.snapshot, computed.figures, computed.sums, computed.histograms)
  ON CONFLICT ON CONSTRAINT period_rollup_pkey DO UPDATE SET
    period_end = excluded.period_end, stable_from = excluded.stable_from, valid_until = excluded.valid_until,
    epoch = excluded.epoch, computed_snapshot = excluded.computed_snapshot, computed_at = excluded.computed_at,
    figures = excluded.figures, sums = excluded.sums, histograms = excluded.histograms;
  RETURN true;
EXCEPTION WHEN serialization_failure OR deadlock_detected THEN
  -- Another session cached the same period meanwhile.
  RETURN false;
END $$;

-- Whether a snapshot saw every one of the given changes that overlaps the period.
CREATE FUNCTION lens.saw_changes(period_start timestamptz, period_end timestamptz, computed_snapshot pg_snapshot,
                                 change_ids bigint[]) RETURNS boolean
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT NOT EXISTS (
    SELECT 1 FROM lens.fact_changes c
    WHERE c.id = ANY (change_ids) AND c.affected && tstzrange(period_start, period_end)
      AND NOT pg_visible_in_snapshot(c.xid, computed_snapshot));
END;

-- Drops stale cache rows and the change records every remaining row has
-- seen, so the change log stays short. Runs by itself every 1000 changes.
CREATE FUNCTION lens.compact_rollups() RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  seen_ids bigint[];
  next_epoch bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('lens.compact_rollups'));
  SELECT array_agg(c.id) INTO seen_ids FROM lens.fact_changes c;
  UPDATE lens.rollup_state SET epoch = epoch + 1 RETURNING epoch INTO next_epoch;
  -- One statement per cache: a row cached after its snapshot keeps the old epoch and is not used.
  UPDATE lens.period_rollup r SET epoch = next_epoch
  WHERE r.epoch = next_epoch - 1 AND lens.saw_changes(r.period_start, r.period_end, r.computed_snapshot, seen_ids);
  UPDATE lens.oncall_rollup r SET epoch = next_epoch
  WHERE r.epoch = next_epoch - 1 AND lens.saw_changes(r.period_start, r.period_end, r.computed_snapshot, seen_ids);
  DELETE FROM lens.period_rollup r WHERE r.epoch <> next_epoch;
  DELETE FROM lens.oncall_rollup r WHERE r.epoch <> next_epoch;
  DELETE FROM lens.fact_changes c WHERE c.id = ANY (seen_ids);
END $$;
