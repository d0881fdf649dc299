-- The SLA policy (METRICS.md 5 and 6) and the metric settings (section 8)
-- that the metric functions read. Seeded with the defaults; the collector
-- overwrites both from the YAML configuration at start (metrics/policy.ts).

-- Targets are whole seconds, not intervals: an interval of '7 days' added to
-- a timestamptz is 7 calendar days in the session's zone (167 or 169 hours
-- across a DST change), while a target is an exact duration.
CREATE TABLE sla_policy (
  severity               text PRIMARY KEY CHECK (severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4')),
  ack_target_seconds     integer NOT NULL CHECK (ack_target_seconds >= 0),
  resolve_target_seconds integer NOT NULL CHECK (resolve_target_seconds >= 0),
  -- NULL: this severity needs no post-mortem.
  postmortem_due_seconds integer CHECK (postmortem_due_seconds >= 0),
  updated_at             timestamptz NOT NULL DEFAULT now()
);

INSERT INTO sla_policy (severity, ack_target_seconds, resolve_target_seconds, postmortem_due_seconds) VALUES
  ('SEV1', 15 * 60,   3600,       48 * 3600),
  ('SEV2', 30 * 60,   4 * 3600,   7 * 86400),
  ('SEV3', 2 * 3600,  24 * 3600,  NULL),
  ('SEV4', 24 * 3600, 7 * 86400,  NULL);

-- One row. The window is whole days of 86400 s (METRICS.md 8: exactly 90
-- days earlier counts, one second more does not), independent of DST.
CREATE TABLE metric_settings (
  singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  repeat_window_days integer NOT NULL DEFAULT 90 CHECK (repeat_window_days > 0),
  -- Zone of the scheduled reports; the default of functions read by alert rules.
  -- The check makes PostgreSQL name an unknown zone at write time.
  timezone           text NOT NULL DEFAULT 'UTC'
                     CHECK (('2000-01-01'::timestamp AT TIME ZONE timezone) IS NOT NULL),
  updated_at         timestamptz NOT NULL DEFAULT now()
);

INSERT INTO metric_settings DEFAULT VALUES;
