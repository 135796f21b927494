#!/bin/sh
# creatio-farm: Creatio PostgreSQL bootstrap. Generated file, do not edit.
# Run once by the postgres image entrypoint on an empty data directory.
# Needs: POSTGRES_USER (superuser, set by the image) and CREATIO_DB_PASSWORD (app role password).
set -eu

if [ -z "${POSTGRES_USER:-}" ]; then
  echo "creatio-farm: POSTGRES_USER is not set; refusing to bootstrap the Creatio database" >&2
  exit 1
fi
if [ -z "${CREATIO_DB_PASSWORD:-}" ]; then
  echo "creatio-farm: CREATIO_DB_PASSWORD is empty or not set; refusing to bootstrap the Creatio database" >&2
  exit 1
fi

echo "creatio-farm: bootstrapping database 'creatio' for role 'creatio'"
psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password \
  --username "$POSTGRES_USER" \
  --dbname postgres \
  -v app_password="$CREATIO_DB_PASSWORD" \
  -f '/opt/creatio-farm/bootstrap.sql'
echo "creatio-farm: bootstrap of 'creatio' done"
