-- What the report command, the Grafana pages and the alert rules read about
-- incidents. Conventions: every function takes the instant `as_of` (nothing
-- after it has happened yet) and an IANA zone `tz`; durations are seconds;
-- rates are fractions, NULL when their denominator is 0.

-- Incident figures of [range_start, range_end), per bucket and dimension
-- (total, severity, service, team). Grafana: WHERE dimension = 'total' for
-- headline figures, granularity 'day' | 'week' | 'month' for time series.
-- A range that is not whole periods is summed from the cached years, months,
-- weeks and days it contains (lens.range_figures). `account`: one account's incidents
-- (the caches hold all accounts', so they are not read then). A panel that
-- shows no median or p90/p95 passes `percentiles => false`: they may then be
-- NULL, and the durations of a long range are not sorted for nothing.
CREATE FUNCTION lens.metrics(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                             granularity text DEFAULT NULL,
                             dimensions text[] DEFAULT ARRAY['total', 'severity', 'service', 'team'],
                             account text DEFAULT NULL, percentiles boolean DEFAULT true)
RETURNS SETOF lens.incident_metrics
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
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
  -- A whole period the cache holds: one index lookup per bucket (the caches hold every account's).
  -- OFFSET 0 keeps it one: flattened, PostgreSQL may check every cached day of the zone instead.
  LEFT JOIN LATERAL (
    SELECT c.figures FROM lens.cached_periods(granularity, b.bucket_start, b.bucket_end, as_of, tz) c
    WHERE b.whole AND account IS NULL OFFSET 0) hit ON true
  CROSS JOIN LATERAL unnest(
    CASE WHEN account IS NOT NULL
         THEN (SELECT c.figures FROM lens.compute_figures(b.bucket_start, b.bucket_end, as_of, tz, dimensions,
                                                          account, percentiles) c)
         WHEN hit.figures IS NOT NULL THEN hit.figures
         ELSE lens.range_figures(b.bucket_start, b.bucket_end, as_of, tz, dimensions, percentiles) END) f
  LEFT JOIN public.services sv ON f.dimension = 'service' AND sv.id::text = f.dimension_key
  LEFT JOIN public.teams tm ON f.dimension = 'team' AND tm.id::text = f.dimension_key
  WHERE f.dimension = ANY (dimensions)
  ORDER BY b.bucket_start, array_position(ARRAY['total', 'severity', 'service', 'team'], f.dimension),
           f.dimension_key;
END;

-- The period of `granularity` containing the local day `day`.
CREATE FUNCTION lens.period_metrics(granularity text, day date, as_of timestamptz, tz text,
                                    dimensions text[] DEFAULT ARRAY['total', 'severity', 'service', 'team'],
                                    account text DEFAULT NULL)
RETURNS SETOF lens.incident_metrics
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT m.* FROM lens.period_bounds(granularity, day, tz) p
  CROSS JOIN LATERAL lens.metrics(p.period_start, p.period_end, as_of, tz, granularity, dimensions, account) m;
END;

-- The `periods` periods ending with the one containing `day` (trend charts).
CREATE FUNCTION lens.trend(granularity text, day date, as_of timestamptz, tz text, periods integer DEFAULT 12,
                           dimensions text[] DEFAULT ARRAY['total'], account text DEFAULT NULL)
RETURNS SETOF lens.incident_metrics
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT m.* FROM (SELECT min(r.period_start) AS range_start, max(r.period_end) AS range_end
                   FROM lens.recent_periods(granularity, day, tz, periods) r) span
  CROSS JOIN LATERAL lens.metrics(span.range_start, span.range_end, as_of, tz, granularity, dimensions, account) m
  WHERE span.range_start IS NOT NULL;
END;

CREATE FUNCTION lens.incident_facts(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                    account text DEFAULT NULL)
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
  html_url text, jira_issue_key text, jira_url text,
  -- The account (`sources:` name) the incident was synced from.
  source_name text
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
    i.html_url, i.jira_issue_key, i.jira_url, src.name
  FROM lens.incident_outcomes(range_start, range_end, as_of, tz, account) o
  -- The range again on incidents: PostgreSQL then reads the range's rows by
  -- index instead of hashing the whole table.
  JOIN public.incidents i ON i.id = o.incident_id AND i.created_at >= range_start AND i.created_at < range_end
  JOIN public.sources src ON src.id = i.source_id
  LEFT JOIN public.services sv ON sv.id = o.service_id
  LEFT JOIN public.teams tm ON tm.id = o.team_id
  LEFT JOIN LATERAL (
    SELECT p.external_id, p.html_url
    FROM public.postmortem_incidents l JOIN public.postmortems p ON p.id = l.postmortem_id
    WHERE l.incident_id = o.incident_id AND p.removed_at IS NULL ORDER BY p.created_at, p.id LIMIT 1) pm ON true
  ORDER BY o.created_at, o.incident_id;
END;

-- Root causes with at least one repeat among the range's incidents, most
-- repeats first (docs/metrics.md §8).
CREATE FUNCTION lens.repeat_root_causes(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                        account text DEFAULT NULL)
RETURNS TABLE (root_cause text, incidents integer, repeats integer, incident_external_ids text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT keyed.root_cause_key, keyed.incidents, keyed.repeats,
    ARRAY(SELECT i.external_id FROM public.incidents i WHERE i.id = ANY (keyed.incident_ids)
          ORDER BY i.created_at, i.external_id)
  FROM (
    SELECT o.root_cause_key, count(*)::integer AS incidents, count(*) FILTER (WHERE o.is_repeat)::integer AS repeats,
           array_agg(o.incident_id) AS incident_ids
    FROM lens.incident_outcomes(range_start, range_end, as_of, tz, account, only_with_cause => true) o
    WHERE NOT o.merged AND o.root_cause_key IS NOT NULL
    GROUP BY o.root_cause_key
    HAVING count(*) FILTER (WHERE o.is_repeat) > 0
  ) keyed
  ORDER BY keyed.repeats DESC, keyed.incidents DESC, keyed.root_cause_key;
END;
