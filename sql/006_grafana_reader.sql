-- The role Grafana reads as (incident_lens_reader). It may read the schema
-- lens and nothing else: no core table, no write, no DDL; its grants are in
-- sql/lens/99_grants.sql. Deployments create it with a login and a password
-- (docker/postgres-init); here it is created without a login where it does
-- not exist yet.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'incident_lens_reader') THEN
    CREATE ROLE incident_lens_reader NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  -- Roles belong to the cluster: another database of the same server (tests
  -- run several) created it at the same moment.
  NULL;
END $$;

-- Its transactions are read-only, so that even a function that would write
-- fails. Only a role allowed to alter it can set this (docker/postgres-init
-- does, as the superuser); a reader without it is refused here rather than
-- left able to write.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s
                 WHERE s.setrole = 'incident_lens_reader'::regrole AND s.setdatabase = 0
                   AND 'default_transaction_read_only=on' = ANY (s.setconfig)) THEN
    ALTER ROLE incident_lens_reader SET default_transaction_read_only = on;
  END IF;
EXCEPTION
  WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'incident_lens_reader must have read-only transactions: as a superuser, run ALTER ROLE incident_lens_reader SET default_transaction_read_only = on'
      USING ERRCODE = 'insufficient_privilege';
  WHEN OTHERS THEN
    -- Another database of the server set it at the same moment ("tuple concurrently updated").
    IF NOT EXISTS (SELECT 1 FROM pg_db_role_setting s
                   WHERE s.setrole = 'incident_lens_reader'::regrole AND s.setdatabase = 0
                     AND 'default_transaction_read_only=on' = ANY (s.setconfig)) THEN
      RAISE;
    END IF;
END $$;
