-- A post-mortem often reviews several incidents (one outage paged three
-- services): each incident it names has it, so none of them looks as if its
-- post-mortem were missing (docs/metrics.md §6). One row per (post-mortem,
-- incident); the Jira sync rewrites a post-mortem's rows from what it names,
-- so a retried sync adds nothing and a name removed from the issue goes.
CREATE TABLE postmortem_incidents (
  postmortem_id bigint NOT NULL REFERENCES postmortems (id) ON DELETE CASCADE,
  incident_id   bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  PRIMARY KEY (postmortem_id, incident_id)
);

CREATE INDEX postmortem_incidents_incident_idx ON postmortem_incidents (incident_id, postmortem_id);

INSERT INTO postmortem_incidents (postmortem_id, incident_id)
SELECT id, incident_id FROM postmortems WHERE incident_id IS NOT NULL;

ALTER TABLE postmortems DROP COLUMN incident_id;
