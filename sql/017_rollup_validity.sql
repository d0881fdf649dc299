-- A cached period holds for an interval of as_of, not only from when it is
-- settled: from stable_from (the last instant at or before its computation
-- at which any of its incidents changed) until valid_until (the next such
-- instant: a deadline, an acknowledgement or resolution stamped later).
-- Recent days can then be cached between syncs, and a range can be summed
-- from cached days and months (sql/lens/50_rollup_cache.sql).
ALTER TABLE lens.period_rollup ADD COLUMN valid_until timestamptz NOT NULL DEFAULT 'infinity';

-- The exact sums behind the means of each row of `figures`: a mean of
-- several periods is the sum of their sums over the sum of their counts,
-- exactly what avg() over all their incidents gives.
CREATE TYPE lens.duration_sums AS (
  dimension     text,
  dimension_key text,
  tta_seconds   numeric,
  ttr_seconds   numeric,
  ttd_seconds   numeric
);

ALTER TABLE lens.period_rollup ADD COLUMN sums lens.duration_sums[] NOT NULL DEFAULT '{}';
