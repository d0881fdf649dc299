-- Data quality (docs/metrics.md §12) counts and lists the action items of a
-- range without an owner or a due date: this index holds only those, so
-- five years of items are not read to find the few.
CREATE INDEX action_item_fact_without_owner_idx ON lens.action_item_fact (due_date)
  INCLUDE (created_at, source_id, without_owner) WHERE without_owner OR due_date IS NULL;
