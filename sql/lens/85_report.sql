-- The report of one period as one JSON value (README.md, "Report JSON",
-- plus the extra fields the README documents). `incident-lens report
-- --format json` prints it, the Markdown and HTML reports lay it out and the
-- plugin's Reports page shows it: the shape exists here only. Each section is
-- one function over the figures of lens.metrics and its siblings, so a new
-- section is one function and one line in lens.report.
-- The sections are STABLE, as jsonb_build_object is: PostgreSQL inlines a
-- one-expression function only when it is labelled no stricter than its body.

-- Duration figures (docs/metrics.md §3): seconds, not rounded.
CREATE FUNCTION lens.report_durations(count integer, mean double precision, median double precision,
                                      p90 double precision, p95 double precision) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object('count', count, 'meanSeconds', mean, 'medianSeconds', median,
                          'p90Seconds', p90, 'p95Seconds', p95);

CREATE FUNCTION lens.report_mtta(m lens.incident_metrics) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lens.report_durations(m.mtta_count, m.mtta_mean_seconds, m.mtta_median_seconds, m.mtta_p90_seconds,
                             m.mtta_p95_seconds)
       || jsonb_build_object('unacknowledged', m.unacknowledged);

CREATE FUNCTION lens.report_mttr(m lens.incident_metrics) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lens.report_durations(m.mttr_count, m.mttr_mean_seconds, m.mttr_median_seconds, m.mttr_p90_seconds,
                             m.mttr_p95_seconds);

CREATE FUNCTION lens.report_mttd(m lens.incident_metrics) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN lens.report_durations(m.mttd_count, m.mttd_mean_seconds, m.mttd_median_seconds, m.mttd_p90_seconds,
                             m.mttd_p95_seconds);

-- SLA outcomes (docs/metrics.md §5) of acknowledgement and resolution.
CREATE FUNCTION lens.report_sla(m lens.incident_metrics) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
  'ack', jsonb_build_object('met', m.ack_met, 'breached', m.ack_breached, 'pending', m.ack_pending,
                            'compliance', m.ack_compliance),
  'resolve', jsonb_build_object('met', m.resolve_met, 'breached', m.resolve_breached, 'pending', m.resolve_pending,
                                'compliance', m.resolve_compliance));

CREATE FUNCTION lens.report_postmortems(m lens.incident_metrics) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object('required', m.postmortems_required, 'completed', m.postmortems_completed,
                          'completedOnTime', m.postmortems_completed_on_time, 'overdue', m.postmortems_overdue);

CREATE FUNCTION lens.report_incident_counts(m lens.incident_metrics) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object('total', m.incidents, 'open', m.open, 'merged', m.merged, 'unclassified', m.unclassified);

-- Action item figures (docs/metrics.md §7); a period or group without items has zeros.
CREATE FUNCTION lens.report_action_items(total integer, completed integer, completed_on_time integer, open integer,
                                         overdue integer, completion_rate double precision,
                                         on_time_rate double precision, no_due_date integer) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object('total', coalesce(total, 0), 'completed', coalesce(completed, 0),
                          'completedOnTime', coalesce(completed_on_time, 0), 'open', coalesce(open, 0),
                          'overdue', coalesce(overdue, 0), 'completionRate', completion_rate,
                          'onTimeRate', on_time_rate, 'noDueDate', coalesce(no_due_date, 0));

-- The action item figures of a range per bucket and dimension, as JSON.
CREATE FUNCTION lens.report_action_item_figures(range_start timestamptz, range_end timestamptz, as_of timestamptz,
                                                tz text, granularity text, account text DEFAULT NULL)
RETURNS TABLE (period_start timestamptz, dimension text, dimension_key text, figures jsonb)
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT a.period_start, a.dimension, a.dimension_key,
    lens.report_action_items(a.total, a.completed, a.completed_on_time, a.open, a.overdue, a.completion_rate,
                             a.on_time_rate, a.no_due_date)
  FROM lens.action_item_metrics(range_start, range_end, as_of, tz, granularity, ARRAY['total', 'service', 'team'],
                                account) a;
END;

-- The headline of a period: what the previous period and the trend show.
CREATE FUNCTION lens.report_headline(m lens.incident_metrics, tz text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object(
  'label', m.period_label, 'start', lens.iso_local(m.period_start, tz), 'end', lens.iso_local(m.period_end, tz),
  'incidents', lens.report_incident_counts(m), 'mtta', lens.report_mtta(m), 'mttr', lens.report_mttr(m),
  'sla', lens.report_sla(m), 'postmortems', lens.report_postmortems(m),
  'escalationRate', m.escalation_rate, 'repeatRate', m.repeat_rate);

-- An instant as ISO 8601 UTC, with milliseconds only when there are some.
CREATE FUNCTION lens.iso_utc(instant timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
RETURN to_char(instant AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
       || CASE WHEN date_trunc('second', instant) = instant THEN '' ELSE to_char(instant AT TIME ZONE 'UTC', '.MS') END
       || 'Z';

CREATE FUNCTION lens.report_period(granularity text, period_start timestamptz, period_end timestamptz,
                                   period_label text, as_of timestamptz, tz text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object('granularity', granularity, 'start', lens.iso_local(period_start, tz),
                          'end', lens.iso_local(period_end, tz), 'timezone', tz, 'asOf', lens.iso_utc(as_of),
                          'label', period_label);

-- Incident counts per severity, every severity present.
CREATE FUNCTION lens.report_incidents(figures lens.incident_metrics[]) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT lens.report_incident_counts(t)
         || jsonb_build_object('bySeverity', (SELECT jsonb_object_agg(s.dimension_key, s.incidents)
                                              FROM unnest(figures) s WHERE s.dimension = 'severity'))
  FROM unnest(figures) t WHERE t.dimension = 'total';
END;

-- SLA outcomes per severity with a target (UNKNOWN has none).
CREATE FUNCTION lens.report_sla_by_severity(figures lens.incident_metrics[]) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT jsonb_object_agg(s.dimension_key, lens.report_sla(s))
  FROM unnest(figures) s WHERE s.dimension = 'severity' AND s.dimension_key <> 'UNKNOWN';
END;

CREATE FUNCTION lens.report_by_severity(figures lens.incident_metrics[]) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT jsonb_object_agg(s.dimension_key, jsonb_build_object('count', s.incidents, 'share', s.share,
                                                              'mtta', lens.report_mtta(s), 'mttr', lens.report_mttr(s)))
  FROM unnest(figures) s WHERE s.dimension = 'severity';
END;

-- The services or teams of the period, most incidents first, each with its
-- action items (zeros when it has none).
CREATE FUNCTION lens.report_by_dimension(dimension text, figures lens.incident_metrics[], items jsonb) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT coalesce(jsonb_agg(jsonb_build_object(
      'key', d.dimension_key, 'name', d.dimension_label, 'incidents', d.incidents, 'share', d.share, 'open', d.open,
      'mtta', lens.report_mtta(d), 'mttr', lens.report_mttr(d), 'sla', lens.report_sla(d),
      'postmortems', lens.report_postmortems(d),
      'actionItems', coalesce(items -> coalesce(d.dimension_key, ''),
                              lens.report_action_items(0, 0, 0, 0, 0, NULL, NULL, 0)),
      'escalationRate', d.escalation_rate, 'repeatRate', d.repeat_rate)
    ORDER BY d.incidents DESC, d.dimension_label COLLATE "und-x-icu", d.dimension_key), '[]')
  FROM unnest(figures) d WHERE d.dimension = report_by_dimension.dimension;
END;

-- Root causes with repeats (docs/metrics.md §8), most repeats first.
CREATE FUNCTION lens.report_repeat_root_causes(range_start timestamptz, range_end timestamptz, as_of timestamptz,
                                               tz text, account text DEFAULT NULL) RETURNS jsonb
LANGUAGE sql STABLE
BEGIN ATOMIC
  SELECT coalesce(jsonb_agg(jsonb_build_object('rootCause', r.root_cause, 'count', r.incidents, 'repeats', r.repeats,
                                               'incidents', to_jsonb(r.incident_external_ids)) ORDER BY r.n), '[]')
  FROM lens.repeat_root_causes(range_start, range_end, as_of, tz, account) WITH ORDINALITY
       r(root_cause, incidents, repeats, incident_external_ids, n);
END;

-- Every open overdue action item is counted (from the facts alone); the
-- `list_limit` oldest are listed, and only they are read in full.
CREATE FUNCTION lens.report_overdue_action_items(as_of timestamptz, tz text, list_limit integer, account text,
                                                 OUT total integer, OUT items jsonb)
LANGUAGE sql STABLE
-- Planned for the limit of each call, which decides how much is read.
SET plan_cache_mode = force_custom_plan
BEGIN ATOMIC
  SELECT (SELECT count(*)::integer FROM lens.overdue_action_items(as_of, tz, account)),
    coalesce((SELECT jsonb_agg(jsonb_build_object(
        'externalId', o.external_id, 'title', o.title, 'owner', o.owner, 'status', o.status, 'dueDate', o.due_date,
        'deadline', lens.iso_local(o.deadline, tz), 'overdueSeconds', o.overdue_seconds,
        'incident', o.incident_external_id, 'incidentTitle', o.incident_title,
        'postmortem', o.postmortem_external_id, 'service', o.service_name, 'team', o.team_name, 'url', o.html_url)
      ORDER BY o.deadline, o.external_id)
      FROM lens.open_overdue_action_items(as_of, tz, account, greatest(list_limit, 0)) o), '[]');
END;

-- The headline figures leadership quotes, as paths into the report, that
-- moved between a published report and a current one (1e-9 absorbs the
-- rounding of a rate or mean stored as JSON).
CREATE FUNCTION lens.report_revisions(published_report jsonb, current_report jsonb) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
  SELECT coalesce(jsonb_agg(jsonb_build_object('figure', h.figure, 'published', published_report #> h.path,
                                               'current', current_report #> h.path) ORDER BY h.n), '[]')
  FROM (VALUES (1, 'incidents', '{incidents,total}'::text[]),
               (2, 'open incidents', '{incidents,open}'),
               (3, 'MTTA mean (s)', '{mtta,meanSeconds}'),
               (4, 'MTTA median (s)', '{mtta,medianSeconds}'),
               (5, 'MTTR mean (s)', '{mttr,meanSeconds}'),
               (6, 'MTTR median (s)', '{mttr,medianSeconds}'),
               (7, 'ack SLA compliance', '{sla,ack,compliance}'),
               (8, 'resolve SLA compliance', '{sla,resolve,compliance}'),
               (9, 'post-mortems completed', '{postmortems,completed}'),
               (10, 'post-mortems overdue', '{postmortems,overdue}'),
               (11, 'action items completed', '{actionItems,completed}'),
               (12, 'action items overdue', '{actionItems,overdue}'),
               (13, 'repeat rate', '{repeatRate}'),
               (14, 'escalation rate', '{escalationRate}')) h(n, figure, path)
  WHERE NOT (published_report #> h.path IS NOT DISTINCT FROM current_report #> h.path
             OR (jsonb_typeof(published_report #> h.path) = 'number' AND jsonb_typeof(current_report #> h.path) = 'number'
                 AND abs((published_report #>> h.path)::numeric - (current_report #>> h.path)::numeric) < 1e-9));
END;

-- What reconciliations found since `published_at` among the records of
-- [range_start, range_end) (an incident created in it, an action item placed
-- in it by docs/metrics.md §7, a post-mortem of one of its incidents): a
-- deleted or relabelled action item, a moved issue, a priority changed after
-- the fact. The revision note names them; the figures alone cannot say why
-- they moved. A record is found under its current key (a later move).
CREATE FUNCTION lens.report_reconciled(published_at timestamptz, range_start timestamptz, range_end timestamptz,
                                       tz text)
RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT coalesce(jsonb_agg(jsonb_build_object(
      'source', s.name, 'kind', c.record_kind, 'record', c.record_key, 'field', c.field,
      'from', c.from_value, 'to', c.to_value,
      'foundAt', to_char(c.found_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
    ORDER BY c.found_at, c.id), '[]')
  FROM public.reconciliation_changes c
  JOIN public.sources s ON s.id = c.source_id
  CROSS JOIN LATERAL (
    SELECT coalesce((SELECT j.issue_key FROM public.jira_issues j
                     WHERE j.source_id = c.source_id AND j.issue_id = c.record_id AND j.kind = c.record_kind),
                    c.record_key) AS key) now_known
  WHERE c.found_at > published_at
    AND CASE c.record_kind
      WHEN 'incident' THEN EXISTS (
        SELECT 1 FROM public.incidents i
        WHERE i.source_id = c.source_id AND i.external_id = now_known.key
          AND i.created_at >= range_start AND i.created_at < range_end)
      WHEN 'action_item' THEN EXISTS (
        SELECT 1 FROM public.action_items a
        WHERE a.source_id = c.source_id AND a.external_id = now_known.key
          AND CASE WHEN a.due_date IS NULL THEN a.created_at >= range_start AND a.created_at < range_end
                   ELSE a.due_date >= (range_start AT TIME ZONE tz)::date AND a.due_date < (range_end AT TIME ZONE tz)::date
              END)
      ELSE EXISTS (
        SELECT 1 FROM public.postmortems p
        JOIN public.postmortem_incidents l ON l.postmortem_id = p.id
        JOIN public.incidents i ON i.id = l.incident_id
        WHERE p.source_id = c.source_id AND p.external_id = now_known.key
          AND i.created_at >= range_start AND i.created_at < range_end)
    END;
END;

-- {"published": ...} when the period of `live` was published (serve freezes
-- each closed month), else nothing: when, as of which instant, what late
-- data changed since, and what reconciliations found among its records.
CREATE FUNCTION lens.report_published(live jsonb) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT coalesce(
    (SELECT jsonb_build_object('published', jsonb_build_object(
              'publishedAt', to_char(p.published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
              'asOf', p.report #> '{period,asOf}',
              'revisions', lens.report_revisions(p.report, live),
              'reconciled', lens.report_reconciled(p.published_at, (live #>> '{period,start}')::timestamptz,
                                                   (live #>> '{period,end}')::timestamptz, live #>> '{period,timezone}')))
     FROM public.published_reports p
     WHERE p.granularity = live #>> '{period,granularity}' AND p.period_label = live #>> '{period,label}'
       AND p.timezone = live #>> '{period,timezone}'),
    '{}');
END;

-- The report of the period of `granularity` containing the local day `day`,
-- as of `as_of`, in zone `tz`; the trend covers `trend_periods` periods
-- ending with this one (0: none). It writes nothing, so a read-only
-- transaction (the reader role's) gets the same value as any other; run it
-- in one snapshot (it is one statement) and the figures add up. `account`
-- restricts every figure to the account of that name (docs/metrics.md,
-- "Accounts"); NULL: every account.
CREATE FUNCTION lens.report(granularity text, day date, as_of timestamptz, tz text,
                            trend_periods integer DEFAULT 12, overdue_limit integer DEFAULT 100,
                            account text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE
-- Doubles as their shortest exact text, whatever the session asks for.
SET extra_float_digits = 1
BEGIN ATOMIC
  WITH span AS (
    -- The trend's periods, at least this one and the one before; 1 is this one.
    SELECT p.period_start, p.period_end, p.period_label, row_number() OVER (ORDER BY p.period_start DESC) AS back
    FROM lens.recent_periods(report.granularity, report.day, report.tz, greatest(report.trend_periods, 2)) p
  ),
  this AS (SELECT s.* FROM span s WHERE s.back = 1),
  previous AS (SELECT s.* FROM span s WHERE s.back = 2),
  figures AS (
    SELECT array_agg(m) AS all_rows, (array_agg(m) FILTER (WHERE m.dimension = 'total'))[1] AS total
    FROM this t
    CROSS JOIN LATERAL lens.metrics(t.period_start, t.period_end, report.as_of, report.tz, report.granularity,
                                    ARRAY['total', 'severity', 'service', 'team'], report.account) m
  ),
  -- The periods before this one; this one's total is in `figures` already.
  headlines AS (
    SELECT m FROM (SELECT min(s.period_start) AS range_start FROM span s) r CROSS JOIN this t
    CROSS JOIN LATERAL lens.metrics(r.range_start, t.period_start, report.as_of, report.tz, report.granularity,
                                    ARRAY['total'], report.account) m
    UNION ALL
    SELECT f.total FROM figures f
  ),
  items AS (
    SELECT a.* FROM previous p CROSS JOIN this t
    CROSS JOIN LATERAL lens.report_action_item_figures(p.period_start, t.period_end, report.as_of, report.tz,
                                                       report.granularity, report.account) a
  ),
  this_items AS (
    SELECT i.dimension, jsonb_object_agg(coalesce(i.dimension_key, ''), i.figures) AS by_key
    FROM items i JOIN this t ON i.period_start = t.period_start
    GROUP BY i.dimension
  ),
  overdue AS (SELECT o.* FROM lens.report_overdue_action_items(report.as_of, report.tz, report.overdue_limit,
                                                                report.account) o),
  -- Materialized: inlined, the call would run once per key that reads it.
  oncall AS MATERIALIZED (
    SELECT lens.oncall_report(report.granularity, t.period_start, t.period_end, report.as_of, report.tz,
                              report.account) AS figures
    FROM this t
  ),
  -- Materialized: the final SELECT reads the report twice, and inlined, PostgreSQL built it twice.
  built AS MATERIALIZED (
    SELECT jsonb_build_object(
      'period', lens.report_period(report.granularity, t.period_start, t.period_end, t.period_label, report.as_of,
                                   report.tz),
      -- The account the figures cover; null: every account.
      'source', lens.account_json(report.account),
      'incidents', lens.report_incidents(f.all_rows),
      'mtta', lens.report_mtta(f.total),
      'mttr', lens.report_mttr(f.total),
      'sla', lens.report_sla(f.total) || jsonb_build_object('bySeverity', lens.report_sla_by_severity(f.all_rows)),
      'bySeverity', lens.report_by_severity(f.all_rows),
      'postmortems', lens.report_postmortems(f.total),
      'actionItems', coalesce((SELECT x.by_key -> '' FROM this_items x WHERE x.dimension = 'total'),
                              lens.report_action_items(0, 0, 0, 0, 0, NULL, NULL, 0))
                     || jsonb_build_object('openOverdueTotal', o.total),
      'repeatRootCauses', lens.report_repeat_root_causes(t.period_start, t.period_end, report.as_of, report.tz,
                                                         report.account),
      'repeatRate', (f.total).repeat_rate,
      'escalationRate', (f.total).escalation_rate,
      'mttdSeconds', (f.total).mttd_mean_seconds,
      'mttd', lens.report_mttd(f.total),
      'businessHours', jsonb_build_object('businessHours', (f.total).business_hours, 'offHours', (f.total).off_hours),
      'byService', lens.report_by_dimension('service', f.all_rows,
                                            (SELECT x.by_key FROM this_items x WHERE x.dimension = 'service')),
      'byTeam', lens.report_by_dimension('team', f.all_rows,
                                         (SELECT x.by_key FROM this_items x WHERE x.dimension = 'team')),
      'previous', (SELECT lens.report_headline(h.m, report.tz)
                          || jsonb_build_object('actionItems', coalesce(i.figures,
                                                  lens.report_action_items(0, 0, 0, 0, 0, NULL, NULL, 0)))
                   FROM previous p
                   JOIN headlines h ON (h.m).period_start = p.period_start
                   LEFT JOIN items i ON i.period_start = p.period_start AND i.dimension = 'total'),
      'trend', (SELECT coalesce(jsonb_agg(lens.report_headline(h.m, report.tz) ORDER BY (h.m).period_start), '[]')
                FROM headlines h JOIN span s ON s.period_start = (h.m).period_start
                WHERE s.back <= report.trend_periods),
      'overdueActionItems', o.items,
      'onCall', c.figures -> 'onCall',
      'noise', c.figures -> 'noise',
      'dataQuality', lens.data_quality(t.period_start, t.period_end, report.as_of, report.tz, report.account)) AS report
    FROM this t CROSS JOIN figures f CROSS JOIN overdue o CROSS JOIN oncall c
  )
  -- A closed period published before carries what changed since; the
  -- published report covers every account, so one account's has no such part.
  SELECT b.report || CASE WHEN report.account IS NULL THEN lens.report_published(b.report) ELSE '{}' END FROM built b;
END;
