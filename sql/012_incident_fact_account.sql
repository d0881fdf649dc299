-- Every incident figure can be restricted to one account (`report --source`,
-- the dashboards' `source` variable): the fact carries its incident's
-- account. sql/lens/90_derived_data.sql fills the column when the
-- definitions are applied with this migration.
ALTER TABLE lens.incident_fact ADD COLUMN source_id integer;

-- A report of one account links an incident to the latest earlier one with
-- the same cause in that account: one look-up per incident.
CREATE INDEX incident_fact_account_cause_idx ON lens.incident_fact (source_id, root_cause_key, created_at)
  WHERE root_cause_key IS NOT NULL;
