-- The Data quality page pages its two long lists by keyset, oldest first
-- (sql/lens/82_data_quality.sql): these indexes hold their rows in the
-- lists' order, so a page of 100 rows is read from where the page before
-- ended, at any depth, instead of building five years of rows to show 100.

-- Incidents without severity by (created_at, incident_id); it also serves
-- their count, so it replaces the index on created_at alone.
CREATE INDEX incident_fact_unknown_severity_created_at_id_idx ON lens.incident_fact (created_at, incident_id)
  INCLUDE (source_id) WHERE severity = 'UNKNOWN' AND NOT merged;
DROP INDEX lens.incident_fact_unknown_severity_idx;

-- Action items without a due date by (created_at, action_item_id), with what
-- the figures read from the index it replaces.
CREATE INDEX action_item_fact_undated_created_at_id_idx ON lens.action_item_fact (created_at, action_item_id)
  INCLUDE (source_id, service_id, team_id, without_owner) WHERE due_date IS NULL;
DROP INDEX lens.action_item_fact_undated_idx;

