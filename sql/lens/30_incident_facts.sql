-- Keeping lens.incident_fact (sql/005_metrics.sql) equal to the core
-- tables: one narrow row per incident, joined at write time by the triggers
-- below. The triggers live here, beside their functions, because dropping a
-- function (which `migrate` does before re-applying this directory) drops
-- the triggers bound to it.

-- Writing an incident into the middle of a long root-cause history relinks
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
           i.acknowledged_at, i.resolved_at, i.detected_at, i.source_id,
           -- The flag says whether there was an escalation (docs/metrics.md §1); the events, when.
           CASE WHEN i.escalated THEN coalesce(
             (SELECT min(e.occurred_at) FROM public.incident_events e WHERE e.incident_id = i.id AND e.type = 'escalate'),
             i.created_at) END AS escalated_at,
           postmortem.completed_at AS postmortem_completed_at, postmortem.created_at AS postmortem_created_at,
           coalesce(postmortem.cause, lens.root_cause_slug(i.root_cause_key)) AS root_cause_key
    FROM wanted
    -- A record the source no longer has (removed_at) has no facts: it leaves every figure.
    CROSS JOIN LATERAL (SELECT x.* FROM public.incidents x WHERE x.id = wanted.id AND x.removed_at IS NULL OFFSET 0) i
    -- One look at the post-mortems that name the incident for every fact.
    LEFT JOIN LATERAL (
      SELECT min(p.completed_at) FILTER (WHERE lower(p.status_category) = 'done') AS completed_at,
             min(p.created_at) AS created_at,
             (array_agg(lens.root_cause_slug(p.root_cause_key) ORDER BY p.created_at DESC, p.id DESC)
                FILTER (WHERE lens.root_cause_slug(p.root_cause_key) IS NOT NULL))[1] AS cause
      FROM public.postmortem_incidents l JOIN public.postmortems p ON p.id = l.postmortem_id
      WHERE l.incident_id = i.id AND p.removed_at IS NULL) postmortem ON true
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
      acknowledged_at, resolved_at, detected_at, escalated_at, postmortem_completed_at, root_cause_key, source_id,
      postmortem_created_at)
    SELECT incident_id, created_at, severity, service_id, team_id, merged,
           acknowledged_at, resolved_at, detected_at, escalated_at, postmortem_completed_at, root_cause_key, source_id,
           postmortem_created_at
    FROM desired
    ORDER BY created_at -- keeps a period's rows on few pages
    ON CONFLICT (incident_id) DO UPDATE SET
      created_at = excluded.created_at, severity = excluded.severity, service_id = excluded.service_id,
      team_id = excluded.team_id, merged = excluded.merged, acknowledged_at = excluded.acknowledged_at,
      resolved_at = excluded.resolved_at, detected_at = excluded.detected_at, escalated_at = excluded.escalated_at,
      postmortem_completed_at = excluded.postmortem_completed_at, root_cause_key = excluded.root_cause_key,
      source_id = excluded.source_id, postmortem_created_at = excluded.postmortem_created_at,
      -- The chain below relinks every incident that has a key; one without has no previous.
      previous_same_cause_at = CASE WHEN excluded.root_cause_key IS NULL THEN NULL ELSE f.previous_same_cause_at END
    WHERE (f.created_at, f.severity, f.service_id, f.team_id, f.merged, f.acknowledged_at, f.resolved_at,
           f.detected_at, f.escalated_at, f.postmortem_completed_at, f.root_cause_key, f.source_id,
           f.postmortem_created_at)
          IS DISTINCT FROM
          (excluded.created_at, excluded.severity, excluded.service_id, excluded.team_id, excluded.merged,
           excluded.acknowledged_at, excluded.resolved_at, excluded.detected_at, excluded.escalated_at,
           excluded.postmortem_completed_at, excluded.root_cause_key, excluded.source_id, excluded.postmortem_created_at)
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
               n.detected_at, n.escalated, n.root_cause_key, n.removed_at
        FROM new_rows n
        EXCEPT
        SELECT o.id, o.created_at, o.severity, o.service_id, o.team_id, o.merged, o.acknowledged_at, o.resolved_at,
               o.detected_at, o.escalated, o.root_cause_key, o.removed_at
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
-- A post-mortem reaches its incidents through postmortem_incidents: a new
-- one has no links yet, and deleting one deletes its links, whose trigger
-- then refreshes; an edited one refreshes every incident it names.
CREATE FUNCTION lens.on_incident_detail_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM lens.refresh_incident_facts(ARRAY(SELECT f.incident_id FROM lens.incident_fact f));
  ELSIF TG_TABLE_NAME = 'postmortems' THEN
    PERFORM lens.refresh_incident_facts(ARRAY(
      SELECT l.incident_id FROM public.postmortem_incidents l WHERE l.postmortem_id IN (SELECT n.id FROM new_rows n)));
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

CREATE TRIGGER incident_fact_update AFTER UPDATE ON public.postmortems
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_truncate AFTER TRUNCATE ON public.postmortems
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_insert AFTER INSERT ON public.postmortem_incidents
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_update AFTER UPDATE ON public.postmortem_incidents
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_delete AFTER DELETE ON public.postmortem_incidents
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_truncate AFTER TRUNCATE ON public.postmortem_incidents
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_insert AFTER INSERT ON public.incident_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_update AFTER UPDATE ON public.incident_events
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_delete AFTER DELETE ON public.incident_events
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
CREATE TRIGGER incident_fact_truncate AFTER TRUNCATE ON public.incident_events
  FOR EACH STATEMENT EXECUTE FUNCTION lens.on_incident_detail_changed();
