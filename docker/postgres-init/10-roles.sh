#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised, as the
# superuser: creates the owner role the collector connects as and Grafana's
# read-only login (roles.psql). Passwords come from the environment only.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v database="$POSTGRES_DB" \
  -v owner_password="$INCIDENT_LENS_OWNER_PASSWORD" \
  -v reader_password="$INCIDENT_LENS_READER_PASSWORD" \
  -f /docker-entrypoint-initdb.d/roles.psql
