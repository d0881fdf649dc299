-- On-call load and noise (METRICS.md 10 and 11): the users a source knows,
-- every notification sent to them, and who or what acknowledged and resolved
-- each incident. The figures are computed in sql/lens/oncall.sql.

CREATE TABLE users (
  id          bigserial PRIMARY KEY,
  source_id   integer NOT NULL REFERENCES sources (id),
  external_id text NOT NULL,
  name        text NOT NULL,
  -- The user's IANA zone; NULL when the source gives none (the report's zone
  -- applies). The check makes PostgreSQL name an unknown zone at write time.
  time_zone   text CHECK (time_zone IS NULL OR ('2000-01-01'::timestamp AT TIME ZONE time_zone) IS NOT NULL),
  html_url    text,
  synced_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (source_id, external_id)
);

-- One row per notify_log_entry: also a timeline event, kept apart so that
-- a month of them is read by time without touching the other events.
CREATE TABLE notifications (
  id           bigserial PRIMARY KEY,
  source_id    integer NOT NULL REFERENCES sources (id),
  external_id  text NOT NULL,
  incident_id  bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  user_id      bigint NOT NULL REFERENCES users (id),
  notified_at  timestamptz NOT NULL,
  -- sms | phone | push | email, or unknown when the channel says nothing known.
  method       text NOT NULL CHECK (method IN ('sms', 'phone', 'push', 'email', 'unknown')),
  -- The channel type as sent (channel.notification.type or channel.type).
  channel_type text,
  UNIQUE (source_id, external_id)
);

CREATE INDEX notifications_notified_at_idx ON notifications (notified_at) INCLUDE (user_id, method, incident_id);
CREATE INDEX notifications_incident_idx ON notifications (incident_id);
CREATE INDEX notifications_user_idx ON notifications (user_id, notified_at);

-- Who made an entry: the agent's kind (user, service, integration or what
-- else the source names) and id, and the entry's channel type (timeout...).
ALTER TABLE incident_events
  ADD COLUMN agent_type   text,
  ADD COLUMN agent_id     text,
  ADD COLUMN channel_type text;

-- Derived from the events like acknowledged_at: the user whose entry was the
-- first acknowledgement (NULL when no user made it), and what made the
-- resolving entry: user | service | integration | timeout | other.
ALTER TABLE incidents
  ADD COLUMN acknowledged_by bigint REFERENCES users (id),
  ADD COLUMN resolved_by     text CHECK (resolved_by IN ('user', 'service', 'integration', 'timeout', 'other'));

ALTER TABLE metric_settings
  ADD COLUMN sleep_interruption_alert integer NOT NULL DEFAULT 3 CHECK (sleep_interruption_alert > 0);

-- The on-call and noise figures of a range, one row per dimension value
-- (sql/lens/75_oncall.sql computes them); a type, so that cached periods
-- store exactly what a live computation returns.
CREATE TYPE lens.oncall_metrics AS (
  -- total | responder | service | team | hour_of_week
  dimension          text,
  -- NULL for total; the user, service or team id (NULL: none); for
  -- hour_of_week (isodow - 1) * 24 + hour in the report's zone, 0 = Monday 00h.
  dimension_key      text,
  notifications      integer,
  -- Notifications whose method is not known: stored, never interruptions.
  unknown_method     integer,
  interruptions      integer,
  business           integer,
  off                integer,
  sleep              integer,
  nights_interrupted integer,
  -- Incidents of the period whose first acknowledgement a user made.
  acknowledged       integer,
  incidents          integer,
  auto_resolved      integer,
  transient          integer
);

-- Cached figures of whole periods, under the rules of lens.period_rollup.
CREATE TABLE lens.oncall_rollup (
  granularity       text NOT NULL,
  tz                text NOT NULL,
  period_start      timestamptz NOT NULL,
  period_end        timestamptz NOT NULL,
  stable_from       timestamptz NOT NULL,
  epoch             bigint NOT NULL,
  computed_snapshot pg_snapshot NOT NULL,
  computed_at       timestamptz NOT NULL DEFAULT now(),
  figures           lens.oncall_metrics[] NOT NULL,
  PRIMARY KEY (granularity, tz, period_start)
);
