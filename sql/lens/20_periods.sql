-- Periods (docs/metrics.md §2): local days from midnight, ISO weeks from Monday,
-- months from the 1st; computed on local wall-clock time, so a DST day is
-- 23 or 25 hours long. Ranges are half-open [range_start, range_end).

CREATE FUNCTION lens.local_period(granularity text, local_moment timestamp,
                                  OUT local_start timestamp, OUT local_end timestamp, OUT period_label text)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF granularity IS NULL OR granularity NOT IN ('day', 'week', 'month') THEN
    RAISE EXCEPTION 'granularity must be day, week or month: got %', coalesce(quote_literal(granularity), 'NULL')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  local_start := date_trunc(granularity, local_moment);
  local_end := local_start + CASE granularity WHEN 'day' THEN interval '1 day'
                                              WHEN 'week' THEN interval '7 days'
                                              ELSE interval '1 month' END;
  period_label := to_char(local_start, CASE granularity WHEN 'day' THEN 'YYYY-MM-DD'
                                                        WHEN 'week' THEN 'IYYY-"W"IW'
                                                        ELSE 'YYYY-MM' END);
END $$;

-- The period of `granularity` that contains the local day `day`.
CREATE FUNCTION lens.period_bounds(granularity text, day date, tz text)
RETURNS TABLE (period_start timestamptz, period_end timestamptz, period_label text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT p.local_start AT TIME ZONE tz, p.local_end AT TIME ZONE tz, p.period_label
  FROM lens.local_period(granularity, day::timestamp) p;
END;

-- A month is stepped by a month, not by the length of the first one.
CREATE FUNCTION lens.periods(granularity text, range_start timestamptz, range_end timestamptz, tz text)
RETURNS TABLE (period_start timestamptz, period_end timestamptz, period_label text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT p.local_start AT TIME ZONE tz, p.local_end AT TIME ZONE tz, p.period_label
  FROM lens.local_period(granularity, range_start AT TIME ZONE tz) first_period
  CROSS JOIN LATERAL generate_series(first_period.local_start, range_end AT TIME ZONE tz,
                                     CASE granularity WHEN 'month' THEN interval '1 month'
                                                      WHEN 'week' THEN interval '7 days'
                                                      ELSE interval '1 day' END) AS step(local_start)
  CROSS JOIN LATERAL lens.local_period(granularity, step.local_start) p
  WHERE p.local_start < range_end AT TIME ZONE tz AND range_start < range_end
  ORDER BY p.local_start;
END;

-- The `count` periods that end with the one containing `day`, oldest first.
CREATE FUNCTION lens.recent_periods(granularity text, day date, tz text, count integer)
RETURNS TABLE (period_start timestamptz, period_end timestamptz, period_label text)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT p.local_start AT TIME ZONE tz, p.local_end AT TIME ZONE tz, p.period_label
  FROM lens.local_period(granularity, day::timestamp) current_period
  CROSS JOIN LATERAL generate_series(count - 1, 0, -1) AS back(n)
  CROSS JOIN LATERAL lens.local_period(granularity,
    current_period.local_start - back.n * CASE granularity WHEN 'month' THEN interval '1 month'
                                                           WHEN 'week' THEN interval '7 days'
                                                           ELSE interval '1 day' END) p
  ORDER BY p.local_start;
END;

-- The buckets of a range: every period of `granularity` overlapping it,
-- clipped to the range (`whole` when not clipped); one bucket, the range
-- itself, when granularity is NULL.
CREATE FUNCTION lens.buckets(granularity text, range_start timestamptz, range_end timestamptz, tz text)
RETURNS TABLE (bucket_start timestamptz, bucket_end timestamptz, period_label text, whole boolean)
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
  IF granularity IS NULL THEN
    RETURN QUERY SELECT range_start, range_end, NULL::text, false WHERE range_start < range_end;
  ELSE
    RETURN QUERY
      SELECT greatest(p.period_start, range_start), least(p.period_end, range_end), p.period_label,
             p.period_start >= range_start AND p.period_end <= range_end
      FROM lens.periods(granularity, range_start, range_end, tz) p;
  END IF;
END $$;

-- Few buckets, not the default thousand: joins on them are planned as such.
ALTER FUNCTION lens.buckets(text, timestamptz, timestamptz, text) ROWS 20;

-- The local days whose midnight lies in [range_start, range_end): a due date
-- belongs to a range when its day starts in it.
CREATE FUNCTION lens.local_days(range_start timestamptz, range_end timestamptz, tz text,
                                OUT first_day date, OUT end_day date)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT (range_start AT TIME ZONE tz)::date + ((range_start AT TIME ZONE tz)::time > time '00:00')::integer,
         (range_end AT TIME ZONE tz)::date + ((range_end AT TIME ZONE tz)::time > time '00:00')::integer;
END;
