-- Cached figures of whole periods (lens.period_rollup). A row is used only
-- when (1) as_of is at or after stable_from, so the figures no longer depend
-- on as_of, (2) its snapshot saw every change recorded in lens.fact_changes
-- that overlaps the period, and (3) it was written under the current epoch.
-- Late data therefore shows at once: the stale row is ignored and the period
-- computed again.

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
  SELECT epoch = (SELECT st.epoch FROM lens.rollup_state st)
     AND NOT EXISTS (
       SELECT 1 FROM lens.fact_changes c
       WHERE c.affected && tstzrange(period_start, period_end)
         AND NOT pg_visible_in_snapshot(c.xid, computed_snapshot));
END;

-- The figures of one whole period: from the cache when it holds them, else
-- computed now. It only reads, so readers and hot standbys can call it;
-- lens.cache_period_figures (run by the collector) fills the cache.
CREATE FUNCTION lens.period_figures(granularity text, period_start timestamptz, period_end timestamptz,
                                    as_of timestamptz, tz text, dimensions text[])
RETURNS lens.incident_metrics[]
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  cached lens.incident_metrics[];
BEGIN
  SELECT r.figures INTO cached FROM lens.period_rollup r
  WHERE r.granularity = granularity AND r.tz = tz AND r.period_start = period_start
    AND r.period_end = period_end AND r.stable_from <= as_of AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot);
  IF FOUND THEN
    RETURN ARRAY(SELECT f FROM unnest(cached) f WHERE f.dimension = ANY (dimensions));
  END IF;
  RETURN (SELECT c.figures FROM lens.compute_figures(period_start, period_end, as_of, tz, dimensions) c);
END $$;

-- Caches the figures of one whole period unless a current row holds them or
-- they can still change with time (a deadline not yet passed). True when it
-- wrote a row. For the owner only: readers must not grow the cache.
CREATE FUNCTION lens.cache_period_figures(granularity text, period_start timestamptz, period_end timestamptz, tz text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  computed record;
BEGIN
  IF EXISTS (SELECT 1 FROM lens.period_rollup r
             WHERE r.granularity = granularity AND r.tz = tz AND r.period_start = period_start
               AND r.period_end = period_end AND lens.cache_is_current(r.period_start, r.period_end, r.epoch, r.computed_snapshot)) THEN
    RETURN false;
  END IF;
  -- One statement, so that the snapshot recorded is the one the figures were computed from.
  SELECT c.stable_from, c.figures, pg_current_snapshot() AS snapshot, st.epoch INTO computed
  FROM lens.compute_figures(period_start, period_end, now(), tz) c CROSS JOIN lens.rollup_state st;
  IF computed.stable_from > now() THEN
    RETURN false;
  END IF;
  INSERT INTO lens.period_rollup AS r (granularity, tz, period_start, period_end, stable_from, epoch,
                                       computed_snapshot, figures)
  VALUES (granularity, tz, period_start, period_end, computed.stable_from, computed.epoch,
          computed.snapshot, computed.figures)
  ON CONFLICT ON CONSTRAINT period_rollup_pkey DO UPDATE SET
    period_end = excluded.period_end, stable_from = excluded.stable_from, epoch = excluded.epoch,
    computed_snapshot = excluded.computed_snapshot, computed_at = excluded.computed_at,
    figures = excluded.figures;
  RETURN true;
EXCEPTION WHEN serialization_failure OR deadlock_detected THEN
  -- Another session cached the same period meanwhile.
  RETURN false;
END $$;

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
  -- One statement: a row cached after its snapshot keeps the old epoch and is not used.
  UPDATE lens.period_rollup r SET epoch = next_epoch
  WHERE r.epoch = next_epoch - 1
    AND NOT EXISTS (
      SELECT 1 FROM lens.fact_changes c
      WHERE c.id = ANY (seen_ids) AND c.affected && tstzrange(r.period_start, r.period_end)
        AND NOT pg_visible_in_snapshot(c.xid, r.computed_snapshot));
  DELETE FROM lens.period_rollup r WHERE r.epoch <> next_epoch;
  DELETE FROM lens.fact_changes c WHERE c.id = ANY (seen_ids);
END $$;
