-- Filling the caches of closed periods. Readers never write (their
-- functions only read the caches and compute what is missing), so the
-- collector calls this after each sync and when serve starts, as the owner:
-- the last 35 days, 14 ISO weeks and 13 months before the running ones, in
-- the zone of the reports. A period whose cached row is current costs one
-- lookup; one whose figures can still change with time waits for a later call.
CREATE FUNCTION lens.refresh_closed_periods(tz text, as_of timestamptz DEFAULT now())
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  period record;
  written integer := 0;
BEGIN
  FOR period IN
    SELECT span.granularity, p.period_start, p.period_end
    FROM (VALUES ('day', 35), ('week', 14), ('month', 13)) AS span(granularity, count)
    CROSS JOIN LATERAL lens.recent_periods(span.granularity, (as_of AT TIME ZONE tz)::date, tz, span.count + 1) p
    WHERE p.period_end <= as_of
  LOOP
    written := written + lens.cache_period_figures(period.granularity, period.period_start, period.period_end, tz)::integer
                       + lens.cache_oncall_period_figures(period.granularity, period.period_start, period.period_end, tz)::integer;
  END LOOP;
  RETURN written;
END $$;
