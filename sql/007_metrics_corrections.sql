-- Corrections to the metric functions of 005 (migrations are append-only).

-- Root cause keys as the Jira mapper writes them (normaliseRootCause): no
-- leading or trailing '-', so 'Bad deploy!' and 'bad deploy' are one cause.
CREATE OR REPLACE FUNCTION lens.root_cause_slug(raw text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN nullif(btrim(regexp_replace(lower(btrim(raw, E' \t\r\n')), '[^a-z0-9]+', '-', 'g'), '-'), '');

-- An incident whose root cause key is removed no longer keeps the previous
-- incident of its former cause.
-- Brings the facts of the given incidents up to date with the core tables,
-- relinks the repeat chain of every root cause whose chain they change, and
-- records the instants that changed.
CREATE OR REPLACE FUNCTION lens.refresh_incident_facts(incident_ids bigint[]) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  changed_at timestamptz[];
  chain_cause text[];
  chain_since timestamptz[];
  relinked_at timestamptz[];
BEGIN
  IF coalesce(cardinality(incident_ids), 0) = 0 THEN
    RETURN;
  END IF;

  WITH wanted AS (
    SELECT DISTINCT t.id FROM unnest(incident_ids) AS t(id) WHERE t.id IS NOT NULL
  ),
  desired AS (
    SELECT i.id AS incident_id, i.created_at, i.severity, i.service_id, i.team_id, i.merged,
           i.acknowledged_at, i.resolved_at, i.detected_at,
           coalesce(escalation.first_at, CASE WHEN i.escalated THEN i.created_at END) AS escalated_at,
           postmortem.completed_at AS postmortem_completed_at,
           coalesce(postmortem_cause.key, lens.root_cause_slug(i.root_cause_key)) AS root_cause_key
    FROM wanted
    JOIN public.incidents i ON i.id = wanted.id
    LEFT JOIN LATERAL (
      SELECT min(e.occurred_at) AS first_at FROM public.incident_events e
      WHERE e.incident_id = i.id AND e.type = 'escalate') escalation ON true
    LEFT JOIN LATERAL (
      SELECT min(p.completed_at) FILTER (WHERE lower(p.status_category) = 'done') AS completed_at
      FROM public.postmortems p WHERE p.incident_id = i.id) postmortem ON true
    LEFT JOIN LATERAL (
      SELECT lens.root_cause_slug(p.root_cause_key) AS key FROM public.postmortems p
      WHERE p.incident_id = i.id AND lens.root_cause_slug(p.root_cause_key) IS NOT NULL
      ORDER BY p.created_at DESC, p.id DESC LIMIT 1) postmortem_cause ON true
  ),
  before AS (
    SELECT f.* FROM lens.incident_fact f JOIN wanted ON wanted.id = f.incident_id
  ),
  removed AS (
    DELETE FROM lens.incident_fact f USING wanted
    WHERE f.incident_id = wanted.id AND NOT EXISTS (SELECT 1 FROM desired d WHERE d.incident_id = f.incident_id)
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
    SELECT t.root_cause_key AS cause, min(t.created_at) AS since FROM touched t
    WHERE t.chain AND t.root_cause_key IS NOT NULL GROUP BY t.root_cause_key
  )
  SELECT (SELECT array_agg(t.created_at) FROM touched t),
         (SELECT array_agg(c.cause ORDER BY c.cause) FROM chain_start c),
         (SELECT array_agg(c.since ORDER BY c.cause) FROM chain_start c)
  INTO changed_at, chain_cause, chain_since;

  IF changed_at IS NULL THEN
    RETURN;
  END IF;

  -- A second statement, so that it reads the facts written above: every
  -- incident of a touched cause, from the earliest touched instant on, gets
  -- the latest earlier unmerged incident of its cause.
  IF chain_cause IS NOT NULL THEN
    WITH chain_start AS (
      SELECT s.cause, s.since FROM unnest(chain_cause, chain_since) AS s(cause, since)
    ),
    chain AS (
      SELECT f.incident_id, f.created_at, cs.since,
             max(f.created_at) FILTER (WHERE NOT f.merged) OVER (
               PARTITION BY f.root_cause_key ORDER BY f.created_at
               RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE GROUP) AS previous_at
      FROM chain_start cs
      JOIN lens.incident_fact f ON f.root_cause_key = cs.cause
      WHERE f.created_at >= coalesce(
        (SELECT max(g.created_at) FROM lens.incident_fact g
         WHERE g.root_cause_key = cs.cause AND g.created_at < cs.since AND NOT g.merged), '-infinity')
    ),
    relinked AS (
      UPDATE lens.incident_fact f SET previous_same_cause_at = chain.previous_at
      FROM chain
      WHERE f.incident_id = chain.incident_id AND chain.created_at >= chain.since
        AND f.previous_same_cause_at IS DISTINCT FROM chain.previous_at
      RETURNING f.created_at
    )
    SELECT array_agg(relinked.created_at) INTO relinked_at FROM relinked;
  END IF;

  PERFORM lens.record_fact_change(changed_at || coalesce(relinked_at, '{}'));
END $$;

UPDATE lens.incident_fact SET previous_same_cause_at = NULL
WHERE root_cause_key IS NULL AND previous_same_cause_at IS NOT NULL;

-- A month is stepped by a month, not by the length of the first one.
CREATE OR REPLACE FUNCTION lens.periods(granularity text, range_start timestamptz, range_end timestamptz, tz text)
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

-- is_repeat is false, not NULL, for an incident with no earlier one of its cause.
CREATE OR REPLACE FUNCTION lens.incident_outcomes(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text)
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
                 AND f.previous_same_cause_at >= f.created_at - s.repeat_window, false) AS is_repeat,
        f.created_at AT TIME ZONE tz AS local_created,
        greatest(f.created_at, f.acknowledged_at, f.resolved_at, f.escalated_at, f.postmortem_completed_at,
                 f.created_at + p.ack_target, f.created_at + p.resolve_target,
                 f.resolved_at + p.postmortem_due) AS settled_at
      FROM lens.incident_fact f
      -- Targets as intervals once per query, not once per row.
      CROSS JOIN (SELECT lens.seconds(st.repeat_window_days * 86400.0) AS repeat_window FROM lens.settings st) s
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

-- Facts with the new key normalisation.
SELECT lens.refresh_incident_facts(ARRAY(
  SELECT i.id FROM public.incidents i
  WHERE i.root_cause_key IS NOT NULL
     OR EXISTS (SELECT 1 FROM public.postmortems p WHERE p.incident_id = i.id AND p.root_cause_key IS NOT NULL)));
