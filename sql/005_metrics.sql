-- The metrics of METRICS.md, defined once. Everything the report command,
-- the Grafana pages, the dashboards and the alert rules read lives in the
-- schema `lens`, so that a read-only role can be granted exactly this schema
-- (USAGE on it, SELECT on its tables and views): the functions that read the
-- core tables run as their owner (SECURITY DEFINER) and the views run with
-- the view owner's rights, so that role needs no rights on the core tables.
--
-- Conventions: every function takes the instant `as_of` (nothing after it has
-- happened yet) and an IANA zone `tz`; ranges are half-open [range_start,
-- range_end); durations are seconds (double precision); rates are fractions,
-- NULL when their denominator is 0.
--
-- Layers:
--   lens.incident_fact     one narrow row per incident, kept by triggers on the
--                          core tables (post-mortem, escalation and root cause
--                          joined in, previous incident with the same cause)
--   lens.incident_outcomes per-incident facts as of an instant (tta, ttr, SLA...)
--   lens.compute_figures   the aggregates of a range, all dimensions at once
--   lens.period_rollup     those aggregates cached per closed period, checked
--                          against lens.fact_changes so that late data is never
--                          hidden (see lens.period_figures)
--   lens.metrics / period_metrics / trend / action_item_metrics / ...: the API

CREATE SCHEMA lens;
COMMENT ON SCHEMA lens IS 'Incident Lens metrics (METRICS.md); grant USAGE and SELECT on this schema to readers';

-- ---------------------------------------------------------------------------
-- Policy and settings, as readers see them.

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

-- ---------------------------------------------------------------------------
-- Small pure helpers.

-- The difference of two instants in seconds, to the microsecond (a
-- timestamptz difference has no calendar days, so date_part is exact).
CREATE FUNCTION lens.seconds_between(later timestamptz, earlier timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN date_part('epoch', later - earlier);

-- A fixed number of seconds as an interval with no day part, so that adding
-- it to a timestamptz never depends on the session's zone.
CREATE FUNCTION lens.seconds(amount double precision) RETURNS interval
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN make_interval(secs => amount);-- Corrections to the metric functions of 005 (migrations are append-only).

-- Root cause keys as the Jira mapper writes them (normaliseRootCause): no
-- leading or trailing '-', so 'Bad deploy!' and 'bad deploy' are one cause.
CREATE FUNCTION lens.root_cause_slug(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN nullif(btrim(regexp_replace(lower(btrim(raw, E' \t\r\n')), '[^a-z0-9]+', '-', 'g'), '-'), '');

-- An instant as local ISO 8601 text with its offset, e.g. 2026-10-01T00:00:00+02:00.
CREATE FUNCTION lens.iso_local(instant timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT to_char(l.local_time, 'YYYY-MM-DD"T"HH24:MI:SS')
         || CASE WHEN extract(microseconds FROM l.local_time)::bigint % 1000000 = 0 THEN ''
                 ELSE '.' || rtrim(to_char(l.local_time, 'US'), '0') END
         || CASE WHEN l.offset_minutes < 0 THEN '-' ELSE '+' END
         || lpad((abs(l.offset_minutes) / 60)::text, 2, '0') || ':' || lpad((abs(l.offset_minutes) % 60)::text, 2, '0')
  FROM (SELECT instant AT TIME ZONE tz AS local_time,
               (extract(epoch FROM (instant AT TIME ZONE tz) - (instant AT TIME ZONE 'UTC')) / 60)::integer AS offset_minutes) l;
END;

-- ---------------------------------------------------------------------------
-- Periods (METRICS.md 2): local days from midnight, ISO weeks from Monday,
-- months from the 1st; computed on local wall-clock time, so a DST day is
-- 23 or 25 hours long.

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

-- ---------------------------------------------------------------------------
-- lens.incident_fact: what the metrics need from each incident, joined once
-- at write time. It has no as-of semantics: instants are stored as the
-- sources report them and masked at read time.

CREATE TABLE lens.incident_fact (
  incident_id             bigint PRIMARY KEY,
  created_at              timestamptz NOT NULL,
  severity                text NOT NULL,
  service_id              bigint,
  team_id                 bigint,
  merged                  boolean NOT NULL,
  acknowledged_at         timestamptz,
  resolved_at             timestamptz,
  detected_at             timestamptz,
  -- The first escalate event, or created_at when the source flags an
  -- escalation without sending its time; NULL: never escalated.
  escalated_at            timestamptz,
  -- The earliest completion of a Done-category post-mortem of the incident.
  postmortem_completed_at timestamptz,
  -- Normalised key: the newest post-mortem's, else the incident's own.
  root_cause_key          text,
  -- created_at of the latest earlier (strictly), unmerged incident with the
  -- same key: the repeat test compares it with the window at read time, so a
  -- new repeatWindowDays needs no rewrite.
  previous_same_cause_at  timestamptz
) WITH (fillfactor = 75); -- room for HOT updates: an incident is written again at ack, resolve, post-mortem

CREATE INDEX incident_fact_created_at_idx ON lens.incident_fact (created_at);
CREATE INDEX incident_fact_cause_idx ON lens.incident_fact (root_cause_key, created_at)
  WHERE root_cause_key IS NOT NULL;

-- Every change of the facts (or of the policy) records the instants it
-- touched and the transaction that made it; a cached period is valid only if
-- its snapshot saw every change that overlaps it.
CREATE TABLE lens.fact_changes (
  id          bigserial PRIMARY KEY,
  xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  affected    tstzmultirange NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX fact_changes_affected_idx ON lens.fact_changes USING gist (affected);

CREATE TABLE lens.rollup_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  -- Bumped by lens.compact_rollups: a cache row written under an older epoch
  -- may have missed a change that compaction removed, so it is not used.
  epoch     bigint NOT NULL DEFAULT 1
);

INSERT INTO lens.rollup_state DEFAULT VALUES;

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
END;-- Writing an incident into the middle of a long root-cause history relinks
-- only the incidents whose previous one can change, not every later one.

CREATE FUNCTION lens.refresh_incident_facts(incident_ids bigint[]) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  changed_at timestamptz[];
  chain_cause text[];
  chain_since timestamptz[];
  chain_last timestamptz[];
  relinked_at timestamptz[];
BEGIN
  IF coalesce(cardinality(incident_ids), 0) = 0 THEN
    RETURN;
  END IF;

  WITH wanted AS (
    SELECT DISTINCT t.id FROM unnest(incident_ids) AS t(id) WHERE t.id IS NOT NULL
  ),
  -- Every table is reached by key through LATERAL ... OFFSET 0 (which keeps
  -- PostgreSQL from turning it back into a join): the plan stays a few index
  -- lookups per incident even when the statistics are stale (a first sync
  -- fills an empty table), never a scan of every incident per batch.
  desired AS (
    SELECT i.id AS incident_id, i.created_at, i.severity, i.service_id, i.team_id, i.merged,
           i.acknowledged_at, i.resolved_at, i.detected_at,
           -- The flag says whether there was an escalation (METRICS.md 1); the events, when.
           CASE WHEN i.escalated THEN coalesce(
             (SELECT min(e.occurred_at) FROM public.incident_events e WHERE e.incident_id = i.id AND e.type = 'escalate'),
             i.created_at) END AS escalated_at,
           postmortem.completed_at AS postmortem_completed_at,
           coalesce(postmortem.cause, lens.root_cause_slug(i.root_cause_key)) AS root_cause_key
    FROM wanted
    CROSS JOIN LATERAL (SELECT x.* FROM public.incidents x WHERE x.id = wanted.id OFFSET 0) i
    -- One look at the incident's post-mortems for both facts.
    LEFT JOIN LATERAL (
      SELECT min(p.completed_at) FILTER (WHERE lower(p.status_category) = 'done') AS completed_at,
             (array_agg(lens.root_cause_slug(p.root_cause_key) ORDER BY p.created_at DESC, p.id DESC)
                FILTER (WHERE lens.root_cause_slug(p.root_cause_key) IS NOT NULL))[1] AS cause
      FROM public.postmortems p WHERE p.incident_id = i.id) postmortem ON true
  ),
  before AS (
    SELECT f.* FROM wanted CROSS JOIN LATERAL (SELECT x.* FROM lens.incident_fact x WHERE x.incident_id = wanted.id OFFSET 0) f
  ),
  removed AS (
    DELETE FROM lens.incident_fact f
    WHERE f.incident_id = ANY (ARRAY(SELECT b.incident_id FROM before b
                                     WHERE NOT EXISTS (SELECT 1 FROM desired d WHERE d.incident_id = b.incident_id)))
    RETURNING f.incident_id
  ),
  written AS (
    INSERT INTO lens.incident_fact AS f (incident_id, created_at, severity, service_id, team_id, merged,
      acknowledged_at, resolved_at, detected_at, escalated_at, postmortem_completed_at, root_cause_key)
    SELECT incident_id, created_at, severity, service_id, team_id, merged,
           acknowledged_at, resolved_at, detected_at, escalated_at, postmortem_completed_at, root_cause_key
    FROM desired
    ORDER BY created_at -- keeps a period's rows on few pages
    ON CONFLICT (incident_id) DO UPDATE SET
      created_at = excluded.created_at, severity = excluded.severity, service_id = excluded.service_id,
      team_id = excluded.team_id, merged = excluded.merged, acknowledged_at = excluded.acknowledged_at,
      resolved_at = excluded.resolved_at, detected_at = excluded.detected_at, escalated_at = excluded.escalated_at,
      postmortem_completed_at = excluded.postmortem_completed_at, root_cause_key = excluded.root_cause_key,
      -- The chain below relinks every incident that has a key; one without has no previous.
      previous_same_cause_at = CASE WHEN excluded.root_cause_key IS NULL THEN NULL ELSE f.previous_same_cause_at END
    WHERE (f.created_at, f.severity, f.service_id, f.team_id, f.merged, f.acknowledged_at, f.resolved_at,
           f.detected_at, f.escalated_at, f.postmortem_completed_at, f.root_cause_key)
          IS DISTINCT FROM
          (excluded.created_at, excluded.severity, excluded.service_id, excluded.team_id, excluded.merged,
           excluded.acknowledged_at, excluded.resolved_at, excluded.detected_at, excluded.escalated_at,
           excluded.postmortem_completed_at, excluded.root_cause_key)
    RETURNING f.incident_id, f.created_at, f.merged, f.root_cause_key
  ),
  -- Old and new positions of everything that changed: both periods are
  -- affected; `chain` marks positions whose cause chain may change.
  touched AS (
    SELECT w.created_at, w.root_cause_key,
           b.incident_id IS NULL OR (b.created_at, b.merged, b.root_cause_key)
                                    IS DISTINCT FROM (w.created_at, w.merged, w.root_cause_key) AS chain
    FROM written w LEFT JOIN before b ON b.incident_id = w.incident_id
    UNION ALL
    SELECT b.created_at, b.root_cause_key,
           (b.created_at, b.merged, b.root_cause_key) IS DISTINCT FROM (w.created_at, w.merged, w.root_cause_key)
    FROM before b JOIN written w ON w.incident_id = b.incident_id
    UNION ALL
    SELECT b.created_at, b.root_cause_key, true FROM before b JOIN removed r ON r.incident_id = b.incident_id
  ),
  chain_start AS (
    SELECT t.root_cause_key AS cause, min(t.created_at) AS since, max(t.created_at) AS last FROM touched t
    WHERE t.chain AND t.root_cause_key IS NOT NULL GROUP BY t.root_cause_key
  )
  SELECT (SELECT array_agg(t.created_at) FROM touched t),
         (SELECT array_agg(c.cause ORDER BY c.cause) FROM chain_start c),
         (SELECT array_agg(c.since ORDER BY c.cause) FROM chain_start c),
         (SELECT array_agg(c.last ORDER BY c.cause) FROM chain_start c)
  INTO changed_at, chain_cause, chain_since, chain_last;

  IF changed_at IS NULL THEN
    RETURN;
  END IF;

  -- A second statement, so that it reads the facts written above. Only the
  -- incidents of a touched cause between the first touched instant and the
  -- first unmerged incident after the last one can get another previous
  -- incident; later ones keep theirs, however long the cause's history.
  IF chain_cause IS NOT NULL THEN
    WITH chain_start AS (
      SELECT s.cause, s.since,
             (SELECT min(g.created_at) FROM lens.incident_fact g
              WHERE g.root_cause_key = s.cause AND g.created_at > s.last AND NOT g.merged) AS until
      FROM unnest(chain_cause, chain_since, chain_last) AS s(cause, since, last)
    ),
    chain AS (
      SELECT f.fact_row, f.incident_id, f.created_at, cs.since,
             max(f.created_at) FILTER (WHERE NOT f.merged) OVER (
               PARTITION BY cs.cause ORDER BY f.created_at
               RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP) AS previous_at
      FROM chain_start cs
      CROSS JOIN LATERAL (
        SELECT x.ctid AS fact_row, x.incident_id, x.created_at, x.merged FROM lens.incident_fact x
        WHERE x.root_cause_key = cs.cause
          AND x.created_at >= coalesce(
            (SELECT max(g.created_at) FROM lens.incident_fact g
             WHERE g.root_cause_key = cs.cause AND g.created_at < cs.since AND NOT g.merged), '-infinity')
          AND x.created_at <= coalesce(cs.until, 'infinity')
        OFFSET 0) f
    ),
    relinked AS (
      -- By row address: the rows were just read, so this is no scan either.
      UPDATE lens.incident_fact f SET previous_same_cause_at = chain.previous_at
      FROM chain
      WHERE f.ctid = chain.fact_row AND chain.created_at >= chain.since
        AND f.previous_same_cause_at IS DISTINCT FROM chain.previous_at
      RETURNING f.created_at
    )
    SELECT array_agg(relinked.created_at) INTO relinked_at FROM relinked;
  END IF;

  PERFORM lens.record_fact_change(changed_at || coalesce(relinked_at, '{}'));
END $$;

-- An update that changes none of the columns the facts read (a re-sync
-- writing the same incident again) costs no refresh.
CREATE FUNCTION lens.on_incidents_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM lens.incident_fact;
    PERFORM lens.record_change_everywhere();
  ELSIF TG_OP = 'INSERT' THEN
    PERFORM lens.refresh_incident_facts(ARRAY(SELECT n.id FROM new_rows n));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM lens.refresh_incident_facts(ARRAY(
      SELECT changed.id FROM (
        SELECT n.id, n.created_at, n.severity, n.service_id, n.team_id, n.merged, n.acknowledged_at, n.resolved_at,
               n.detected_at, n.escalated, n.root_cause_key
        FROM new_rows n
        EXCEPT
        SELECT o.id, o.created_at, o.severity, o.service_id, o.team_id, o.merged, o.acknowledged_at, o.resolved_at,
               o.detected_at, o.escalated, o.root_cause_key
        FROM old_rows o) changed));
  ELSE
    PERFORM lens.refresh_incident_facts(ARRAY(SELECT o.id FROM old_rows o));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER incident_fact_insert AFTER INSERT ON public.incidents
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incidents_changed();
CREATE TRIGGER incident_fact_update AFTER UPDATE ON public.incidents
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incidents_changed();
CREATE TRIGGER incident_fact_delete AFTER DELETE ON public.incidents
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incidents_changed();
CREATE TRIGGER incident_fact_truncate AFTER TRUNCATE ON public.incidents
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incidents_changed();

-- Post-mortems and escalate events are part of their incident's facts.
-- Each statement below runs only for its own table (plpgsql plans a
-- statement when it first runs it, and only incident_events has `type`).
CREATE FUNCTION lens.on_incident_detail_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM lens.refresh_incident_facts(ARRAY(SELECT f.incident_id FROM lens.incident_fact f));
  ELSIF TG_TABLE_NAME = 'incident_events' THEN
    IF TG_OP = 'INSERT' THEN
      PERFORM lens.refresh_incident_facts(ARRAY(SELECT n.incident_id FROM new_rows n WHERE n.type = 'escalate'));
    ELSIF TG_OP = 'UPDATE' THEN
      PERFORM lens.refresh_incident_facts(ARRAY(
        SELECT n.incident_id FROM new_rows n WHERE n.type = 'escalate'
        UNION SELECT o.incident_id FROM old_rows o WHERE o.type = 'escalate'));
    ELSE
      PERFORM lens.refresh_incident_facts(ARRAY(SELECT o.incident_id FROM old_rows o WHERE o.type = 'escalate'));
    END IF;
  ELSIF TG_OP = 'INSERT' THEN
    PERFORM lens.refresh_incident_facts(ARRAY(SELECT n.incident_id FROM new_rows n));
  ELSIF TG_OP = 'UPDATE' THEN
    PERFORM lens.refresh_incident_facts(ARRAY(SELECT n.incident_id FROM new_rows n UNION SELECT o.incident_id FROM old_rows o));
  ELSE
    PERFORM lens.refresh_incident_facts(ARRAY(SELECT o.incident_id FROM old_rows o));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER incident_fact_insert AFTER INSERT ON public.postmortems
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_update AFTER UPDATE ON public.postmortems
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_delete AFTER DELETE ON public.postmortems
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_truncate AFTER TRUNCATE ON public.postmortems
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_insert AFTER INSERT ON public.incident_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_update AFTER UPDATE ON public.incident_events
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_delete AFTER DELETE ON public.incident_events
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_truncate AFTER TRUNCATE ON public.incident_events
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();

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

-- The repeat window as an InitPlan, evaluated once per query.
CREATE FUNCTION lens.incident_outcomes(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text)
RETURNS TABLE (
  incident_id              bigint,
  created_at               timestamptz,
  severity                 text,
  service_id               bigint,
  team_id                  bigint,
  merged                   boolean,
  -- NULL when it had not happened by as_of.
  acknowledged_at          timestamptz,
  resolved_at              timestamptz,
  is_open                  boolean,
  escalated                boolean,
  tta_seconds              double precision,
  ttr_seconds              double precision,
  -- created_at - detected_at, where the start of impact is known.
  ttd_seconds              double precision,
  -- The earlier of ack and resolve: the runbooks' response (METRICS.md 5).
  first_response_at        timestamptz,
  first_response_seconds   double precision,
  ack_deadline             timestamptz,
  -- met | breached | pending; NULL for UNKNOWN severity (no target).
  ack_outcome              text,
  resolve_deadline         timestamptz,
  resolve_outcome          text,
  postmortem_required      boolean,
  postmortem_deadline      timestamptz,
  postmortem_completed_at  timestamptz,
  -- on_time | late | overdue | pending; NULL when not required.
  postmortem_outcome       text,
  root_cause_key           text,
  is_repeat                boolean,
  -- Mon-Fri 08:00-18:00 local time.
  business_hours           boolean,
  -- After this instant nothing about the incident changes with as_of.
  settled_at               timestamptz
)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  -- Each derived value is computed once per row in a subquery kept apart by
  -- OFFSET 0; flattened, PostgreSQL would evaluate it again at every use.
  SELECT r.incident_id, r.created_at, r.severity, r.service_id, r.team_id, r.merged,
    r.acknowledged_at, r.resolved_at, r.resolved_at IS NULL, r.escalated,
    lens.seconds_between(r.acknowledged_at, r.created_at),
    lens.seconds_between(r.resolved_at, r.created_at),
    r.ttd_seconds,
    r.first_response_at,
    lens.seconds_between(r.first_response_at, r.created_at),
    r.ack_deadline,
    CASE WHEN r.ack_deadline IS NULL THEN NULL
         WHEN r.first_response_at <= r.ack_deadline THEN 'met'
         WHEN r.first_response_at IS NOT NULL OR r.ack_deadline <= as_of THEN 'breached'
         ELSE 'pending' END,
    r.resolve_deadline,
    CASE WHEN r.resolve_deadline IS NULL THEN NULL
         WHEN r.resolved_at <= r.resolve_deadline THEN 'met'
         WHEN r.resolved_at IS NOT NULL OR r.resolve_deadline <= as_of THEN 'breached'
         ELSE 'pending' END,
    r.postmortem_required,
    r.postmortem_deadline,
    r.postmortem_completed_at,
    CASE WHEN NOT r.postmortem_required THEN NULL
         WHEN r.postmortem_completed_at IS NOT NULL
              AND (r.postmortem_deadline IS NULL OR r.postmortem_completed_at <= r.postmortem_deadline) THEN 'on_time'
         WHEN r.postmortem_completed_at IS NOT NULL THEN 'late'
         WHEN r.postmortem_deadline <= as_of THEN 'overdue'
         ELSE 'pending' END,
    r.root_cause_key,
    r.is_repeat,
    date_part('isodow', r.local_created) <= 5
      AND r.local_created::time >= time '08:00' AND r.local_created::time < time '18:00',
    r.settled_at
  FROM (
    SELECT seen.*,
      least(seen.acknowledged_at, seen.resolved_at) AS first_response_at,
      seen.resolved_at + seen.postmortem_due AS postmortem_deadline
    FROM (
      SELECT f.incident_id, f.created_at, f.severity, f.service_id, f.team_id, f.merged,
        CASE WHEN f.acknowledged_at <= as_of THEN f.acknowledged_at END AS acknowledged_at,
        CASE WHEN f.resolved_at <= as_of THEN f.resolved_at END AS resolved_at,
        CASE WHEN f.postmortem_completed_at <= as_of THEN f.postmortem_completed_at END AS postmortem_completed_at,
        coalesce(f.escalated_at <= as_of, false) AS escalated,
        CASE WHEN f.detected_at <= f.created_at THEN lens.seconds_between(f.created_at, f.detected_at) END AS ttd_seconds,
        f.created_at + p.ack_target AS ack_deadline,
        f.created_at + p.resolve_target AS resolve_deadline,
        p.postmortem_due,
        p.postmortem_due IS NOT NULL AS postmortem_required,
        f.root_cause_key,
        coalesce(f.root_cause_key IS NOT NULL AND NOT f.merged
                 AND f.previous_same_cause_at >= f.created_at - (
                   -- An InitPlan: evaluated once, where a join would pass every row through a loop.
                   SELECT lens.seconds(st.repeat_window_days * 86400.0) FROM lens.settings st), false) AS is_repeat,
        f.created_at AT TIME ZONE tz AS local_created,
        greatest(f.created_at, f.acknowledged_at, f.resolved_at, f.escalated_at, f.postmortem_completed_at,
                 f.created_at + p.ack_target, f.created_at + p.resolve_target,
                 f.resolved_at + p.postmortem_due) AS settled_at
      FROM lens.incident_fact f
      -- Targets as intervals once per query, not once per row.
      LEFT JOIN (SELECT sp.severity, lens.seconds(sp.ack_target_seconds) AS ack_target,
                        lens.seconds(sp.resolve_target_seconds) AS resolve_target,
                        lens.seconds(sp.postmortem_due_seconds) AS postmortem_due
                 FROM lens.sla_policy sp) p ON p.severity = f.severity
      WHERE f.created_at >= range_start AND f.created_at < range_end AND f.created_at <= as_of
      OFFSET 0
    ) seen
    OFFSET 0
  ) r;
END;

-- ---------------------------------------------------------------------------
-- The figures of the incidents of a period: one row per dimension value. A
-- type, so that cached periods store exactly what a live computation returns
-- and every function returns the same columns.

CREATE TYPE lens.incident_metrics AS (
  period_start                  timestamptz,
  period_end                    timestamptz,
  -- 2026-10-25, 2026-W44 or 2026-10; NULL for a range that is no period.
  period_label                  text,
  -- total | severity | service | team
  dimension                     text,
  -- NULL for total; SEV1..UNKNOWN; the service or team id (NULL: none).
  dimension_key                 text,
  -- All incidents, the severity, the service or team name.
  dimension_label               text,
  incidents                     integer,
  -- incidents / all incidents of the period.
  share                         double precision,
  merged                        integer,
  open                          integer,
  unclassified                  integer,
  sev1                          integer,
  sev2                          integer,
  sev3                          integer,
  sev4                          integer,
  unknown                       integer,
  mtta_count                    integer,
  unacknowledged                integer,
  mtta_mean_seconds             double precision,
  mtta_median_seconds           double precision,
  mtta_p90_seconds              double precision,
  mtta_p95_seconds              double precision,
  mttr_count                    integer,
  mttr_mean_seconds             double precision,
  mttr_median_seconds           double precision,
  mttr_p90_seconds              double precision,
  mttr_p95_seconds              double precision,
  ack_met                       integer,
  ack_breached                  integer,
  ack_pending                   integer,
  ack_compliance                double precision,
  resolve_met                   integer,
  resolve_breached              integer,
  resolve_pending               integer,
  resolve_compliance            double precision,
  postmortems_required          integer,
  postmortems_completed         integer,
  postmortems_completed_on_time integer,
  postmortems_overdue           integer,
  escalated                     integer,
  escalation_rate               double precision,
  business_hours                integer,
  off_hours                     integer,
  mttd_count                    integer,
  mttd_mean_seconds             double precision,
  mttd_median_seconds           double precision,
  mttd_p90_seconds              double precision,
  mttd_p95_seconds              double precision,
  root_cause_incidents          integer,
  repeat_incidents              integer,
  repeat_rate                   double precision
);

-- The figures of the incidents created in [range_start, range_end) for the
-- requested dimensions, in one pass, and the instant from which they no
-- longer change with as_of. The total row, and with 'severity' one row per
-- severity, exist even when no incident does.
CREATE FUNCTION lens.compute_figures(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                     dimensions text[] DEFAULT ARRAY['total', 'severity', 'service', 'team'])
RETURNS TABLE (stable_from timestamptz, figures lens.incident_metrics[])
LANGUAGE sql STABLE PARALLEL SAFE
-- Sorting a month of durations stays in memory.
SET work_mem = '32MB'
BEGIN ATOMIC
  WITH outcome AS MATERIALIZED (
    SELECT o.severity, o.service_id, o.team_id, o.merged, o.is_open, o.escalated, o.tta_seconds, o.ttr_seconds,
           o.ttd_seconds, o.ack_outcome, o.resolve_outcome, o.postmortem_required, o.postmortem_outcome,
           o.root_cause_key, o.is_repeat, o.business_hours, o.settled_at
    FROM lens.incident_outcomes(range_start, range_end, as_of, tz) o
  ),
  -- Counting in two steps is several times faster than thirty FILTERs over
  -- every row: first the number of incidents per combination of outcomes,
  -- then the figures of each dimension from those few hundred rows. The
  -- zero rows make the total and every severity exist when no incident does.
  tally AS (
    SELECT o.severity, o.service_id, o.team_id, o.merged, o.is_open, o.escalated, o.ack_outcome,
           o.resolve_outcome, o.postmortem_required, o.postmortem_outcome, o.root_cause_key IS NOT NULL AS has_cause,
           o.is_repeat, o.business_hours, count(*) AS n
    FROM outcome o
    GROUP BY o.severity, o.service_id, o.team_id, o.merged, o.is_open, o.escalated, o.ack_outcome,
             o.resolve_outcome, o.postmortem_required, o.postmortem_outcome, o.root_cause_key IS NOT NULL,
             o.is_repeat, o.business_hours
    UNION ALL
    SELECT zero.severity, NULL, NULL, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0
    FROM unnest(ARRAY['SEV1', 'SEV2', 'SEV3', 'SEV4', 'UNKNOWN']) AS zero(severity)
  ),
  counted AS (
    SELECT
      CASE WHEN GROUPING(t.severity) = 0 THEN 'severity' WHEN GROUPING(t.service_id) = 0 THEN 'service'
           WHEN GROUPING(t.team_id) = 0 THEN 'team' ELSE 'total' END AS dimension,
      CASE WHEN GROUPING(t.severity) = 0 THEN t.severity WHEN GROUPING(t.service_id) = 0 THEN t.service_id::text
           WHEN GROUPING(t.team_id) = 0 THEN t.team_id::text END AS dimension_key,
      sum(t.n) AS rows_counted,
      sum(t.n) FILTER (WHERE NOT t.merged) AS incidents,
      sum(t.n) FILTER (WHERE t.merged) AS merged,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.is_open) AS open,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.severity = 'SEV1') AS sev1,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.severity = 'SEV2') AS sev2,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.severity = 'SEV3') AS sev3,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.severity = 'SEV4') AS sev4,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.severity = 'UNKNOWN') AS unknown,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.ack_outcome = 'met') AS ack_met,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.ack_outcome = 'breached') AS ack_breached,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.ack_outcome = 'pending') AS ack_pending,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.resolve_outcome = 'met') AS resolve_met,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.resolve_outcome = 'breached') AS resolve_breached,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.resolve_outcome = 'pending') AS resolve_pending,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.postmortem_required) AS pm_required,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.postmortem_outcome IN ('on_time', 'late')) AS pm_completed,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.postmortem_outcome = 'on_time') AS pm_on_time,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.postmortem_outcome = 'overdue') AS pm_overdue,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.escalated) AS escalated,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.business_hours) AS business_hours,
      sum(t.n) FILTER (WHERE NOT t.merged AND NOT t.business_hours) AS off_hours,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.has_cause) AS root_cause_incidents,
      sum(t.n) FILTER (WHERE NOT t.merged AND t.is_repeat) AS repeat_incidents
    FROM tally t
    GROUP BY GROUPING SETS ((), (t.severity), (t.service_id), (t.team_id))
  ),
  -- Durations need every value; only the requested dimensions are sorted.
  timed AS (
    SELECT d.dimension, d.dimension_key,
      count(o.tta_seconds) AS mtta_count, avg(o.tta_seconds) AS mtta_mean,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY o.tta_seconds) AS mtta_p,
      count(o.ttr_seconds) AS mttr_count, avg(o.ttr_seconds) AS mttr_mean,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY o.ttr_seconds) AS mttr_p,
      count(o.ttd_seconds) AS mttd_count, avg(o.ttd_seconds) AS mttd_mean,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY o.ttd_seconds) AS mttd_p
    FROM outcome o
    CROSS JOIN LATERAL (
      SELECT wanted.dimension,
             CASE wanted.dimension WHEN 'severity' THEN o.severity WHEN 'service' THEN o.service_id::text
                                   WHEN 'team' THEN o.team_id::text END AS dimension_key
      FROM unnest(dimensions) AS wanted(dimension)) d
    WHERE NOT o.merged
    GROUP BY d.dimension, d.dimension_key
  ),
  grouped AS (
    SELECT c.dimension, c.dimension_key,
      coalesce(c.incidents, 0)::integer AS incidents, coalesce(c.merged, 0)::integer AS merged,
      coalesce(c.open, 0)::integer AS open, coalesce(c.sev1, 0)::integer AS sev1,
      coalesce(c.sev2, 0)::integer AS sev2, coalesce(c.sev3, 0)::integer AS sev3,
      coalesce(c.sev4, 0)::integer AS sev4, coalesce(c.unknown, 0)::integer AS unknown,
      coalesce(c.ack_met, 0)::integer AS ack_met, coalesce(c.ack_breached, 0)::integer AS ack_breached,
      coalesce(c.ack_pending, 0)::integer AS ack_pending, coalesce(c.resolve_met, 0)::integer AS resolve_met,
      coalesce(c.resolve_breached, 0)::integer AS resolve_breached,
      coalesce(c.resolve_pending, 0)::integer AS resolve_pending,
      coalesce(c.pm_required, 0)::integer AS pm_required, coalesce(c.pm_completed, 0)::integer AS pm_completed,
      coalesce(c.pm_on_time, 0)::integer AS pm_on_time, coalesce(c.pm_overdue, 0)::integer AS pm_overdue,
      coalesce(c.escalated, 0)::integer AS escalated, coalesce(c.business_hours, 0)::integer AS business_hours,
      coalesce(c.off_hours, 0)::integer AS off_hours,
      coalesce(c.root_cause_incidents, 0)::integer AS root_cause_incidents,
      coalesce(c.repeat_incidents, 0)::integer AS repeat_incidents,
      coalesce(t.mtta_count, 0)::integer AS mtta_count, t.mtta_mean, t.mtta_p,
      coalesce(t.mttr_count, 0)::integer AS mttr_count, t.mttr_mean, t.mttr_p,
      coalesce(t.mttd_count, 0)::integer AS mttd_count, t.mttd_mean, t.mttd_p
    FROM counted c
    LEFT JOIN timed t ON t.dimension = c.dimension AND coalesce(t.dimension_key, '') = coalesce(c.dimension_key, '')
    WHERE c.dimension = ANY (dimensions) AND (c.dimension IN ('total', 'severity') OR c.rows_counted > 0)
  )
  SELECT greatest(range_end, (SELECT max(o.settled_at) FROM outcome o)),
    coalesce(array_agg(ROW(
      range_start, range_end, NULL, g.dimension, g.dimension_key, NULL, g.incidents,
      g.incidents::double precision / nullif(g.dimension_incidents, 0),
      g.merged, g.open, g.unknown, g.sev1, g.sev2, g.sev3, g.sev4, g.unknown,
      g.mtta_count, g.incidents - g.mtta_count, g.mtta_mean, g.mtta_p[1], g.mtta_p[2], g.mtta_p[3],
      g.mttr_count, g.mttr_mean, g.mttr_p[1], g.mttr_p[2], g.mttr_p[3],
      g.ack_met, g.ack_breached, g.ack_pending, g.ack_met::double precision / nullif(g.ack_met + g.ack_breached, 0),
      g.resolve_met, g.resolve_breached, g.resolve_pending,
      g.resolve_met::double precision / nullif(g.resolve_met + g.resolve_breached, 0),
      g.pm_required, g.pm_completed, g.pm_on_time, g.pm_overdue,
      g.escalated, g.escalated::double precision / nullif(g.incidents, 0),
      g.business_hours, g.off_hours,
      g.mttd_count, g.mttd_mean, g.mttd_p[1], g.mttd_p[2], g.mttd_p[3],
      g.root_cause_incidents, g.repeat_incidents,
      g.repeat_incidents::double precision / nullif(g.root_cause_incidents, 0)
    )::lens.incident_metrics
    ORDER BY array_position(ARRAY['total', 'severity', 'service', 'team'], g.dimension), g.dimension_key), '{}')
  -- Every incident is in exactly one group of a dimension: the groups' sum is the period's count.
  FROM (SELECT grouped.*, sum(grouped.incidents) OVER (PARTITION BY grouped.dimension) AS dimension_incidents
        FROM grouped) g;
END;

-- ---------------------------------------------------------------------------
-- Cached figures of whole periods. A row is used only when (1) as_of is at or
-- after stable_from, so the figures no longer depend on as_of, (2) its
-- snapshot saw every recorded change that overlaps the period, and (3) it was
-- written under the current epoch. Late data therefore shows at once: the
-- stale row is ignored and the period computed again.

CREATE TABLE lens.period_rollup (
  granularity       text NOT NULL,
  tz                text NOT NULL,
  period_start      timestamptz NOT NULL,
  period_end        timestamptz NOT NULL,
  stable_from       timestamptz NOT NULL,
  epoch             bigint NOT NULL,
  computed_snapshot pg_snapshot NOT NULL,
  computed_at       timestamptz NOT NULL DEFAULT now(),
  figures           lens.incident_metrics[] NOT NULL,
  PRIMARY KEY (granularity, tz, period_start)
);

CREATE FUNCTION lens.rollup_is_current(rollup lens.period_rollup) RETURNS boolean
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT rollup.epoch = (SELECT st.epoch FROM lens.rollup_state st)
     AND NOT EXISTS (
       SELECT 1 FROM lens.fact_changes c
       WHERE c.affected && tstzrange(rollup.period_start, rollup.period_end)
         AND NOT pg_visible_in_snapshot(c.xid, rollup.computed_snapshot));
END;

-- The figures of one whole period, from the cache when it is current, else
-- computed and, when they can no longer change with as_of, cached.
CREATE FUNCTION lens.period_figures(granularity text, period_start timestamptz, period_end timestamptz,
                                    as_of timestamptz, tz text, dimensions text[])
RETURNS lens.incident_metrics[]
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  cached lens.incident_metrics[];
  computed record;
BEGIN
  SELECT r.figures INTO cached FROM lens.period_rollup r
  WHERE r.granularity = granularity AND r.tz = tz AND r.period_start = period_start
    AND r.period_end = period_end AND r.stable_from <= as_of AND lens.rollup_is_current(r);
  IF FOUND THEN
    RETURN ARRAY(SELECT f FROM unnest(cached) f WHERE f.dimension = ANY (dimensions));
  END IF;

  -- A period still running cannot be cached: compute only what was asked.
  IF as_of < period_end OR current_setting('transaction_read_only') = 'on' THEN
    RETURN (SELECT c.figures FROM lens.compute_figures(period_start, period_end, as_of, tz, dimensions) c);
  END IF;

  -- One statement, so that the snapshot recorded is the one the figures were computed from.
  SELECT c.stable_from, c.figures, pg_current_snapshot() AS snapshot, st.epoch INTO computed
  FROM lens.compute_figures(period_start, period_end, as_of, tz) c CROSS JOIN lens.rollup_state st;

  IF computed.stable_from <= as_of THEN
    BEGIN
      INSERT INTO lens.period_rollup AS r (granularity, tz, period_start, period_end, stable_from, epoch,
                                           computed_snapshot, figures)
      VALUES (granularity, tz, period_start, period_end, computed.stable_from, computed.epoch,
              computed.snapshot, computed.figures)
      ON CONFLICT ON CONSTRAINT period_rollup_pkey DO UPDATE SET
        period_end = excluded.period_end, stable_from = excluded.stable_from, epoch = excluded.epoch,
        computed_snapshot = excluded.computed_snapshot, computed_at = excluded.computed_at,
        figures = excluded.figures;
    EXCEPTION WHEN serialization_failure OR deadlock_detected THEN
      -- Another session cached the same period meanwhile; these figures are still right.
      NULL;
    END;
  END IF;
  RETURN ARRAY(SELECT f FROM unnest(computed.figures) f WHERE f.dimension = ANY (dimensions));
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

-- ---------------------------------------------------------------------------
-- The API.

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

-- Incident figures of [range_start, range_end), per bucket and dimension
-- (total, severity, service, team). Grafana: WHERE dimension = 'total' for
-- headline figures, granularity 'day' | 'week' | 'month' for time series.
CREATE FUNCTION lens.metrics(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                             granularity text DEFAULT NULL,
                             dimensions text[] DEFAULT ARRAY['total', 'severity', 'service', 'team'])
RETURNS SETOF lens.incident_metrics
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT b.bucket_start, b.bucket_end, b.period_label, f.dimension, f.dimension_key,
    CASE f.dimension WHEN 'total' THEN 'All incidents' WHEN 'severity' THEN f.dimension_key
                     WHEN 'service' THEN coalesce(sv.name, '(no service)')
                     WHEN 'team' THEN coalesce(tm.name, '(no team)') END,
    f.incidents, f.share, f.merged, f.open, f.unclassified, f.sev1, f.sev2, f.sev3, f.sev4, f.unknown,
    f.mtta_count, f.unacknowledged, f.mtta_mean_seconds, f.mtta_median_seconds, f.mtta_p90_seconds, f.mtta_p95_seconds,
    f.mttr_count, f.mttr_mean_seconds, f.mttr_median_seconds, f.mttr_p90_seconds, f.mttr_p95_seconds,
    f.ack_met, f.ack_breached, f.ack_pending, f.ack_compliance,
    f.resolve_met, f.resolve_breached, f.resolve_pending, f.resolve_compliance,
    f.postmortems_required, f.postmortems_completed, f.postmortems_completed_on_time, f.postmortems_overdue,
    f.escalated, f.escalation_rate, f.business_hours, f.off_hours,
    f.mttd_count, f.mttd_mean_seconds, f.mttd_median_seconds, f.mttd_p90_seconds, f.mttd_p95_seconds,
    f.root_cause_incidents, f.repeat_incidents, f.repeat_rate
  FROM lens.buckets(granularity, range_start, range_end, tz) b
  CROSS JOIN LATERAL unnest(
    CASE WHEN b.whole THEN lens.period_figures(granularity, b.bucket_start, b.bucket_end, as_of, tz, dimensions)
         ELSE (SELECT c.figures FROM lens.compute_figures(b.bucket_start, b.bucket_end, as_of, tz, dimensions) c) END) f
  LEFT JOIN public.services sv ON f.dimension = 'service' AND sv.id::text = f.dimension_key
  LEFT JOIN public.teams tm ON f.dimension = 'team' AND tm.id::text = f.dimension_key
  ORDER BY b.bucket_start, array_position(ARRAY['total', 'severity', 'service', 'team'], f.dimension),
           f.dimension_key;
END;

-- The period of `granularity` containing the local day `day`.
CREATE FUNCTION lens.period_metrics(granularity text, day date, as_of timestamptz, tz text,
                                    dimensions text[] DEFAULT ARRAY['total', 'severity', 'service', 'team'])
RETURNS SETOF lens.incident_metrics
LANGUAGE sql VOLATILE
BEGIN ATOMIC
  SELECT m.* FROM lens.period_bounds(granularity, day, tz) p
  CROSS JOIN LATERAL lens.metrics(p.period_start, p.period_end, as_of, tz, granularity, dimensions) m;
END;

-- The `periods` periods ending with the one containing `day` (trend charts).
CREATE FUNCTION lens.trend(granularity text, day date, as_of timestamptz, tz text, periods integer DEFAULT 12,
                           dimensions text[] DEFAULT ARRAY['total'])
RETURNS SETOF lens.incident_metrics
LANGUAGE sql VOLATILE
BEGIN ATOMIC
  SELECT m.* FROM (SELECT min(r.period_start) AS range_start, max(r.period_end) AS range_end
                   FROM lens.recent_periods(granularity, day, tz, periods) r) span
  CROSS JOIN LATERAL lens.metrics(span.range_start, span.range_end, as_of, tz, granularity, dimensions) m
  WHERE span.range_start IS NOT NULL;
END;

CREATE FUNCTION lens.incident_facts(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text)
RETURNS TABLE (
  incident_id bigint, source_kind text, external_id text, incident_number integer, title text,
  source_status text, priority_raw text, urgency text, severity text,
  service_id bigint, service_name text, team_id bigint, team_name text,
  created_at timestamptz, acknowledged_at timestamptz, resolved_at timestamptz, detected_at timestamptz,
  merged boolean, is_open boolean, escalated boolean, unack_count integer,
  tta_seconds double precision, ttr_seconds double precision, ttd_seconds double precision,
  first_response_at timestamptz, first_response_seconds double precision,
  ack_deadline timestamptz, ack_outcome text, resolve_deadline timestamptz, resolve_outcome text,
  postmortem_required boolean, postmortem_deadline timestamptz, postmortem_completed_at timestamptz,
  postmortem_outcome text, postmortem_external_id text, postmortem_url text,
  root_cause_key text, is_repeat boolean, business_hours boolean,
  html_url text, jira_issue_key text, jira_url text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT o.incident_id, src.kind, i.external_id, i.number, i.title, i.status, i.priority_raw, i.urgency, o.severity,
    o.service_id, sv.name, o.team_id, tm.name,
    o.created_at, o.acknowledged_at, o.resolved_at, i.detected_at,
    o.merged, o.is_open, o.escalated, i.unack_count,
    o.tta_seconds, o.ttr_seconds, o.ttd_seconds, o.first_response_at, o.first_response_seconds,
    o.ack_deadline, o.ack_outcome, o.resolve_deadline, o.resolve_outcome,
    o.postmortem_required, o.postmortem_deadline, o.postmortem_completed_at, o.postmortem_outcome,
    pm.external_id, pm.html_url,
    o.root_cause_key, o.is_repeat, o.business_hours,
    i.html_url, i.jira_issue_key, i.jira_url
  FROM lens.incident_outcomes(range_start, range_end, as_of, tz) o
  -- The range again on incidents: PostgreSQL then reads the range's rows by
  -- index instead of hashing the whole table.
  JOIN public.incidents i ON i.id = o.incident_id AND i.created_at >= range_start AND i.created_at < range_end
  JOIN public.sources src ON src.id = i.source_id
  LEFT JOIN public.services sv ON sv.id = o.service_id
  LEFT JOIN public.teams tm ON tm.id = o.team_id
  LEFT JOIN LATERAL (
    SELECT p.external_id, p.html_url FROM public.postmortems p
    WHERE p.incident_id = o.incident_id ORDER BY p.created_at, p.id LIMIT 1) pm ON true
  ORDER BY o.created_at, o.incident_id;
END;

-- Root causes with at least one repeat among the range's incidents, most
-- repeats first (METRICS.md 8).
CREATE FUNCTION lens.repeat_root_causes(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text)
RETURNS TABLE (root_cause text, incidents integer, repeats integer, incident_external_ids text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT keyed.root_cause_key, keyed.incidents, keyed.repeats,
    ARRAY(SELECT i.external_id FROM public.incidents i WHERE i.id = ANY (keyed.incident_ids)
          ORDER BY i.created_at, i.external_id)
  FROM (
    SELECT o.root_cause_key, count(*)::integer AS incidents, count(*) FILTER (WHERE o.is_repeat)::integer AS repeats,
           array_agg(o.incident_id) AS incident_ids
    FROM lens.incident_outcomes(range_start, range_end, as_of, tz) o
    WHERE NOT o.merged AND o.root_cause_key IS NOT NULL
    GROUP BY o.root_cause_key
    HAVING count(*) FILTER (WHERE o.is_repeat) > 0
  ) keyed
  ORDER BY keyed.repeats DESC, keyed.incidents DESC, keyed.root_cause_key;
END;

-- ---------------------------------------------------------------------------
-- Action items (METRICS.md 7). The deadline is the end of the due day in
-- the report's zone; done means a Done-category status reached by as_of.

CREATE INDEX action_items_no_due_date_idx ON public.action_items (created_at) WHERE due_date IS NULL;
CREATE INDEX action_items_not_done_idx ON public.action_items (due_date)
  WHERE completed_at IS NULL OR lower(status_category) <> 'done';
CREATE INDEX action_items_completed_at_idx ON public.action_items (completed_at);

-- The local days whose midnight lies in [range_start, range_end): a due date
-- belongs to a range when its day starts in it.
CREATE FUNCTION lens.local_days(range_start timestamptz, range_end timestamptz, tz text,
                                OUT first_day date, OUT end_day date)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT (range_start AT TIME ZONE tz)::date + ((range_start AT TIME ZONE tz)::time > time '00:00')::integer,
         (range_end AT TIME ZONE tz)::date + ((range_end AT TIME ZONE tz)::time > time '00:00')::integer;
END;-- Speed (issue 3 benchmark, 1,000,000 incidents). The functions keep their
-- signatures and results; lens.action_item_metrics gains `dimensions`.

-- METRICS.md 7: an item due on a day must be done before the end of that
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

-- The items of a range as placed by METRICS.md 7: due in it, or without a due
-- date and created in it; nothing created after as_of. Not SECURITY DEFINER,
-- so that it is inlined into its callers (which are) and the columns they do
-- not use are never read; only the owner may call it (REVOKE below).
CREATE FUNCTION lens.placed_action_items(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text)
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
  WHERE a.created_at <= as_of
  UNION ALL
  SELECT a.id, a.external_id, a.title, a.owner, a.status, a.status_category, a.due_date, a.created_at,
         a.completed_at, a.incident_id, a.postmortem_id, a.html_url, 'created_at', a.created_at
  FROM public.action_items a
  WHERE a.due_date IS NULL AND a.created_at >= range_start AND a.created_at < range_end AND a.created_at <= as_of;
END;

REVOKE EXECUTE ON FUNCTION lens.placed_action_items(timestamptz, timestamptz, timestamptz, text) FROM PUBLIC;

CREATE FUNCTION lens.action_item_facts(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text)
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
  FROM lens.placed_action_items(range_start, range_end, as_of, tz) a
  CROSS JOIN LATERAL (SELECT lens.due_deadline(a.due_date, tz) AS at) deadline
  CROSS JOIN LATERAL lens.action_item_state(deadline.at, a.status_category, a.completed_at, as_of) v
  LEFT JOIN LATERAL (SELECT x.id, x.external_id, x.html_url, x.incident_id FROM public.postmortems x
                     WHERE x.id = a.postmortem_id) pm ON true
  LEFT JOIN public.incidents i ON i.id = coalesce(a.incident_id, pm.incident_id)
  LEFT JOIN public.services sv ON sv.id = i.service_id
  LEFT JOIN public.teams tm ON tm.id = i.team_id
  ORDER BY a.attributed_at, a.id;
END;

CREATE FUNCTION lens.action_item_metrics(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                         granularity text DEFAULT NULL,
                                         dimensions text[] DEFAULT ARRAY['total', 'service', 'team'])
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
           coalesce(a.incident_id, (SELECT x.incident_id FROM public.postmortems x WHERE x.id = a.postmortem_id)) AS incident_id
    FROM day
    JOIN public.action_items a ON a.due_date = day.day
    CROSS JOIN LATERAL lens.action_item_state(day.deadline, a.status_category, a.completed_at, as_of) v
    WHERE a.created_at <= as_of
    UNION ALL
    SELECT false, a.created_at, NULL, NULL, NULL,
           coalesce(a.incident_id, (SELECT x.incident_id FROM public.postmortems x WHERE x.id = a.postmortem_id))
    FROM public.action_items a
    WHERE a.due_date IS NULL AND a.created_at >= range_start AND a.created_at < range_end AND a.created_at <= as_of
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
    LEFT JOIN LATERAL (SELECT x.service_id, x.team_id FROM lens.incident_fact x
                       WHERE x.incident_id = it.incident_id AND dimensions && ARRAY['service', 'team']) f ON true
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

CREATE FUNCTION lens.open_overdue_action_items(as_of timestamptz DEFAULT now(), tz text DEFAULT lens.default_timezone())
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
           x.completed_at, x.incident_id, x.postmortem_id, x.html_url
    FROM public.action_items x
    WHERE (x.completed_at IS NULL OR lower(x.status_category) <> 'done')
      AND x.due_date < (as_of AT TIME ZONE tz)::date + 1
    UNION ALL
    SELECT x.id, x.external_id, x.title, x.owner, x.status, x.status_category, x.due_date, x.created_at,
           x.completed_at, x.incident_id, x.postmortem_id, x.html_url
    FROM public.action_items x
    WHERE x.completed_at > as_of AND lower(x.status_category) = 'done'
      AND x.due_date < (as_of AT TIME ZONE tz)::date + 1
  ) a
  CROSS JOIN LATERAL (SELECT lens.due_deadline(a.due_date, tz) AS at) deadline
  CROSS JOIN LATERAL lens.action_item_state(deadline.at, a.status_category, a.completed_at, as_of) v
  LEFT JOIN LATERAL (SELECT x.id, x.external_id, x.title, x.html_url, x.incident_id FROM public.postmortems x
                     WHERE x.id = a.postmortem_id) pm ON true
  LEFT JOIN public.incidents i ON i.id = coalesce(a.incident_id, pm.incident_id)
  LEFT JOIN public.services sv ON sv.id = i.service_id
  LEFT JOIN public.teams tm ON tm.id = i.team_id
  WHERE v.is_overdue AND a.created_at <= as_of
  ORDER BY deadline.at, a.id;
END;

-- Facts for the incidents already stored when this migration runs.
SELECT lens.refresh_incident_facts(ARRAY(SELECT id FROM public.incidents));

-- Readers get USAGE on this schema; the functions that write stay the owner's.
REVOKE EXECUTE ON FUNCTION lens.refresh_incident_facts(bigint[]), lens.record_fact_change(timestamptz[]),
  lens.record_change_everywhere(), lens.compact_rollups(), lens.on_incidents_changed(),
  lens.on_incident_detail_changed(), lens.on_policy_changed() FROM PUBLIC;

-- Estimates for "not done": without them PostgreSQL takes nearly every item
-- for open and hashes whole tables to list a few hundred.
CREATE STATISTICS action_items_status_category_stats ON (lower(status_category)) FROM public.action_items;
ANALYZE public.action_items;
