-- Filling the caches of ended periods. Readers never write (their
-- functions only read the caches and compute what is missing), so the
-- collector calls this after each sync and when serve starts, as the owner:
-- every local day, ISO week, month and year since the first incident, in the
-- zone of the reports, newest first (a range is summed from the years,
-- months, weeks and days it contains; the dashboards chart years by week and
-- by month). A period whose cached row holds now costs one lookup; a row
-- whose interval of validity has passed (a deadline came) is computed again.
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
    WITH history AS (SELECT min(f.created_at) AS first FROM lens.incident_fact f)
    SELECT span.granularity, p.period_start, p.period_end
    FROM (VALUES ('day'), ('week'), ('month')) AS span(granularity)
    CROSS JOIN history
    CROSS JOIN LATERAL lens.periods(span.granularity, history.first, as_of, tz) p
    WHERE p.period_end <= as_of
    UNION ALL
    -- Local calendar years, for ranges of years only (no report is by year).
    SELECT 'year', y.local_start AT TIME ZONE tz, (y.local_start + interval '1 year') AT TIME ZONE tz
    FROM history
    CROSS JOIN LATERAL generate_series(date_trunc('year', history.first AT TIME ZONE tz), as_of AT TIME ZONE tz,
                                       interval '1 year') AS y(local_start)
    WHERE (y.local_start + interval '1 year') AT TIME ZONE tz <= as_of
    ORDER BY 2 DESC
  LOOP
    -- The on-call days are lens.cache_oncall_days' above; checking them again here costs a lookup each.
    written := written + lens.cache_period_figures(period.granularity, period.period_start, period.period_end, tz)::integer
                       + CASE WHEN period.granularity IN ('day', 'year') THEN 0
                              ELSE lens.cache_oncall_period_figures(period.granularity, period.period_start,
                                                                    period.period_end, tz)::integer END;
  END LOOP;
  RETURN written;
END $$;
