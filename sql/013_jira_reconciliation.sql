-- Reconciling Jira with what the site still has (issue 15). An issue is
-- identified by its id: a move to another project gives it a new key and
-- keeps the id. A record the source no longer has, or no longer has as its
-- kind, is kept and marked, and leaves every figure.

-- A move synced before this migration left one row per key. Keep the newest
-- row of each issue id and kind; the figure rows written under an older key
-- are copies of the same issue and go, with their post-mortem links (the
-- next sync links what pointed at them again).
CREATE TEMP TABLE jira_stale_key AS
SELECT j.source_id, j.kind, j.issue_key
FROM jira_issues j
WHERE EXISTS (
  SELECT 1 FROM jira_issues n
  WHERE n.source_id = j.source_id AND n.kind = j.kind AND n.issue_id = j.issue_id
    AND (coalesce(n.source_updated_at, '-infinity'), n.synced_at, n.issue_key)
        > (coalesce(j.source_updated_at, '-infinity'), j.synced_at, j.issue_key));

DELETE FROM action_items a USING jira_stale_key s
WHERE s.kind = 'action_item' AND a.source_id = s.source_id AND a.external_id = s.issue_key;
UPDATE action_items a SET postmortem_id = NULL
FROM postmortems p JOIN jira_stale_key s ON s.kind = 'postmortem' AND s.source_id = p.source_id AND s.issue_key = p.external_id
WHERE a.postmortem_id = p.id;
DELETE FROM postmortems p USING jira_stale_key s
WHERE s.kind = 'postmortem' AND p.source_id = s.source_id AND p.external_id = s.issue_key;
UPDATE action_items a SET incident_id = NULL
FROM incidents i JOIN jira_stale_key s ON s.kind = 'incident' AND s.source_id = i.source_id AND s.issue_key = i.external_id
WHERE a.incident_id = i.id;
DELETE FROM incidents i USING jira_stale_key s
WHERE s.kind = 'incident' AND i.source_id = s.source_id AND i.external_id = s.issue_key;
DELETE FROM jira_issues j USING jira_stale_key s
WHERE j.source_id = s.source_id AND j.kind = s.kind AND j.issue_key = s.issue_key;
DROP TABLE jira_stale_key;

ALTER TABLE jira_issues DROP CONSTRAINT jira_issues_pkey;
ALTER TABLE jira_issues ADD PRIMARY KEY (source_id, issue_id, kind);
-- Links name issues by key.
CREATE INDEX jira_issues_key_idx ON jira_issues (source_id, issue_key);
-- When the site answered that the issue does not exist (deleted, or hidden from the account).
ALTER TABLE jira_issues ADD COLUMN deleted_at timestamptz;
-- When the issue, still on the site, was found no longer matching the search of its kind.
ALTER TABLE jira_issues ADD COLUMN unmatched_at timestamptz;

-- When the source stopped having the record as what it counts as (the Jira
-- issue was deleted or no longer matches its kind's search): it leaves every
-- figure, and comes back if the source lists it again.
ALTER TABLE incidents ADD COLUMN removed_at timestamptz;
ALTER TABLE postmortems ADD COLUMN removed_at timestamptz;
ALTER TABLE action_items ADD COLUMN removed_at timestamptz;

-- Each change a reconciliation found that the source's timeline never
-- recorded: what the revision note of a published report lists, and what
-- /metrics counts. Values are what the source shows, never a secret.
CREATE TABLE reconciliation_changes (
  id          bigserial PRIMARY KEY,
  source_id   integer NOT NULL REFERENCES sources (id),
  record_kind text NOT NULL CHECK (record_kind IN ('incident', 'postmortem', 'action_item')),
  -- The source's stable id (Jira issue id, PagerDuty incident id) and the key shown to people.
  record_id   text NOT NULL,
  record_key  text NOT NULL,
  field       text NOT NULL,
  from_value  text,
  to_value    text,
  found_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reconciliation_changes_found_at_idx ON reconciliation_changes (found_at);
