-- Whether an item was done on time depends on the report's zone: its
-- deadline is the end of the due day there. No zone is a day or more away
-- from UTC, so an item completed before its due day began in UTC was on time
-- in every zone, and one completed two days after was late in every zone;
-- only the others need the zone's deadline, which costs a time zone
-- conversion per item (most of the time of five years' figures).
-- sql/lens/90_derived_data.sql fills the column when the definitions are
-- applied with this migration.
ALTER TABLE lens.action_item_fact ADD COLUMN completed_vs_due smallint;

DROP INDEX lens.action_item_fact_due_idx;
CREATE INDEX action_item_fact_due_idx ON lens.action_item_fact (due_date)
  INCLUDE (created_at, completed_at, done_status, completed_vs_due, source_id, service_id, team_id, without_owner)
  WHERE due_date IS NOT NULL;
