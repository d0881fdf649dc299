-- The schema `lens`: everything the report command, the Grafana pages, the
-- dashboards and the alert rules read, so that a read-only role can be
-- granted exactly this schema. This migration holds its tables and the type
-- they store; every function and view is in sql/lens/ (sql/README.md).
--
--   lens.incident_fact   one narrow row per incident, kept by triggers on the
--                        core tables (sql/lens/30_incident_facts.sql)
--   lens.fact_changes    the instants each change of the facts touched
--   lens.period_rollup   figures cached per closed period, checked against
--                        lens.fact_changes (sql/lens/50_rollup_cache.sql)

CREATE SCHEMA lens;
COMMENT ON SCHEMA lens IS 'Incident Lens metrics (METRICS.md); grant USAGE and SELECT on this schema to readers';

-- What the metrics need from each incident, joined once at write time. It
-- has no as-of semantics: instants are stored as the sources report them and
-- masked at read time.
CREATE TABLE lens.incident_fact (
  incident_id             bigint PRIMARY KEY,
  created_at              timestamptz NOT NULL,
  severity                text NOT NULL,
  service_id              bigint,
  team_id                 bigint,
  merged                  boolean NOT NULL,
  acknowledged_at         timestamptz,
  resolved_at             timestamptz,
  detected_at             timestamptz,
  -- The first escalate event, or created_at when the source flags an
  -- escalation without sending its time; NULL: never escalated.
  escalated_at            timestamptz,
  -- The earliest completion of a Done-category post-mortem of the incident.
  postmortem_completed_at timestamptz,
  -- Normalised key: the newest post-mortem's, else the incident's own.
  root_cause_key          text,
  -- created_at of the latest earlier (strictly), unmerged incident with the
  -- same key: the repeat test compares it with the window at read time, so a
  -- new repeatWindowDays needs no rewrite.
  previous_same_cause_at  timestamptz
) WITH (fillfactor = 75); -- room for HOT updates: an incident is written again at ack, resolve, post-mortem

CREATE INDEX incident_fact_created_at_idx ON lens.incident_fact (created_at);
CREATE INDEX incident_fact_cause_idx ON lens.incident_fact (root_cause_key, created_at)
  WHERE root_cause_key IS NOT NULL;

-- Every change of the facts (or of the policy) records the instants it
-- touched and the transaction that made it; a cached period is valid only if
-- its snapshot saw every change that overlaps it.
CREATE TABLE lens.fact_changes (
  id          bigserial PRIMARY KEY,
  xid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  affected    tstzmultirange NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX fact_changes_affected_idx ON lens.fact_changes USING gist (affected);

CREATE TABLE lens.rollup_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  -- Bumped by lens.compact_rollups: a cache row written under an older epoch
  -- may have missed a change that compaction removed, so it is not used.
  epoch     bigint NOT NULL DEFAULT 1
);

INSERT INTO lens.rollup_state DEFAULT VALUES;

-- The figures of the incidents of a period: one row per dimension value. A
-- type, so that cached periods store exactly what a live computation returns
-- and every function returns the same columns.

CREATE TYPE lens.incident_metrics AS (
  period_start                  timestamptz,
  period_end                    timestamptz,
  -- 2026-10-25, 2026-W44 or 2026-10; NULL for a range that is no period.
  period_label                  text,
  -- total | severity | service | team
  dimension                     text,
  -- NULL for total; SEV1..UNKNOWN; the service or team id (NULL: none).
  dimension_key                 text,
  -- All incidents, the severity, the service or team name.
  dimension_label               text,
  incidents                     integer,
  -- incidents / all incidents of the period.
  share                         double precision,
  merged                        integer,
  open                          integer,
  unclassified                  integer,
  sev1                          integer,
  sev2                          integer,
  sev3                          integer,
  sev4                          integer,
  unknown                       integer,
  mtta_count                    integer,
  unacknowledged                integer,
  mtta_mean_seconds             double precision,
  mtta_median_seconds           double precision,
  mtta_p90_seconds              double precision,
  mtta_p95_seconds              double precision,
  mttr_count                    integer,
  mttr_mean_seconds             double precision,
  mttr_median_seconds           double precision,
  mttr_p90_seconds              double precision,
  mttr_p95_seconds              double precision,
  ack_met                       integer,
  ack_breached                  integer,
  ack_pending                   integer,
  ack_compliance                double precision,
  resolve_met                   integer,
  resolve_breached              integer,
  resolve_pending               integer,
  resolve_compliance            double precision,
  postmortems_required          integer,
  postmortems_completed         integer,
  postmortems_completed_on_time integer,
  postmortems_overdue           integer,
  escalated                     integer,
  escalation_rate               double precision,
  business_hours                integer,
  off_hours                     integer,
  mttd_count                    integer,
  mttd_mean_seconds             double precision,
  mttd_median_seconds           double precision,
  mttd_p90_seconds              double precision,
  mttd_p95_seconds              double precision,
  root_cause_incidents          integer,
  repeat_incidents              integer,
  repeat_rate                   double precision
);

-- Figures of whole periods per granularity and zone; when a row may be used
-- is decided in sql/lens/50_rollup_cache.sql.
CREATE TABLE lens.period_rollup (
  granularity       text NOT NULL,
  tz                text NOT NULL,
  period_start      timestamptz NOT NULL,
  period_end        timestamptz NOT NULL,
  stable_from       timestamptz NOT NULL,
  epoch             bigint NOT NULL,
  computed_snapshot pg_snapshot NOT NULL,
  computed_at       timestamptz NOT NULL DEFAULT now(),
  figures           lens.incident_metrics[] NOT NULL,
  PRIMARY KEY (granularity, tz, period_start)
);

-- Action items (METRICS.md 7): the functions of sql/lens/70_action_items.sql
-- read them by due day, by creation and by state.
CREATE INDEX action_items_no_due_date_idx ON public.action_items (created_at) WHERE due_date IS NULL;
CREATE INDEX action_items_not_done_idx ON public.action_items (due_date)
  WHERE completed_at IS NULL OR lower(status_category) <> 'done';
CREATE INDEX action_items_completed_at_idx ON public.action_items (completed_at);

-- Estimates for "not done": without them PostgreSQL takes nearly every item
-- for open and hashes whole tables to list a few hundred.
CREATE STATISTICS action_items_status_category_stats ON (lower(status_category)) FROM public.action_items;
ANALYZE public.action_items;
