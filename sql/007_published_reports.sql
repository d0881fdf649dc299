-- Monthly reports as they were published. Late data (a resolve synced a week
-- later, a reopened action item) can change a closed month; the report then
-- shows what changed since publication instead of silently moving.
CREATE TABLE published_reports (
  granularity  text NOT NULL CHECK (granularity IN ('day', 'week', 'month')),
  period_label text NOT NULL,
  timezone     text NOT NULL,
  as_of        timestamptz NOT NULL,
  report       jsonb NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (granularity, period_label, timezone)
);
