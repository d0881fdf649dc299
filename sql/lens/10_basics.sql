-- The policy and settings as readers see them, and small helpers every
-- other file uses. Re-applied by `migrate` whenever a file of sql/lens
-- changes (sql/README.md).

CREATE VIEW lens.sla_policy AS
SELECT severity, ack_target_seconds, resolve_target_seconds, postmortem_due_seconds,
       postmortem_due_seconds IS NOT NULL AS postmortem_required, updated_at
FROM public.sla_policy;

CREATE VIEW lens.settings AS
SELECT repeat_window_days, timezone, updated_at FROM public.metric_settings;

CREATE FUNCTION lens.default_timezone() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT coalesce((SELECT s.timezone FROM lens.settings s), 'UTC');
END;

-- The difference of two instants in seconds, to the microsecond (a
-- timestamptz difference has no calendar days, so date_part is exact).
CREATE FUNCTION lens.seconds_between(later timestamptz, earlier timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN date_part('epoch', later - earlier);

-- A duration in seconds as whole microseconds, to sum it exactly: a float
-- sum depends on the order the plan feeds the rows, and converting each
-- value to numeric is eight times slower. Exact under a billion seconds (32
-- years), where a double still holds every microsecond of a span between two
-- instants; beyond, the double's own precision. NULL for none, infinity or
-- more than bigint microseconds hold (9e12 s).
CREATE FUNCTION lens.whole_micros(seconds double precision) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN abs(seconds) < 9e12::double precision THEN round(seconds * 1e6::double precision)::bigint END;

-- A fixed number of seconds as an interval with no day part, so that adding
-- it to a timestamptz never depends on the session's zone.
CREATE FUNCTION lens.seconds(amount double precision) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN make_interval(secs => amount);

-- A root cause as written (the Jira mapper stores it raw) to its key, the
-- only normalisation of causes (docs/metrics.md §8): lower case, runs of other
-- characters as one '-', none at either end, so 'Bad deploy!' and
-- 'bad-deploy' are one cause; NULL when nothing is left.
CREATE FUNCTION lens.root_cause_slug(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN nullif(btrim(regexp_replace(lower(btrim(raw, E' \t\r\n')), '[^a-z0-9]+', '-', 'g'), '-'), '');

-- A local time and its offset from UTC as ISO 8601 text.
CREATE FUNCTION lens.iso_local_text(local_time timestamp, offset_minutes integer) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN to_char(local_time, 'YYYY-MM-DD"T"HH24:MI:SS')
       || CASE WHEN extract(microseconds FROM local_time)::bigint % 1000000 = 0 THEN ''
               ELSE '.' || rtrim(to_char(local_time, 'US'), '0') END
       || CASE WHEN offset_minutes < 0 THEN '-' ELSE '+' END
       || lpad((abs(offset_minutes) / 60)::text, 2, '0') || ':' || lpad((abs(offset_minutes) % 60)::text, 2, '0');

-- An instant as local ISO 8601 text with its offset, e.g. 2026-10-01T00:00:00+02:00.
CREATE FUNCTION lens.iso_local(instant timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
-- Expressions, not a query: PostgreSQL inlines them into the caller, where
-- a query was planned and run on its own at each of a report's hundred calls.
RETURN lens.iso_local_text(instant AT TIME ZONE tz,
                           (extract(epoch FROM (instant AT TIME ZONE tz) - (instant AT TIME ZONE 'UTC')) / 60)::integer);
