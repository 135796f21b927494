-- creatio-farm: Creatio PostgreSQL bootstrap. Generated file, do not edit.
-- Idempotent: safe to run again (existing role/database are converged, not recreated).
-- Run as a superuser, connected to the "postgres" database, with:
--   psql -v ON_ERROR_STOP=1 --no-psqlrc -v app_password="$CREATIO_DB_PASSWORD" -f <this file>
\set ON_ERROR_STOP on
\set db_name 'creatio'
\set app_user 'creatio'

-- 1. Preconditions -----------------------------------------------------------------
\if :{?app_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'creatio-farm: psql variable app_password is not set'; END $$;
\endif
SELECT :'app_password' = '' AS app_password_empty,
       :'app_user' = current_user AS app_user_is_current_user
\gset
\if :app_password_empty
  DO $$ BEGIN RAISE EXCEPTION 'creatio-farm: app_password is empty'; END $$;
\endif
\if :app_user_is_current_user
  DO $$ BEGIN RAISE EXCEPTION 'creatio-farm: app_user must not be the bootstrap superuser'; END $$;
\endif

-- 2. Application role: what Creatio nodes connect as (owns its database, nothing more) ---
SELECT format('CREATE ROLE %I', :'app_user')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'app_user')
\gexec

ALTER ROLE :"app_user" WITH
  LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT
  CONNECTION LIMIT -1 VALID UNTIL 'infinity'
  PASSWORD :'app_password';

-- 3. Database: created once, owned by the application role ---------------------------
SELECT format('CREATE DATABASE %I WITH OWNER = %I TEMPLATE = template0 ENCODING = %L CONNECTION LIMIT = -1',
              :'db_name', :'app_user', 'UTF8')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'db_name')
\gexec

SELECT pg_catalog.pg_encoding_to_char(encoding) <> 'UTF8' AS db_not_utf8
  FROM pg_catalog.pg_database WHERE datname = :'db_name'
\gset
\if :db_not_utf8
  DO $$ BEGIN RAISE EXCEPTION 'creatio-farm: existing database is not UTF8'; END $$;
\endif

ALTER DATABASE :"db_name" OWNER TO :"app_user";
REVOKE ALL ON DATABASE :"db_name" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db_name" TO :"app_user";

-- 4. Schema "public" inside the database: the app role must be able to CREATE there
--    (pg_restore --no-owner; PostgreSQL 15+ no longer grants CREATE to PUBLIC).
\connect :"db_name"
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"app_user";
