-- Report deliveries (sql/010_delivery_log.sql) as readers see them.

-- What the app's Configuration page shows: each recipient of each run,
-- without the report body.
CREATE VIEW lens.report_deliveries AS
SELECT r.id AS run_id, r.granularity, r.period_label, r.timezone, r.trigger, r.as_of, r.started_at, r.finished_at,
       l.position, l.channel, l.recipient, l.status, l.tries, l.bytes, l.error, l.updated_at, l.sent_at
FROM public.delivery_runs r
JOIN public.delivery_log l ON l.run_id = r.id;
