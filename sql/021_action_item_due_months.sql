-- Five years of action item figures read 175 k items, one by one. Most of
-- them are settled: done, before their due day began in UTC or two days
-- after it (lens.action_item_fact.completed_vs_due -1 or 1), so on time or
-- late in every zone, and done for any as_of after their creation and
-- completion. This table counts the settled items per calendar month of
-- due date and per what a figure filters or groups by; a range's whole
-- months are summed from it and only the rest of their items (open, or
-- done near their due day) is read one by one. The triggers of
-- sql/lens/70_action_items.sql keep it equal to lens.action_item_fact;
-- sql/lens/90_derived_data.sql fills it with the facts.
CREATE TABLE lens.action_item_due_month (
  due_month     date NOT NULL, -- the first day of the month
  source_id     integer NOT NULL,
  service_id    bigint,
  team_id       bigint,
  settled       integer NOT NULL,
  -- Of them, done before their due day began in UTC: on time in every zone.
  settled_early integer NOT NULL,
  -- No settled item of the row was created or completed later. Removing an
  -- item does not lower it: a bound, never less than the latest.
  settled_until timestamptz NOT NULL,
  UNIQUE NULLS NOT DISTINCT (due_month, source_id, service_id, team_id)
);

-- The items of a month that are not settled (about one in ten), read one by
-- one with everything their figures need.
CREATE INDEX action_item_fact_unsettled_idx ON lens.action_item_fact (due_date)
  INCLUDE (created_at, completed_at, done_status, completed_vs_due, source_id, service_id, team_id)
  WHERE due_date IS NOT NULL AND NOT (done_status AND coalesce(completed_vs_due, 0) <> 0);
