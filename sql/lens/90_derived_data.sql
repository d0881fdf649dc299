-- Runs after every other file of sql/lens, each time they are applied: the
-- data derived by the definitions above is rebuilt, so that a changed
-- formula never hides behind values an older one computed. Published
-- reports (public.published_reports) are frozen by design and stay.

TRUNCATE lens.incident_fact;
SELECT lens.refresh_incident_facts(ARRAY(SELECT id FROM public.incidents));
-- The emptied table's statistics are gone: plans of the next sync need them.
ANALYZE lens.incident_fact;

TRUNCATE lens.action_item_fact;
SELECT lens.refresh_action_item_facts(ARRAY(SELECT id FROM public.action_items));
-- Its triggers emptied and refilled lens.action_item_due_month.
ANALYZE lens.action_item_fact, lens.action_item_due_month;

-- A new epoch also makes a cache row that a session still running the old
-- definitions writes after this commits unusable.
DELETE FROM lens.period_rollup;
DELETE FROM lens.oncall_rollup;
UPDATE lens.rollup_state SET epoch = epoch + 1;
