-- Filling the caches of closed periods. Readers never write (their
-- functions only read the caches and compute what is missing), so the
-- collector calls this after each sync and when serve starts, as the owner:
-- the last 35 days, and every ISO week and month since the first incident
-- (the dashboards chart years by week and by month), in the zone of the
-- reports, newest first. A period whose cached row is current costs one
-- lookup; one whose figures can still change with time waits for a later call.
CREATE FUNCTION lens.refresh_closed_periods(tz text, as_of timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  period record;
  written integer;
BEGIN
  -- On-call figures of any range, and of its weeks and months, are composed of
  -- cached days: every day of history, first.
  written := lens.cache_oncall_days(tz, as_of);
  FOR period IN
    SELECT 'day' AS granularity, p.period_start, p.period_end
    FROM lens.recent_periods('day', (as_of AT TIME ZONE tz)::date, tz, 36) p
    WHERE p.period_end <= as_of
    UNION ALL
    SELECT span.granularity, p.period_start, p.period_end
    FROM (VALUES ('week'), ('month')) AS span(granularity)
    CROSS JOIN (SELECT min(f.created_at) AS first FROM lens.incident_fact f) history
    CROSS JOIN LATERAL lens.periods(span.granularity, history.first, as_of, tz) p
    WHERE p.period_end <= as_of
    ORDER BY 2 DESC
  LOOP
    written := written + lens.cache_period_figures(period.granularity, period.period_start, period.period_end, tz)::integer
                       + lens.cache_oncall_period_figures(period.granularity, period.period_start, period.period_end, tz)::integer;
  END LOOP;
  RETURN written;
END $$;
