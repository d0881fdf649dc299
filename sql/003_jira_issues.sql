-- What each synced Jira issue says about its relations (METRICS.md 6-8). The
-- links between incidents, post-mortems and action items are resolved from
-- these rows after every Jira sync, so they come out the same whichever issue
-- was read first, and a PagerDuty incident synced after its Jira ticket still
-- finds it.
CREATE TABLE jira_issues (
  source_id              integer NOT NULL REFERENCES sources (id),
  issue_key              text NOT NULL,
  -- Which configured search found it; an issue two searches match has two rows.
  kind                   text NOT NULL CHECK (kind IN ('incident', 'postmortem', 'action_item')),
  issue_id               text NOT NULL,
  -- Issue links (either direction), parent and sub-tasks.
  linked_keys            text[] NOT NULL DEFAULT '{}',
  -- PagerDuty incident ids found in the summary, description, labels, remote links or configured field.
  pagerduty_incident_ids text[] NOT NULL DEFAULT '{}',
  root_cause_key         text,
  html_url               text NOT NULL,
  created_at             timestamptz NOT NULL,
  source_updated_at      timestamptz,
  synced_at              timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, issue_key, kind)
);

CREATE INDEX jira_issues_pagerduty_idx ON jira_issues USING gin (pagerduty_incident_ids);
CREATE INDEX jira_issues_linked_keys_idx ON jira_issues USING gin (linked_keys);
