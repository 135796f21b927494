/**
 * Pure renderers for the Creatio PostgreSQL bootstrap (no cdktf import, no I/O besides reading
 * the two templates that sit next to this file).
 *
 * - renderBootstrapSql():    the idempotent psql script (roles + database + grants).
 * - renderBootstrapScript(): the POSIX sh script the bootstrap job runs: waits for the server, runs the SQL.
 *
 * No secret is ever rendered: the app role password reaches psql at run time through a file
 * (CREATIO_DB_PASSWORD_FILE; or the environment, CREATIO_DB_PASSWORD) and the psql variable `app_password`; each
 * data role's through its own file and `data_role_<n>_password`.
 */
import { template } from "../lib/template";

export const DEFAULT_BOOTSTRAP_SQL_PATH = "/opt/creatio-farm/bootstrap.sql";
export const DEFAULT_FINISH_SQL_PATH = "/opt/creatio-farm/bootstrap-finish.sql";
/** Environment variable naming the file with the app role password, which the bootstrap script reads. */
export const APP_PASSWORD_FILE_ENV = "CREATIO_DB_PASSWORD_FILE";

export interface BootstrapModel {
  /** Database Creatio uses; created once, owned by appUser. */
  readonly databaseName: string;
  /** Non-superuser LOGIN role the Creatio nodes connect as. */
  readonly appUser: string;
  /** Absolute path of the rendered SQL inside the container (default DEFAULT_BOOTSTRAP_SQL_PATH). */
  readonly sqlPath?: string;
  /** Further login roles with data rights only (read and write rows, no DDL), e.g. the portal nodes'. @default - none */
  readonly dataRoles?: readonly DataRole[];
  /** How long the script waits for the server to accept connections. @default 300 */
  readonly waitSeconds?: number;
  /** Restore Creatio's backup into the database once, when it is empty. @default - no restore */
  readonly restore?: RestoreModel;
  /**
   * Creatio features (`Feature."Code"`) switched on for everyone, the way Creatio's setup guides do it, once the
   * database holds Creatio's tables. @default - none
   */
  readonly features?: readonly string[];
  /** Where the finishing SQL (own schemas, features) is, when there is any. @default DEFAULT_FINISH_SQL_PATH */
  readonly finishSqlPath?: string;
}

/** Where the job finds what a restore needs, inside its container. */
export interface RestoreModel {
  /** The backup (`pg_restore`'s custom format, Creatio's `db/*.backup`). */
  readonly backupPath: string;
  /** Creatio's `CreateTypeCastsPostgreSql.sql`. */
  readonly typeCastsPath: string;
  /** The rendered `renderRestoreHandOverSql()`. */
  readonly handOverPath: string;
  /** The rendered `renderRestoreSwapSql()`. */
  readonly swapPath: string;
  /** Names the backup in messages and in the database's comment (its file name on the Docker host). */
  readonly label: string;
}

/** The databases a restore goes through: its scratch copy, and the name the empty database has while replaced. */
export const RESTORE_SCRATCH_DATABASE = "creatio_farm_restore";
export const RESTORE_REPLACED_DATABASE = "creatio_farm_replaced";
/** The role a restore runs as (SET ROLE, never a login): everything it creates is then handed over with REASSIGN OWNED. */
export const RESTORE_ROLE = "creatio_farm_restorer";

/** Roles with a schema of their own (the Identity Service's), by their comment: what is in their schemas is the farm's. */
const FARM_SCHEMA_OWNERS =
  "(SELECT objoid FROM pg_catalog.pg_shdescription WHERE classoid = 'pg_catalog.pg_authid'::regclass AND description = 'creatio-farm schema role')";
/** A namespace (alias `n`) that holds a user's objects: not a system one, not a farm role's own. */
const USER_NAMESPACE = `n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' AND n.nspowner NOT IN ${FARM_SCHEMA_OWNERS}`;

/**
 * What a database holds of a user's, counted in one query: relations, routines and types outside the system
 * schemas, schemas of its own, large objects and extensions (plpgsql comes with every database). A farm role's own
 * schema and what is in it (the Identity Service's tables) do not count: that service re-creates them in a restored
 * database. 0 is an empty database, the only kind a restore replaces.
 */
export const USER_OBJECTS_SQL = [
  `SELECT (SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_NAMESPACE})`,
  `+ (SELECT count(*) FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_NAMESPACE})`,
  `+ (SELECT count(*) FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_NAMESPACE})`,
  `+ (SELECT count(*) FROM pg_catalog.pg_namespace n WHERE n.nspname <> 'public' AND ${USER_NAMESPACE})`,
  "+ (SELECT count(*) FROM pg_catalog.pg_largeobject_metadata)",
  "+ (SELECT count(*) FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql') AS user_objects",
].join(" ");
const LABEL_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/;

export interface DataRole {
  readonly name: string;
  /** Absolute path of the file holding its password, read at run time. */
  readonly passwordFile: string;
  /**
   * A schema of its own (named after it, first in its default search_path) where it creates and owns its tables,
   * instead of rights on the rows of Creatio's tables: the Identity Service's role. @default false
   */
  readonly ownSchema?: boolean;
}

const FEATURE_RE = /^[A-Za-z][A-Za-z0-9_]{0,249}$/;

const NAME_RE = /^[a-z_][a-z0-9_]{0,62}$/;
const SQL_PATH_RE = /^\/[A-Za-z0-9._/-]*$/;
/** Names PostgreSQL reserves or that would target the built-in objects. */
export const RESERVED_ROLES: readonly string[] = ["public", "none", "postgres", "current_user", "current_role", "session_user", "information_schema", "creatio_farm_restorer"];
export const RESERVED_DATABASES: readonly string[] = ["postgres", "template0", "template1"];

interface ValidModel {
  databaseName: string;
  appUser: string;
  sqlPath: string;
  dataRoles: readonly DataRole[];
  waitSeconds: number;
  restore?: RestoreModel & { scratch: string; replaced: string; role: string; userObjectsSql: string };
  features: readonly string[];
  /** Where the finishing SQL is, when there is any (an own schema, a feature). */
  finishSqlPath: string | false;
}

/** Why `name` cannot be a login role of the farm, or undefined. */
export function roleNameProblem(name: string): string | undefined {
  if (typeof name !== "string" || !NAME_RE.test(name)) return `must match ${NAME_RE.source}, got ${JSON.stringify(name)}`;
  if (name.startsWith("pg_") || RESERVED_ROLES.includes(name)) return `${JSON.stringify(name)} is reserved`;
  return undefined;
}

function validate(model: BootstrapModel): ValidModel {
  const { databaseName, appUser } = model;
  if (typeof databaseName !== "string" || !NAME_RE.test(databaseName)) {
    throw new Error(`creatio-farm: databaseName must match ${NAME_RE.source}, got ${JSON.stringify(databaseName)}`);
  }
  const dataRoles = model.dataRoles ?? [];
  for (const [field, value] of [["appUser", appUser], ...dataRoles.map((r, i) => [`dataRoles[${i}].name`, r.name])]) {
    const problem = roleNameProblem(value);
    if (problem) throw new Error(`creatio-farm: ${field} ${problem}`);
  }
  const names = [appUser, ...dataRoles.map((r) => r.name)];
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new Error(`creatio-farm: role ${JSON.stringify(twice)} is named twice; each client needs a role of its own`);
  for (const [i, r] of dataRoles.entries()) {
    if (!isFilePath(r.passwordFile)) {
      throw new Error(`creatio-farm: dataRoles[${i}].passwordFile must be an absolute file path of [A-Za-z0-9._/-], got ${JSON.stringify(r.passwordFile)}`);
    }
  }
  const waitSeconds = model.waitSeconds ?? 300;
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1) throw new Error(`creatio-farm: waitSeconds must be a positive integer, got ${waitSeconds}`);
  if ([RESTORE_SCRATCH_DATABASE, RESTORE_REPLACED_DATABASE].includes(databaseName)) {
    throw new Error(`creatio-farm: databaseName ${JSON.stringify(databaseName)} is reserved for a restore's scratch database`);
  }
  const r = model.restore;
  if (r) {
    for (const [field, value] of [["backupPath", r.backupPath], ["typeCastsPath", r.typeCastsPath], ["handOverPath", r.handOverPath], ["swapPath", r.swapPath]] as const) {
      if (!isFilePath(value)) throw new Error(`creatio-farm: restore.${field} must be an absolute file path of [A-Za-z0-9._/-], got ${JSON.stringify(value)}`);
    }
    if (!LABEL_RE.test(r.label)) throw new Error(`creatio-farm: restore.label must be a file name of [A-Za-z0-9._-], got ${JSON.stringify(r.label)}`);
  }
  if (RESERVED_DATABASES.includes(databaseName)) {
    throw new Error(`creatio-farm: databaseName ${JSON.stringify(databaseName)} is reserved`);
  }
  const sqlPath = model.sqlPath ?? DEFAULT_BOOTSTRAP_SQL_PATH;
  if (!isFilePath(sqlPath)) {
    throw new Error(`creatio-farm: sqlPath must be an absolute file path of [A-Za-z0-9._/-], got ${JSON.stringify(sqlPath)}`);
  }
  const restore = r && { ...r, scratch: RESTORE_SCRATCH_DATABASE, replaced: RESTORE_REPLACED_DATABASE, role: RESTORE_ROLE, userObjectsSql: USER_OBJECTS_SQL };
  const features = [...new Set(model.features ?? [])].sort();
  for (const f of features) {
    if (!FEATURE_RE.test(f)) throw new Error(`creatio-farm: feature codes must match ${FEATURE_RE.source}, got ${JSON.stringify(f)}`);
  }
  const finish = features.length > 0 || dataRoles.some((d) => d.ownSchema);
  const finishSqlPath = finish ? (model.finishSqlPath ?? DEFAULT_FINISH_SQL_PATH) : false;
  if (finishSqlPath !== false && !isFilePath(finishSqlPath)) {
    throw new Error(`creatio-farm: finishSqlPath must be an absolute file path of [A-Za-z0-9._/-], got ${JSON.stringify(finishSqlPath)}`);
  }
  return { databaseName, appUser, sqlPath, dataRoles, waitSeconds, restore, features, finishSqlPath };
}

function isFilePath(p: string): boolean {
  return SQL_PATH_RE.test(p) && !p.split("/").includes("..") && !p.endsWith("/");
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
const scriptTemplate = template(__dirname, "bootstrap-job.sh.hbs");

/** The idempotent bootstrap SQL (psql script). Expects psql variables `app_password` and `data_role_<n>_password`. */
export function renderBootstrapSql(model: BootstrapModel): string {
  const { databaseName, appUser, dataRoles } = validate(model);
  return sqlTemplate({ databaseName, appUser, dataRoles: dataRoles.map((r) => ({ name: r.name, ownSchema: r.ownSchema === true })) });
}

const finishTemplate = template(__dirname, "bootstrap-finish.sql.hbs");

/**
 * What the job does last, once the database holds what it will hold (after a restore): the schemas of the roles
 * that have their own, and the features switched on. Undefined when there is nothing to do.
 */
export function renderBootstrapFinishSql(model: BootstrapModel): string | undefined {
  const valid = validate(model);
  if (valid.finishSqlPath === false) return undefined;
  return finishTemplate({ databaseName: valid.databaseName, schemaRoles: valid.dataRoles.filter((r) => r.ownSchema).map((r) => r.name), features: valid.features });
}

/** The bootstrap job's script (POSIX sh, mode 0755): waits for the server, then runs the SQL as the superuser. */
export function renderBootstrapScript(model: BootstrapModel): string {
  const valid = validate(model);
  return scriptTemplate({ ...valid, restore: valid.restore ?? false, dataRoles: valid.dataRoles.map((r) => ({ ...r, ownSchema: r.ownSchema === true })) });
}

const handOverTemplate = template(__dirname, "restore-hand-over.sql.hbs");
const swapTemplate = template(__dirname, "restore-swap.sql.hbs");

/** The SQL that gives a restore's objects to the application role (psql variable `app_user`). */
export function renderRestoreHandOverSql(): string {
  return handOverTemplate({ role: RESTORE_ROLE });
}

/** The SQL that swaps a complete restore in place of the empty database (psql variables, see the template). */
export function renderRestoreSwapSql(): string {
  return swapTemplate({ userObjectsSql: USER_OBJECTS_SQL });
}
