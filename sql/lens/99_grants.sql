-- Last, because re-applying sql/lens drops and re-creates every function and
-- view, and their privileges with them.
--
-- incident_lens_reader (sql/006_grafana_reader.sql) reads the schema lens.
-- Its views run with their owner's rights and its functions that read core
-- tables are SECURITY DEFINER, so nothing in public is granted.

GRANT USAGE ON SCHEMA lens TO incident_lens_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA lens TO incident_lens_reader;
-- Tables that later migrations add to lens are readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA lens GRANT SELECT ON TABLES TO incident_lens_reader;

-- Functions are executable by PUBLIC by default. A VOLATILE one may write
-- (fact maintenance, the change log, the cache fillers) and a trigger
-- function exists for its writes: those are the owner's alone. What stays
-- executable is STABLE or IMMUTABLE, which PostgreSQL does not let write.
DO $$
DECLARE
  writer regprocedure;
BEGIN
  FOR writer IN
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'lens' AND (p.provolatile = 'v' OR p.prorettype IN ('void'::regtype, 'trigger'::regtype))
  LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', writer);
  END LOOP;
END $$;
