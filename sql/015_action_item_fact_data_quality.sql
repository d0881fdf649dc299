-- What the action item figures need from each item (docs/metrics.md §7, §13),
-- joined once at write time like lens.incident_fact: placing an item at read
-- time (its post-mortem's first incident, that incident's account, service
-- and team) cost tens of microseconds per item, seconds over five years.
-- The triggers of sql/lens/70_action_items.sql keep it equal to the core
-- tables; sql/lens/90_derived_data.sql fills it when the definitions are
-- applied with this migration. A removed item has no row.
CREATE TABLE lens.action_item_fact (
  action_item_id bigint PRIMARY KEY,
  due_date       date,
  created_at     timestamptz NOT NULL,
  completed_at   timestamptz,
  -- A Done-category status; done as of an instant also needs completed_at by then.
  done_status    boolean NOT NULL,
  without_owner  boolean NOT NULL,
  -- The incident it counts under: named directly, else its post-mortem's first.
  incident_id    bigint,
  -- The account it counts under: that incident's, else the one holding the item.
  source_id      integer NOT NULL,
  -- That incident's, while the incident is not removed.
  service_id     bigint,
  team_id        bigint
);

-- A range of due days, or of creation for items without a due date, is read
-- from the index alone, with everything its figures need.
CREATE INDEX action_item_fact_due_idx ON lens.action_item_fact (due_date)
  INCLUDE (created_at, completed_at, done_status, source_id, service_id, team_id, without_owner)
  WHERE due_date IS NOT NULL;
CREATE INDEX action_item_fact_undated_idx ON lens.action_item_fact (created_at)
  INCLUDE (source_id, service_id, team_id, without_owner)
  WHERE due_date IS NULL;
-- Overdue means not done: the items not done now, and the few done after an
-- earlier as_of.
CREATE INDEX action_item_fact_not_done_idx ON lens.action_item_fact (due_date)
  INCLUDE (created_at, source_id, incident_id)
  WHERE NOT (done_status AND completed_at IS NOT NULL);
CREATE INDEX action_item_fact_completed_idx ON lens.action_item_fact (completed_at) WHERE done_status;

-- Data quality (docs/metrics.md §12) counts the incidents without severity of
-- a range from this index alone, not from a scan of every incident in it.
CREATE INDEX incident_fact_unknown_severity_idx ON lens.incident_fact (created_at) INCLUDE (source_id)
  WHERE severity = 'UNKNOWN' AND NOT merged;

-- The earliest creation of a post-mortem (not removed) that names the
-- incident; NULL: none. An incident whose post-mortem the policy requires is
-- missing one as of an instant when this is NULL or later; the partial index
-- holds the few without any, so that five years are not read to find none.
-- sql/lens/90_derived_data.sql fills the column with the definitions.
ALTER TABLE lens.incident_fact ADD COLUMN postmortem_created_at timestamptz;
CREATE INDEX incident_fact_without_postmortem_idx ON lens.incident_fact (severity, created_at)
  INCLUDE (resolved_at, source_id) WHERE postmortem_created_at IS NULL AND NOT merged;
CREATE INDEX incident_fact_postmortem_created_at_idx ON lens.incident_fact (postmortem_created_at);
