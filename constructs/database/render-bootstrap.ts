/**
 * Pure renderers for the Creatio PostgreSQL bootstrap (no cdktf import, no I/O besides reading
 * the two templates that sit next to this file).
 *
 * - renderBootstrapSql(): the idempotent psql script (role + database + grants).
 * - renderInitScript():   the POSIX sh script for /docker-entrypoint-initdb.d/ that runs it.
 *
 * No secret is ever rendered: the app role password reaches psql at run time through a file
 * (CREATIO_DB_PASSWORD_FILE; or the environment, CREATIO_DB_PASSWORD) and the psql variable `app_password`.
 */
import { template } from "../lib/template";

export const DEFAULT_BOOTSTRAP_SQL_PATH = "/opt/creatio-farm/bootstrap.sql";
/** File name the init script must have inside /docker-entrypoint-initdb.d/. */
export const INIT_SCRIPT_FILE_NAME = "10-creatio-bootstrap.sh";
/** Environment variable naming the file with the app role password, which the init script reads. */
export const APP_PASSWORD_FILE_ENV = "CREATIO_DB_PASSWORD_FILE";

export interface BootstrapModel {
  /** Database Creatio uses; created once, owned by appUser. */
  readonly databaseName: string;
  /** Non-superuser LOGIN role the Creatio nodes connect as. */
  readonly appUser: string;
  /** Absolute path of the rendered SQL inside the container (default DEFAULT_BOOTSTRAP_SQL_PATH). */
  readonly sqlPath?: string;
}

const NAME_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const SQL_PATH_RE = /^\/[A-Za-z0-9._/-]*$/;
/** Names PostgreSQL reserves or that would target the built-in objects. */
export const RESERVED_ROLES: readonly string[] = ["public", "none", "postgres", "current_user", "current_role", "session_user"];
export const RESERVED_DATABASES: readonly string[] = ["postgres", "template0", "template1"];

function validate(model: BootstrapModel): { databaseName: string; appUser: string; sqlPath: string } {
  const { databaseName, appUser } = model;
  for (const [field, value] of [["databaseName", databaseName], ["appUser", appUser]] as const) {
    if (typeof value !== "string" || !NAME_RE.test(value)) {
      throw new Error(`creatio-farm: ${field} must match ${NAME_RE.source}, got ${JSON.stringify(value)}`);
    }
  }
  if (appUser.startsWith("pg_") || RESERVED_ROLES.includes(appUser)) {
    throw new Error(`creatio-farm: appUser ${JSON.stringify(appUser)} is reserved`);
  }
  if (RESERVED_DATABASES.includes(databaseName)) {
    throw new Error(`creatio-farm: databaseName ${JSON.stringify(databaseName)} is reserved`);
  }
  const sqlPath = model.sqlPath ?? DEFAULT_BOOTSTRAP_SQL_PATH;
  if (!SQL_PATH_RE.test(sqlPath) || sqlPath.split("/").includes("..") || sqlPath.endsWith("/")) {
    throw new Error(`creatio-farm: sqlPath must be an absolute file path of [A-Za-z0-9._/-], got ${JSON.stringify(sqlPath)}`);
  }
  return { databaseName, appUser, sqlPath };
}

const sqlTemplate = template(__dirname, "bootstrap.sql.hbs");
const hbaTemplate = template(__dirname, "pg_hba.conf.hbs");

export interface PgHbaClient {
  readonly database: string;
  readonly role: string;
  /** IPv4 network (CIDR) the role connects from. */
  readonly network: string;
}

const CIDR_RE = /^(?:\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;

/**
 * pg_hba.conf: the superuser over the local socket only; each client role to its own database from its network,
 * by password (scram-sha-256); nothing else.
 */
export function renderPgHba(clients: readonly PgHbaClient[]): string {
  for (const c of clients) {
    validate({ databaseName: c.database, appUser: c.role });
    if (!CIDR_RE.test(c.network)) throw new Error(`creatio-farm: pg_hba network must be an IPv4 CIDR, got ${JSON.stringify(c.network)}`);
  }
  return hbaTemplate({ clients });
}
const initTemplate = template(__dirname, "init-bootstrap.sh.hbs");

/** The idempotent bootstrap SQL (psql script). Expects psql variable `app_password` at run time. */
export function renderBootstrapSql(model: BootstrapModel): string {
  const { databaseName, appUser } = validate(model);
  return sqlTemplate({ databaseName, appUser });
}

/** The /docker-entrypoint-initdb.d/10-creatio-bootstrap.sh script (POSIX sh, mode 0755). */
export function renderInitScript(model: BootstrapModel): string {
  return initTemplate(validate(model));
}
