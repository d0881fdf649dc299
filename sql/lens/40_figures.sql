-- Per-incident outcomes and the aggregate figures of a range (docs/metrics.md
-- 3-8), computed from lens.incident_fact and the policy.

-- Each incident of [range_start, range_end) as of an instant: what had
-- happened by as_of, its SLA outcomes, and whether it repeats a cause.
-- With `account`, only that account's incidents, and a repeat is one of
-- an earlier incident of the same account (docs/metrics.md §13). A caller
-- that needs only one severity, or only incidents with a root cause, says
-- so, and the others are skipped before anything is computed for them.
CREATE FUNCTION lens.incident_outcomes(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                       account text DEFAULT NULL, only_severity text DEFAULT NULL,
                                       only_with_cause boolean DEFAULT false)
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
  -- The earlier of ack and resolve: the runbooks' response (docs/metrics.md §5).
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
  settled_at               timestamptz,
  -- Within [last_change_at, next_change_at) nothing about the incident
  -- changes with as_of: the instants (creation, acknowledgement, resolution,
  -- escalation, post-mortem, deadlines) on either side of as_of; NULL: none.
  last_change_at           timestamptz,
  next_change_at           timestamptz
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
    r.settled_at,
    greatest(r.created_at, r.acknowledged_at, r.resolved_at, r.postmortem_completed_at,
             CASE WHEN r.escalated THEN r.escalated_at END,
             CASE WHEN r.ack_deadline <= as_of THEN r.ack_deadline END,
             CASE WHEN r.resolve_deadline <= as_of THEN r.resolve_deadline END,
             CASE WHEN r.postmortem_deadline <= as_of THEN r.postmortem_deadline END),
    CASE WHEN r.settled_at > as_of THEN
      least(CASE WHEN r.raw_acknowledged_at > as_of THEN r.raw_acknowledged_at END,
            CASE WHEN r.raw_resolved_at > as_of THEN r.raw_resolved_at END,
            CASE WHEN r.escalated_at > as_of THEN r.escalated_at END,
            CASE WHEN r.raw_postmortem_completed_at > as_of THEN r.raw_postmortem_completed_at END,
            -- A deadline changes an outcome only while it is still open: once
            -- acknowledged, resolved or written up by as_of, it is settled.
            CASE WHEN r.ack_deadline > as_of AND r.first_response_at IS NULL THEN r.ack_deadline END,
            CASE WHEN r.resolve_deadline > as_of AND r.resolved_at IS NULL THEN r.resolve_deadline END,
            CASE WHEN r.raw_resolved_at + r.postmortem_due > as_of AND r.postmortem_completed_at IS NULL
                 THEN r.raw_resolved_at + r.postmortem_due END) END
  FROM (
    SELECT seen.*,
      least(seen.acknowledged_at, seen.resolved_at) AS first_response_at,
      seen.resolved_at + seen.postmortem_due AS postmortem_deadline
    FROM (
      SELECT f.incident_id, f.created_at, f.severity, f.service_id, f.team_id, f.merged,
        CASE WHEN f.acknowledged_at <= as_of THEN f.acknowledged_at END AS acknowledged_at,
        CASE WHEN f.resolved_at <= as_of THEN f.resolved_at END AS resolved_at,
        CASE WHEN f.postmortem_completed_at <= as_of THEN f.postmortem_completed_at END AS postmortem_completed_at,
        f.acknowledged_at AS raw_acknowledged_at, f.resolved_at AS raw_resolved_at,
        f.postmortem_completed_at AS raw_postmortem_completed_at, f.escalated_at,
        coalesce(f.escalated_at <= as_of, false) AS escalated,
        CASE WHEN f.detected_at <= f.created_at THEN lens.seconds_between(f.created_at, f.detected_at) END AS ttd_seconds,
        f.created_at + p.ack_target AS ack_deadline,
        f.created_at + p.resolve_target AS resolve_deadline,
        p.postmortem_due,
        p.postmortem_due IS NOT NULL AS postmortem_required,
        f.root_cause_key,
        coalesce(f.root_cause_key IS NOT NULL AND NOT f.merged
                 AND CASE WHEN account IS NULL THEN f.previous_same_cause_at
                          ELSE (SELECT max(g.created_at) FROM lens.incident_fact g
                                WHERE g.source_id = f.source_id AND g.root_cause_key = f.root_cause_key
                                  AND g.created_at < f.created_at AND NOT g.merged) END
                     >= f.created_at - (
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
        AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)))
        AND (only_severity IS NULL OR f.severity = only_severity)
        AND (NOT only_with_cause OR f.root_cause_key IS NOT NULL)
      OFFSET 0
    ) seen
    OFFSET 0
  ) r;
END;

-- The rates of a row of figures from its counts: one definition for the
-- figures computed from incidents and for those summed from cached periods.
-- `dimension_incidents`: the incidents of every group of the row's dimension.
CREATE FUNCTION lens.with_rates(m lens.incident_metrics, dimension_incidents bigint) RETURNS lens.incident_metrics
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  m.share := m.incidents::double precision / nullif(dimension_incidents, 0);
  m.unacknowledged := m.incidents - m.mtta_count;
  m.ack_compliance := m.ack_met::double precision / nullif(m.ack_met + m.ack_breached, 0);
  m.resolve_compliance := m.resolve_met::double precision / nullif(m.resolve_met + m.resolve_breached, 0);
  m.escalation_rate := m.escalated::double precision / nullif(m.incidents, 0);
  m.repeat_rate := m.repeat_incidents::double precision / nullif(m.root_cause_incidents, 0);
  RETURN m;
END $$;

-- The durations of the range's incidents (not merged) as of an instant, with
-- their bins (sql/019_duration_bins.sql), masked as lens.incident_outcomes
-- masks them, read without the rest of an incident's outcomes: what
-- percentiles are sorted or placed from. `account`: one account's.
CREATE FUNCTION lens.masked_durations(range_start timestamptz, range_end timestamptz, as_of timestamptz,
                                      account text DEFAULT NULL)
RETURNS TABLE (severity text, service_id bigint, team_id bigint, tta_seconds double precision,
               ttr_seconds double precision, ttd_seconds double precision, tta_bin smallint, ttr_bin smallint,
               ttd_bin smallint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT f.severity, f.service_id, f.team_id,
    CASE WHEN f.acknowledged_at <= as_of THEN lens.seconds_between(f.acknowledged_at, f.created_at) END,
    CASE WHEN f.resolved_at <= as_of THEN lens.seconds_between(f.resolved_at, f.created_at) END,
    CASE WHEN f.detected_at <= f.created_at THEN lens.seconds_between(f.created_at, f.detected_at) END,
    CASE WHEN f.acknowledged_at <= as_of THEN f.tta_bin END,
    CASE WHEN f.resolved_at <= as_of THEN f.ttr_bin END,
    f.ttd_bin
  FROM lens.incident_fact f
  WHERE f.created_at >= range_start AND f.created_at < range_end AND f.created_at <= as_of AND NOT f.merged
    AND (account IS NULL OR f.source_id = (SELECT lens.account_id(account)));
END;

-- The duration figures (docs/metrics.md §3) of the range's incidents as of an
-- instant, per requested dimension: how many durations of each kind, with
-- `percentiles` their median, p90 and p95, and with `sums` their exact sum in
-- seconds (each NULL without; a caller that adds cached sums skips them).
-- Sums add whole microseconds (lens.whole_micros) and carry six decimals
-- whatever their size, so a mean divides the same digits whether its sum was
-- taken at once or from cached pieces. One branch per dimension, each grouped
-- by its own column: a branch not asked for is skipped, and sorting by one
-- column costs half of expanding every row into one per dimension and sorting
-- by dimension and key.
CREATE FUNCTION lens.duration_figures(range_start timestamptz, range_end timestamptz, as_of timestamptz,
                                      dimensions text[], percentiles boolean DEFAULT true, account text DEFAULT NULL,
                                      sums boolean DEFAULT true)
RETURNS TABLE (dimension text, dimension_key text,
               mtta_count integer, mtta_sum numeric, mtta_p double precision[],
               mttr_count integer, mttr_sum numeric, mttr_p double precision[],
               mttd_count integer, mttd_sum numeric, mttd_p double precision[])
LANGUAGE sql STABLE PARALLEL SAFE
-- Sorting the durations of months stays in memory.
SET work_mem = '64MB'
-- Planned for the range of each call: a generic plan walks a month's rows by
-- index, four times slower than the bitmap scan a custom plan picks.
SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  WITH d AS MATERIALIZED (
    SELECT m.severity, m.service_id, m.team_id, m.tta_seconds AS tta, m.ttr_seconds AS ttr, m.ttd_seconds AS ttd
    FROM lens.masked_durations(range_start, range_end, as_of, account) m
  )
  SELECT 'total', NULL,
    count(d.tta)::integer, sum(lens.whole_micros(d.tta)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.tta) FILTER (WHERE percentiles),
    count(d.ttr)::integer, sum(lens.whole_micros(d.ttr)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.ttr) FILTER (WHERE percentiles),
    count(d.ttd)::integer, sum(lens.whole_micros(d.ttd)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.ttd) FILTER (WHERE percentiles)
  FROM d WHERE 'total' = ANY (dimensions)
  -- An aggregate without GROUP BY gives a row even when WHERE keeps none.
  HAVING 'total' = ANY (dimensions)
  UNION ALL
  SELECT 'severity', d.severity,
    count(d.tta)::integer, sum(lens.whole_micros(d.tta)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.tta) FILTER (WHERE percentiles),
    count(d.ttr)::integer, sum(lens.whole_micros(d.ttr)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.ttr) FILTER (WHERE percentiles),
    count(d.ttd)::integer, sum(lens.whole_micros(d.ttd)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.ttd) FILTER (WHERE percentiles)
  FROM d WHERE 'severity' = ANY (dimensions) GROUP BY d.severity
  UNION ALL
  SELECT 'service', d.service_id::text,
    count(d.tta)::integer, sum(lens.whole_micros(d.tta)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.tta) FILTER (WHERE percentiles),
    count(d.ttr)::integer, sum(lens.whole_micros(d.ttr)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.ttr) FILTER (WHERE percentiles),
    count(d.ttd)::integer, sum(lens.whole_micros(d.ttd)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.ttd) FILTER (WHERE percentiles)
  FROM d WHERE 'service' = ANY (dimensions) GROUP BY d.service_id
  UNION ALL
  SELECT 'team', d.team_id::text,
    count(d.tta)::integer, sum(lens.whole_micros(d.tta)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.tta) FILTER (WHERE percentiles),
    count(d.ttr)::integer, sum(lens.whole_micros(d.ttr)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.ttr) FILTER (WHERE percentiles),
    count(d.ttd)::integer, sum(lens.whole_micros(d.ttd)) FILTER (WHERE sums) * 0.000001,
      percentile_cont(ARRAY[0.5, 0.9, 0.95]) WITHIN GROUP (ORDER BY d.ttd) FILTER (WHERE percentiles)
  FROM d WHERE 'team' = ANY (dimensions) GROUP BY d.team_id;
END;

-- The figures of the incidents created in [range_start, range_end) for the
-- requested dimensions, in one pass; the interval of as_of over which they
-- hold, [stable_from, valid_until) (from the period's end at the earliest);
-- and the exact sums behind the means. The total row, and with 'severity'
-- one row per severity, exist even when no incident does. `account`: one
-- account's.
CREATE FUNCTION lens.compute_figures(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                     dimensions text[] DEFAULT ARRAY['total', 'severity', 'service', 'team'],
                                     account text DEFAULT NULL, percentiles boolean DEFAULT true)
RETURNS TABLE (stable_from timestamptz, figures lens.incident_metrics[], valid_until timestamptz,
               sums lens.duration_sums[])
LANGUAGE sql STABLE PARALLEL SAFE
-- Grouping a year of outcomes stays in memory.
SET work_mem = '32MB'
BEGIN ATOMIC
  WITH outcome AS MATERIALIZED (
    SELECT o.severity, o.service_id, o.team_id, o.merged, o.is_open, o.escalated, o.tta_seconds, o.ttr_seconds,
           o.ttd_seconds, o.ack_outcome, o.resolve_outcome, o.postmortem_required, o.postmortem_outcome,
           o.root_cause_key, o.is_repeat, o.business_hours, o.last_change_at, o.next_change_at
    FROM lens.incident_outcomes(range_start, range_end, as_of, tz, account) o
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
  timed AS (
    SELECT t.* FROM lens.duration_figures(range_start, range_end, as_of, dimensions, percentiles, account) t
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
      coalesce(t.mtta_count, 0)::integer AS mtta_count, t.mtta_sum, t.mtta_p,
      (t.mtta_sum / t.mtta_count)::double precision AS mtta_mean,
      coalesce(t.mttr_count, 0)::integer AS mttr_count, t.mttr_sum, t.mttr_p,
      (t.mttr_sum / t.mttr_count)::double precision AS mttr_mean,
      coalesce(t.mttd_count, 0)::integer AS mttd_count, t.mttd_sum, t.mttd_p,
      (t.mttd_sum / t.mttd_count)::double precision AS mttd_mean
    FROM counted c
    LEFT JOIN timed t ON t.dimension = c.dimension AND coalesce(t.dimension_key, '') = coalesce(c.dimension_key, '')
    WHERE c.dimension = ANY (dimensions) AND (c.dimension IN ('total', 'severity') OR c.rows_counted > 0)
  )
  SELECT greatest(range_end, (SELECT max(o.last_change_at) FROM outcome o)),
    coalesce(array_agg(lens.with_rates(ROW(
      range_start, range_end, NULL, g.dimension, g.dimension_key, NULL, g.incidents, NULL,
      g.merged, g.open, g.unknown, g.sev1, g.sev2, g.sev3, g.sev4, g.unknown,
      g.mtta_count, NULL, g.mtta_mean, g.mtta_p[1], g.mtta_p[2], g.mtta_p[3],
      g.mttr_count, g.mttr_mean, g.mttr_p[1], g.mttr_p[2], g.mttr_p[3],
      g.ack_met, g.ack_breached, g.ack_pending, NULL, g.resolve_met, g.resolve_breached, g.resolve_pending, NULL,
      g.pm_required, g.pm_completed, g.pm_on_time, g.pm_overdue, g.escalated, NULL, g.business_hours, g.off_hours,
      g.mttd_count, g.mttd_mean, g.mttd_p[1], g.mttd_p[2], g.mttd_p[3], g.root_cause_incidents, g.repeat_incidents, NULL
    )::lens.incident_metrics, g.dimension_incidents)
    ORDER BY array_position(ARRAY['total', 'severity', 'service', 'team'], g.dimension), g.dimension_key), '{}'),
    coalesce((SELECT min(o.next_change_at) FROM outcome o), 'infinity'),
    coalesce(array_agg(ROW(g.dimension, g.dimension_key, g.mtta_sum, g.mttr_sum, g.mttd_sum)::lens.duration_sums), '{}')
  -- Every incident is in exactly one group of a dimension: the groups' sum is the period's count.
  FROM (SELECT grouped.*, sum(grouped.incidents) OVER (PARTITION BY grouped.dimension) AS dimension_incidents
        FROM grouped) g;
END;
