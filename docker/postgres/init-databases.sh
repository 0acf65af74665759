#!/bin/bash
# Runs once, when the postgres volume is first created: one role and database for the Airflow
# metadata, one role owning the connector database (SIS + edfi_sync state) and the sandbox's.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v airflow_pw="$AIRFLOW_DB_PASSWORD" -v edfi_pw="$EDFI_DB_PASSWORD" <<'EOSQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_pw';
CREATE DATABASE airflow OWNER airflow;
CREATE ROLE edfi LOGIN PASSWORD :'edfi_pw';
CREATE DATABASE edfi_sync OWNER edfi;
CREATE DATABASE edfi_sandbox OWNER edfi;
EOSQL
