-- Reading aids for the incidents panel and the collector-stale alert. They
-- project and join; every figure comes from the metric functions.

-- Each incident's log, for the timeline the incidents panel shows on expand.
CREATE VIEW lens.incident_timeline AS
SELECT e.incident_id, e.occurred_at, e.type, e.agent, e.summary
FROM public.incident_events e;

-- The incidents of a range with the columns the incidents panel documents
-- (plugin README): SLA outcomes and times from lens.incident_facts, the
-- targets in force, and the timeline up to as_of as JSON text.
CREATE FUNCTION lens.incident_list(range_start timestamptz, range_end timestamptz, as_of timestamptz, tz text,
                                   account text DEFAULT NULL)
RETURNS TABLE (
  id bigint, external_id text, number integer, title text, severity text, status text,
  service text, team text, created_at timestamptz, acknowledged_at timestamptz, resolved_at timestamptz,
  tta_seconds double precision, ttr_seconds double precision, ack_sla text, resolve_sla text,
  ack_target_seconds integer, resolve_target_seconds integer,
  html_url text, jira_issue_key text, jira_url text, postmortem_key text, postmortem_url text,
  escalated boolean, merged boolean, timeline text
)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
  SELECT f.incident_id, f.external_id, f.incident_number, f.title, f.severity, f.source_status,
    f.service_name, f.team_name, f.created_at, f.acknowledged_at, f.resolved_at,
    f.tta_seconds, f.ttr_seconds, f.ack_outcome, f.resolve_outcome,
    p.ack_target_seconds, p.resolve_target_seconds,
    f.html_url, f.jira_issue_key, f.jira_url, f.postmortem_external_id, f.postmortem_url,
    f.escalated, f.merged,
    (SELECT json_agg(json_build_object('at', t.occurred_at, 'type', t.type, 'agent', t.agent, 'summary', t.summary)
                     ORDER BY t.occurred_at)::text
     FROM lens.incident_timeline t
     WHERE t.incident_id = f.incident_id AND t.occurred_at <= as_of)
  FROM lens.incident_facts(range_start, range_end, as_of, tz, account) f
  LEFT JOIN lens.sla_policy p ON p.severity = f.severity
  ORDER BY f.created_at DESC, f.incident_id DESC;
END;

-- When each source last synced successfully. A source that never has counts
-- from when it was added, so that a collector that never worked is stale too.
CREATE VIEW lens.collector_freshness AS
SELECT s.kind AS source_kind, s.name AS source_name, last_run.finished_at AS last_success_at,
       lens.seconds_between(now(), coalesce(last_run.finished_at, s.created_at)) AS seconds_since_success
FROM public.sources s
LEFT JOIN LATERAL (
  SELECT max(r.finished_at) AS finished_at FROM public.sync_runs r
  WHERE r.source_id = s.id AND r.outcome = 'succeeded') last_run ON true;

-- ---------------------------------------------------------------------------
-- Grants: read the schema lens. Its views run with their owner's rights and
-- its functions that read core tables are SECURITY DEFINER, so nothing in
