#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised. Creates the
# login of the read-only role Grafana uses; the collector's migration then
# grants it SELECT on the reporting objects (and creates it NOLOGIN where this
# script did not run). The password comes from the environment only.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader_password="$INCIDENT_LENS_READER_PASSWORD" <<'SQL'
CREATE ROLE incident_lens_reader LOGIN PASSWORD :'reader_password';
SQL
