-- The Action items page pages its list by keyset (lens.action_item_list,
-- sql/lens/80_grafana.sql): the overdue items and those due in the range by
-- (due date, id), then those without a due date by id. These indexes hold
-- the items in that order, so a page of 100 rows is read from where the page
-- before ended, at any depth, instead of sorting every item of the range.

-- Every item with a due date, with what the figures read from the index it replaces.
CREATE INDEX action_item_fact_due_id_idx ON lens.action_item_fact (due_date, action_item_id)
  INCLUDE (created_at, completed_at, done_status, completed_vs_due, source_id, service_id, team_id, without_owner)
  WHERE due_date IS NOT NULL;
DROP INDEX lens.action_item_fact_due_idx;

-- The items not done now (the overdue ones among them), likewise.
CREATE INDEX action_item_fact_not_done_due_id_idx ON lens.action_item_fact (due_date, action_item_id)
  INCLUDE (created_at, source_id, incident_id)
  WHERE NOT (done_status AND completed_at IS NOT NULL);
DROP INDEX lens.action_item_fact_not_done_idx;

-- The items without a due date by id: the list's last part.
CREATE INDEX action_item_fact_undated_id_idx ON lens.action_item_fact (action_item_id)
  INCLUDE (created_at, completed_at, done_status, source_id)
  WHERE due_date IS NULL;
