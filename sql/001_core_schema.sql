-- Core tables: what the sources say, normalised. Metric objects come in later
-- migrations and only read from these.

CREATE TABLE sources (
  id          serial PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('pagerduty', 'jira')),
  -- The account or site: the API base URL for PagerDuty, the site URL for Jira.
  base_url    text NOT NULL,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, base_url)
);

CREATE TABLE teams (
  id          bigserial PRIMARY KEY,
  source_id   integer NOT NULL REFERENCES sources (id),
  external_id text NOT NULL,
  name        text NOT NULL,
  html_url    text,
  UNIQUE (source_id, external_id)
);

CREATE TABLE services (
  id          bigserial PRIMARY KEY,
  source_id   integer NOT NULL REFERENCES sources (id),
  external_id text NOT NULL,
  name        text NOT NULL,
  html_url    text,
  UNIQUE (source_id, external_id)
);

CREATE TABLE incidents (
  id               bigserial PRIMARY KEY,
  source_id        integer NOT NULL REFERENCES sources (id),
  external_id      text NOT NULL,
  number           integer,
  title            text NOT NULL,
  -- Source status as sent: triggered / acknowledged / resolved for PagerDuty.
  status           text NOT NULL,
  urgency          text,
  priority_raw     text,
  severity         text NOT NULL DEFAULT 'UNKNOWN'
                   CHECK (severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4', 'UNKNOWN')),
  service_id       bigint REFERENCES services (id),
  team_id          bigint REFERENCES teams (id),
  created_at       timestamptz NOT NULL,
  -- First explicit acknowledgement (METRICS.md 1): never moved by a re-ack.
  acknowledged_at  timestamptz,
  resolved_at      timestamptz,
  -- Start of customer impact when a source knows it (for MTTD).
  detected_at      timestamptz,
  merged           boolean NOT NULL DEFAULT false,
  escalated        boolean NOT NULL DEFAULT false,
  unack_count      integer NOT NULL DEFAULT 0,
  root_cause_key   text,
  html_url         text,
  -- The Jira incident ticket attached to this incident, if any.
  jira_issue_key   text,
  jira_url         text,
  source_updated_at timestamptz,
  synced_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_id, external_id),
  CHECK (acknowledged_at IS NULL OR acknowledged_at >= created_at),
  CHECK (resolved_at IS NULL OR resolved_at >= created_at)
);

-- Period reports filter by created_at, then group by severity / service / team.
CREATE INDEX incidents_created_at_idx ON incidents (created_at) INCLUDE (severity, merged);
CREATE INDEX incidents_severity_created_at_idx ON incidents (severity, created_at);
CREATE INDEX incidents_service_created_at_idx ON incidents (service_id, created_at);
CREATE INDEX incidents_team_created_at_idx ON incidents (team_id, created_at);
CREATE INDEX incidents_root_cause_idx ON incidents (root_cause_key, created_at)
  WHERE root_cause_key IS NOT NULL;
CREATE INDEX incidents_open_idx ON incidents (created_at) WHERE resolved_at IS NULL;

CREATE TABLE incident_events (
  id           bigserial PRIMARY KEY,
  incident_id  bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  source_id    integer NOT NULL REFERENCES sources (id),
  -- The log entry id (PagerDuty) or changelog history id (Jira).
  external_id  text NOT NULL,
  -- Normalised kind; raw_type keeps what the source called it.
  type         text NOT NULL CHECK (type IN (
                 'trigger', 'acknowledge', 'unacknowledge', 'escalate', 'assign',
                 'delegate', 'resolve', 'reopen', 'annotate', 'notify', 'snooze',
                 'priority_change', 'urgency_change', 'merge', 'status_change', 'other')),
  raw_type     text NOT NULL,
  occurred_at  timestamptz NOT NULL,
  agent        text,
  summary      text,
  UNIQUE (source_id, external_id)
);

CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, occurred_at);

CREATE TABLE postmortems (
  id              bigserial PRIMARY KEY,
  source_id       integer NOT NULL REFERENCES sources (id),
  external_id     text NOT NULL,
  incident_id     bigint REFERENCES incidents (id),
  title           text NOT NULL,
  status          text NOT NULL,
  status_category text NOT NULL,
  created_at      timestamptz NOT NULL,
  -- When the post-mortem reached a Done-category status (METRICS.md 6).
  completed_at    timestamptz,
  root_cause_key  text,
  html_url        text,
  source_updated_at timestamptz,
  synced_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_id, external_id)
);

CREATE INDEX postmortems_incident_idx ON postmortems (incident_id);

CREATE TABLE action_items (
  id              bigserial PRIMARY KEY,
  source_id       integer NOT NULL REFERENCES sources (id),
  external_id     text NOT NULL,
  incident_id     bigint REFERENCES incidents (id),
  postmortem_id   bigint REFERENCES postmortems (id),
  title           text NOT NULL,
  status          text NOT NULL,
  status_category text NOT NULL,
  owner           text,
  -- A calendar day: its deadline is the end of that day in the report's zone.
  due_date        date,
  created_at      timestamptz NOT NULL,
  completed_at    timestamptz,
  html_url        text,
  source_updated_at timestamptz,
  synced_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_id, external_id)
);

CREATE INDEX action_items_due_date_idx ON action_items (due_date);
CREATE INDEX action_items_open_idx ON action_items (due_date) WHERE completed_at IS NULL;
CREATE INDEX action_items_incident_idx ON action_items (incident_id);
CREATE INDEX action_items_postmortem_idx ON action_items (postmortem_id);

-- Where each stream of a source has read up to; a sync resumes from here.
CREATE TABLE sync_checkpoints (
  source_id   integer NOT NULL REFERENCES sources (id),
  stream      text NOT NULL,
  cursor_at   timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, stream)
);

CREATE TABLE sync_runs (
  id             bigserial PRIMARY KEY,
  source_id      integer NOT NULL REFERENCES sources (id),
  mode           text NOT NULL CHECK (mode IN ('full', 'incremental', 'since', 'webhook')),
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  outcome        text NOT NULL DEFAULT 'running'
                 CHECK (outcome IN ('running', 'succeeded', 'failed', 'interrupted')),
  window_start   timestamptz,
  window_end     timestamptz,
  requests       integer NOT NULL DEFAULT 0,
  records_upserted integer NOT NULL DEFAULT 0,
  events_upserted integer NOT NULL DEFAULT 0,
  quarantined    integer NOT NULL DEFAULT 0,
  error          text
);

CREATE INDEX sync_runs_source_idx ON sync_runs (source_id, started_at DESC);

-- Records that could not be mapped, kept with the reason so nothing is lost.
-- A retried sync finds the same record again: it is counted, not duplicated.
CREATE TABLE ingest_errors (
  id            bigserial PRIMARY KEY,
  source_id     integer NOT NULL REFERENCES sources (id),
  sync_run_id   bigint REFERENCES sync_runs (id),
  record_kind   text NOT NULL,
  external_id   text,
  reason        text NOT NULL,
  payload       text NOT NULL,
  payload_hash  text NOT NULL,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  seen_count    integer NOT NULL DEFAULT 1,
  UNIQUE (source_id, record_kind, payload_hash)
);
