-- The incident list pages by (created_at, incident_id), newest first: with
-- both in one index a page of 100 rows is read from where the last page
-- ended, at any depth. It also serves every scan of a range by creation, so
-- it replaces the index on created_at alone.
CREATE INDEX incident_fact_created_at_id_idx ON lens.incident_fact (created_at, incident_id);
DROP INDEX lens.incident_fact_created_at_idx;

-- The services and teams that have incidents in a range (the pages' and
-- dashboards' filter choices): one probe each instead of a scan of the range.
CREATE INDEX incident_fact_service_created_at_idx ON lens.incident_fact (service_id, created_at);
CREATE INDEX incident_fact_team_created_at_idx ON lens.incident_fact (team_id, created_at);
-- The source statuses of a range, one probe per status.
CREATE INDEX incidents_status_created_at_idx ON public.incidents (status, created_at);
