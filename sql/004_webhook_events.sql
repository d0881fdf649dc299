-- PagerDuty v3 webhook events the collector has accepted. PagerDuty delivers
-- at least once; the event id is the same on every delivery, so a redelivered
-- event finds its row here and is not processed twice, whichever `serve`
-- process receives it. An event stays unprocessed until its incident has been
-- fetched; a restart takes those up again.
CREATE TABLE webhook_events (
  source_kind          text NOT NULL CHECK (source_kind IN ('pagerduty', 'jira')),
  event_id             text NOT NULL,
  event_type           text NOT NULL,
  incident_external_id text NOT NULL,
  occurred_at          timestamptz,
  received_at          timestamptz NOT NULL DEFAULT now(),
  processed_at         timestamptz,
  -- Why the last attempt to bring the incident up to date failed.
  error                text,
  PRIMARY KEY (source_kind, event_id)
);

CREATE INDEX webhook_events_unprocessed_idx ON webhook_events (received_at) WHERE processed_at IS NULL;
CREATE INDEX webhook_events_received_at_idx ON webhook_events (received_at);
