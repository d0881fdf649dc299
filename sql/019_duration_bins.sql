-- Exact percentiles of long ranges without sorting every duration in them.
--
-- Each duration falls in a bin (32 bins per factor e of seconds: neighbours
-- differ by about 3 %). A cached period keeps how many of its durations fall
-- in each bin; added over the pieces of a range, those counts say which bin
-- holds the rank a percentile needs and how many durations lie below it.
-- Only that bin's durations are then read, in index order, and sorted:
-- a few thousand values instead of every one of the range
-- (lens.range_figures, sql/lens/50_rollup_cache.sql).
--
-- The bins are stored columns, not expressions over a lens function: a
-- migration must not depend on functions that sql/lens/ drops and creates
-- again. Under one second is bin 0; bin 1000 (about 10^13 s) holds only
-- infinite spans.
ALTER TABLE lens.incident_fact
  ADD COLUMN tta_bin smallint GENERATED ALWAYS AS (
    CASE WHEN date_part('epoch', acknowledged_at - created_at) >= 1
         THEN least(1 + floor(ln(date_part('epoch', acknowledged_at - created_at)) * 32), 1000)
         WHEN acknowledged_at IS NOT NULL THEN 0 END) STORED,
  ADD COLUMN ttr_bin smallint GENERATED ALWAYS AS (
    CASE WHEN date_part('epoch', resolved_at - created_at) >= 1
         THEN least(1 + floor(ln(date_part('epoch', resolved_at - created_at)) * 32), 1000)
         WHEN resolved_at IS NOT NULL THEN 0 END) STORED,
  -- Time to detect exists only where the start of impact precedes creation.
  ADD COLUMN ttd_bin smallint GENERATED ALWAYS AS (
    CASE WHEN detected_at > created_at THEN NULL
         WHEN date_part('epoch', created_at - detected_at) >= 1
         THEN least(1 + floor(ln(date_part('epoch', created_at - detected_at)) * 32), 1000)
         WHEN detected_at IS NOT NULL THEN 0 END) STORED;

-- One bin of a range, read from the index alone: the instants the duration
-- and the as-of mask are computed from are in it.
CREATE INDEX incident_fact_tta_bin_idx ON lens.incident_fact (tta_bin, created_at) INCLUDE (acknowledged_at)
  WHERE NOT merged AND tta_bin IS NOT NULL;
CREATE INDEX incident_fact_ttr_bin_idx ON lens.incident_fact (ttr_bin, created_at) INCLUDE (resolved_at)
  WHERE NOT merged AND ttr_bin IS NOT NULL;
CREATE INDEX incident_fact_ttd_bin_idx ON lens.incident_fact (ttd_bin, created_at) INCLUDE (detected_at)
  WHERE NOT merged AND ttd_bin IS NOT NULL;

-- How many durations of one kind ('tta', 'ttr', 'ttd') of a cached period's
-- incidents (not merged, as of the row's interval) fall in each bin: `bins`
-- ascending, `counts` beside them, empty bins left out.
CREATE TYPE lens.duration_histogram AS (
  metric text,
  bins   smallint[],
  counts integer[]
);

-- NULL for rows cached before: a range with such a piece sorts its durations.
ALTER TABLE lens.period_rollup ADD COLUMN histograms lens.duration_histogram[];

-- Whether a cached row's snapshot saw every change (lens.cache_is_current)
-- is then looked up by transaction id, not tested change by change.
CREATE INDEX fact_changes_xid_idx ON lens.fact_changes (xid);
