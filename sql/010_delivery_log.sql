-- Report deliveries (e-mail and Slack). A run is one sending of one period's
-- report to its recipients: the scheduled one (at most one per period, made by
-- serve's report job) or a resend asked for with `incident-lens deliver`. The
-- run keeps the report it sends, so that a run resumed after a crash sends the
-- same figures to the recipients it had not reached yet.
CREATE TABLE delivery_runs (
  id           bigserial PRIMARY KEY,
  granularity  text NOT NULL CHECK (granularity IN ('day', 'week', 'month')),
  period_label text NOT NULL,
  timezone     text NOT NULL,
  trigger      text NOT NULL CHECK (trigger IN ('schedule', 'resend')),
  as_of        timestamptz NOT NULL,
  report       jsonb NOT NULL,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE UNIQUE INDEX delivery_runs_one_scheduled ON delivery_runs (granularity, period_label, timezone) WHERE trigger = 'schedule';
CREATE INDEX delivery_runs_unfinished ON delivery_runs (started_at) WHERE finished_at IS NULL;

-- One row per run and recipient. The recipient is the address for e-mail and
-- the name of the variable holding the webhook URL for Slack: never a secret.
-- pending: not tried yet; sending: handed to the server, outcome not recorded
-- yet; sent; failed: refused for good or retries exhausted (error says why).
CREATE TABLE delivery_log (
  run_id      bigint NOT NULL REFERENCES delivery_runs (id) ON DELETE CASCADE,
  channel     text NOT NULL CHECK (channel IN ('email', 'slack')),
  recipient   text NOT NULL,
  position    integer NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
  tries       integer NOT NULL DEFAULT 0,
  message_id  text,
  bytes       integer,
  error       text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz,
  PRIMARY KEY (run_id, channel, recipient)
);
