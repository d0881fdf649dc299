-- The role Grafana reads as (incident_lens_reader). It may read the schema
-- lens and nothing else: no core table, no write, no DDL; its grants are in
-- sql/lens/99_grants.sql. Deployments give it LOGIN and a password out of
-- band (docker/postgres-init); here it is created without a login where it
-- does not exist yet.

-- Roles belong to the cluster, not the database: another database of the
-- same server (tests run several) may be creating it at the same moment.
DO $$
BEGIN
  CREATE ROLE incident_lens_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;
