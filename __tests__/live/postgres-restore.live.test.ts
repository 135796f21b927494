/**
 * Live tier: the bootstrap job's restore of Creatio's backup, run against a REAL PostgreSQL (started and stopped
 * by PID) the way the job runs it. The backup is a fixture made here with pg_dump: the Creatio tables the setup
 * scripts touch (Feature, AdminUnitFeatureState, SysSettings, SysSettingsValue) with a sequence, a view, a function
 * and a domain, and a large log table so that a restore can be interrupted midway.
 */
import { ChildProcess, spawn, spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
  BootstrapModel,
  renderBootstrapScript,
  renderBootstrapFinishSql,
  renderBootstrapSql,
  renderRestoreHandOverSql,
  renderRestoreSwapSql,
} from "../../constructs/database/render-bootstrap";
import { PgServer, startPostgres } from "./support/postgres";
import { sleep } from "./support/processes";

const APP_PASSWORD = "app-pw-1";
const PORTAL_PASSWORD = "portal-pw-1";
let pg: PgServer | undefined;
let dir = "";
let backup = "";
let typeCasts = "";

function server(): PgServer {
  if (!pg) throw new Error("PostgreSQL did not start (see beforeAll error)");
  return pg;
}

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`command failed (${r.status ?? r.signal}):\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r.stdout.trim();
}
const admin = (db: string, sql: string) => ok(server().psqlAdmin(db, sql));

/** The job's files for `databaseName`, rendered into the work dir; the script's path and environment. */
function job(databaseName: string, backupFile = backup): { script: string; env: NodeJS.ProcessEnv } {
  const s = server();
  const at = (name: string) => path.join(dir, `${databaseName}-${name}`);
  fs.writeFileSync(at("app-password"), APP_PASSWORD, { mode: 0o600 });
  fs.writeFileSync(at("portal-password"), PORTAL_PASSWORD, { mode: 0o600 });
  fs.writeFileSync(at("hand-over.sql"), renderRestoreHandOverSql());
  fs.writeFileSync(at("swap.sql"), renderRestoreSwapSql());
  const model: BootstrapModel = {
    databaseName,
    appUser: `${databaseName}_app`,
    sqlPath: at("bootstrap.sql"),
    dataRoles: [
      { name: `${databaseName}_portal`, passwordFile: at("portal-password") },
      // The Identity Service's: its schema is made after the restore, so it never makes the database look restored.
      { name: `${databaseName}_identity`, passwordFile: at("portal-password"), ownSchema: true },
    ],
    features: ["OAuth20Integration"],
    finishSqlPath: at("finish.sql"),
    waitSeconds: 10,
    restore: { backupPath: backupFile, typeCastsPath: typeCasts, handOverPath: at("hand-over.sql"), swapPath: at("swap.sql"), label: path.basename(backupFile) },
  };
  fs.writeFileSync(model.sqlPath!, renderBootstrapSql(model));
  fs.writeFileSync(model.finishSqlPath!, renderBootstrapFinishSql(model)!);
  fs.writeFileSync(at("bootstrap.sh"), renderBootstrapScript(model), { mode: 0o755 });
  const env = { PATH: `${s.binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`, POSTGRES_USER: "postgres", PGHOST: s.socketDir, PGPORT: String(s.port), CREATIO_DB_PASSWORD_FILE: at("app-password") };
  return { script: at("bootstrap.sh"), env };
}

const run = (databaseName: string, backupFile = backup) => {
  const j = job(databaseName, backupFile);
  return spawnSync(j.script, [], { encoding: "utf8", env: j.env, timeout: 120_000 });
};

/** Until a running job's pg_restore has begun filling the scratch database (its largest table exists). */
async function restoreBegun(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = server().psqlAdmin("creatio_farm_restore", `SELECT count(*) FROM pg_class WHERE relname = 'SysLog' AND relkind = 'r'`);
    if (r.status === 0 && r.stdout.trim() === "1") return;
    if (Date.now() > deadline) throw new Error("the restore never began");
    await sleep(20);
  }
}

const tablesOf = (db: string) => admin(db, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'");
const databases = () => admin("postgres", "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'creatio%'");

beforeAll(async () => {
  pg = await startPostgres({ readyTimeoutMs: 15_000 });
  dir = path.join(pg.workDir, "restore");
  fs.mkdirSync(dir);
  // The fixture: what Creatio's setup scripts touch, quoted names as Creatio's are, and 400,000 log rows.
  admin("postgres", "CREATE DATABASE fixture_src");
  admin(
    "fixture_src",
    `CREATE DOMAIN "ShortText" AS varchar(50);
     CREATE TABLE "Feature" ("Id" uuid PRIMARY KEY, "Code" "ShortText" NOT NULL UNIQUE);
     CREATE TABLE "AdminUnitFeatureState" ("Id" serial PRIMARY KEY, "FeatureId" uuid REFERENCES "Feature", "SysAdminUnitId" uuid, "FeatureState" int NOT NULL DEFAULT 0);
     CREATE TABLE "SysSettings" ("Id" uuid PRIMARY KEY, "Code" varchar(250) NOT NULL UNIQUE, "ValueTypeName" varchar(50));
     CREATE TABLE "SysSettingsValue" ("Id" serial PRIMARY KEY, "SysSettingsId" uuid REFERENCES "SysSettings", "TextValue" text);
     CREATE TABLE "SysLog" ("Id" bigserial PRIMARY KEY, "Message" text);
     CREATE VIEW "VwFeatureState" AS SELECT f."Code", s."FeatureState" FROM "Feature" f JOIN "AdminUnitFeatureState" s ON s."FeatureId" = f."Id";
     CREATE TYPE "DateSpan" AS RANGE (subtype = date);
     CREATE SCHEMA "Reports";
     CREATE TABLE "Reports"."Monthly" ("Id" int GENERATED ALWAYS AS IDENTITY, "Span" "DateSpan");
     SELECT lo_from_bytea(0, 'attachment');
     CREATE FUNCTION "fn_FeatureEnabled"(code text) RETURNS boolean LANGUAGE sql AS $$ SELECT coalesce(bool_or(s."FeatureState" = 1), false) FROM "Feature" f JOIN "AdminUnitFeatureState" s ON s."FeatureId" = f."Id" WHERE f."Code" = code $$;
     INSERT INTO "Feature" VALUES ('11111111-1111-1111-1111-111111111111', 'OAuth20Integration');
     INSERT INTO "AdminUnitFeatureState" ("FeatureId", "FeatureState") VALUES ('11111111-1111-1111-1111-111111111111', 0);
     INSERT INTO "SysSettings" VALUES ('22222222-2222-2222-2222-222222222222', 'SiteUrl', 'Text');
     INSERT INTO "SysSettingsValue" ("SysSettingsId", "TextValue") VALUES ('22222222-2222-2222-2222-222222222222', 'https://old.example.com');
     INSERT INTO "SysLog" ("Message") SELECT repeat(md5(i::text), 8) FROM generate_series(1, 400000) i;`,
  );
  backup = path.join(dir, "fixture.backup");
  ok(spawnSync(path.join(pg.binDir, "pg_dump"), ["-Fc", "-h", pg.socketDir, "-p", String(pg.port), "-U", "postgres", "-f", backup, "fixture_src"], { encoding: "utf8" }));
  typeCasts = path.join(dir, "CreateTypeCastsPostgreSql.sql");
  fs.writeFileSync(typeCasts, "CREATE CAST (text AS uuid) WITH INOUT AS IMPLICIT;\n");
}, 120_000);

afterAll(async () => {
  await pg?.stop();
}, 30_000);

describe("GIVEN an empty database and Creatio's backup", () => {
  let first: SpawnSyncReturns<string>;
  beforeAll(() => {
    first = run("creatio_r");
  }, 120_000);

  test("WHEN the job runs THEN the backup is in the database, with the type casts, and no scratch database is left", () => {
    ok(first);
    expect(first.stdout).toContain("creatio-farm: fixture.backup restored into 'creatio_r'");
    expect(tablesOf("creatio_r")).toBe("5");
    expect(admin("creatio_r", `SELECT count(*) FROM "SysLog"`)).toBe("400000");
    expect(admin("creatio_r", `SELECT "Code" FROM "Feature"`)).toBe("OAuth20Integration");
    expect(admin("creatio_r", "SELECT count(*) FROM pg_cast WHERE castsource = 'text'::regtype AND casttarget = 'uuid'::regtype")).toBe("1");
    expect(databases()).toBe("creatio_r");
    expect(admin("postgres", "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'creatio_r'")).toBe("creatio-farm: restored from fixture.backup");
  });

  test("THEN, after the restore, OAuth20Integration is on and the Identity Service's role has its schema", () => {
    expect(first.stdout).toContain("creatio-farm: feature OAuth20Integration on ( 1 of 1 state row(s) switched now)");
    expect(first.stdout.indexOf("restored into 'creatio_r'")).toBeLessThan(first.stdout.indexOf("feature OAuth20Integration on"));
    expect(admin("creatio_r", `SELECT "FeatureState" FROM "AdminUnitFeatureState"`)).toBe("1");
    expect(admin("creatio_r", "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'creatio_r_identity'")).toBe("creatio_r_identity");
  });

  test("THEN every restored object belongs to the application role (relations, identity sequences, routines, types, ranges and their multiranges, schemas, large objects), which can change the schema; the portal role reads and writes the rows", () => {
    const owners = admin(
      "creatio_r",
      `SELECT string_agg(DISTINCT o, ',') FROM (
         SELECT pg_get_userbyid(c.relowner) o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
         UNION SELECT pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
         UNION SELECT pg_get_userbyid(t.typowner) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
         UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname NOT IN ('information_schema', 'public', 'creatio_r_identity')
         UNION SELECT pg_get_userbyid(lomowner) FROM pg_largeobject_metadata) x`,
    );
    expect(owners).toBe("creatio_r_app");
    expect(admin("creatio_r", "SELECT count(*) FROM pg_type WHERE typtype = 'm' AND typnamespace = 'public'::regnamespace")).toBe("1");
    // the role the restore ran as is gone
    expect(admin("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'creatio_farm_restorer'")).toBe("0");
    const s = server();
    ok(s.psqlTcp("creatio_r_app", APP_PASSWORD, "creatio_r", `ALTER TABLE "SysSettings" ADD COLUMN "Extra" int; UPDATE "AdminUnitFeatureState" SET "FeatureState" = 1`));
    expect(ok(s.psqlTcp("creatio_r_portal", PORTAL_PASSWORD, "creatio_r", `INSERT INTO "SysSettingsValue" ("SysSettingsId", "TextValue") VALUES ('22222222-2222-2222-2222-222222222222', 'x') RETURNING "TextValue"`))).toMatch(/^x/);
    expect(ok(s.psqlTcp("creatio_r_portal", PORTAL_PASSWORD, "creatio_r", `SELECT "fn_FeatureEnabled"('OAuth20Integration')`))).toBe("t");
  });

  test("WHEN the job runs a second time THEN it restores nothing and the data written since is kept", () => {
    admin("creatio_r", `INSERT INTO "SysLog" ("Message") VALUES ('written after the restore')`);
    const second = run("creatio_r");
    ok(second);
    expect(second.stdout).toMatch(/creatio-farm: database 'creatio_r' holds \d+ object\(s\): nothing restored/);
    expect(admin("creatio_r", `SELECT count(*) FROM "SysLog"`)).toBe("400001");
    expect(databases()).toBe("creatio_r");
  }, 120_000);
});

describe("a restore that does not finish never leaves a part of the backup in the farm's database", () => {
  test("GIVEN a damaged backup WHEN the job runs THEN it fails saying so and the database stays empty; WITH the good one THEN the next run restores it", () => {
    const damaged = path.join(dir, "damaged.backup");
    const bytes = fs.readFileSync(backup);
    fs.writeFileSync(damaged, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const failed = run("creatio_f", damaged);
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain("creatio-farm: pg_restore of damaged.backup failed");
    expect(tablesOf("creatio_f")).toBe("0");
    // the scratch database is there, unmarked: the next run starts over
    expect(databases()).toBe("creatio_f,creatio_farm_restore,creatio_r");
    const next = run("creatio_f");
    ok(next);
    expect(admin("creatio_f", `SELECT count(*) FROM "SysLog"`)).toBe("400000");
    expect(databases()).toBe("creatio_f,creatio_r");
  }, 120_000);

  test("GIVEN the job killed in the middle of pg_restore THEN the database is still empty, and the next run restores it whole", async () => {
    const j = job("creatio_k");
    const child: ChildProcess = spawn(j.script, [], { env: j.env, detached: true, stdio: "ignore" });
    try {
      await restoreBegun();
    } finally {
      process.kill(-child.pid!, "SIGKILL");
    }
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once("exit", resolve)));
    expect(tablesOf("creatio_k")).toBe("0");
    const next = run("creatio_k");
    ok(next);
    expect(admin("creatio_k", `SELECT count(*) FROM "SysLog"`)).toBe("400000");
    expect(databases()).toBe("creatio_f,creatio_k,creatio_r");
  }, 120_000);

  test("GIVEN a complete restore waiting (a run stopped before the swap) THEN the next run puts that one in place, without restoring again", () => {
    run("creatio_w"); // the database exists and is restored: make it empty again and leave a marked scratch copy
    admin("postgres", `DROP DATABASE creatio_w WITH (FORCE)`);
    admin("postgres", `CREATE DATABASE creatio_w OWNER creatio_w_app TEMPLATE template0`);
    admin("postgres", `CREATE DATABASE creatio_farm_restore OWNER creatio_w_app TEMPLATE template0`);
    admin("creatio_farm_restore", `CREATE TABLE "Sentinel" (id int); INSERT INTO "Sentinel" VALUES (7)`);
    const size = fs.statSync(backup).size;
    admin("postgres", `COMMENT ON DATABASE creatio_farm_restore IS 'creatio-farm: restore complete: fixture.backup, ${size} bytes, for creatio_w_app'`);
    const r = run("creatio_w");
    ok(r);
    expect(r.stdout).toContain("a complete restore of fixture.backup is waiting in 'creatio_farm_restore'");
    expect(r.stdout).not.toContain("restoring fixture.backup");
    expect(admin("creatio_w", `SELECT id FROM "Sentinel"`)).toBe("7");
  }, 120_000);

  test("GIVEN a complete restore of another backup (or for another owner) waiting THEN it is dropped and this backup restored", () => {
    admin("postgres", `DROP DATABASE creatio_w WITH (FORCE)`);
    admin("postgres", `CREATE DATABASE creatio_w OWNER creatio_w_app TEMPLATE template0`);
    admin("postgres", `CREATE DATABASE creatio_farm_restore OWNER creatio_w_app TEMPLATE template0`);
    admin("creatio_farm_restore", `CREATE TABLE "Sentinel" (id int)`);
    admin("postgres", `COMMENT ON DATABASE creatio_farm_restore IS 'creatio-farm: restore complete: other.backup, 1 bytes, for creatio_w_app'`);
    const r = run("creatio_w");
    ok(r);
    expect(r.stdout).toContain("restoring fixture.backup into 'creatio_farm_restore'");
    expect(admin("creatio_w", `SELECT count(*) FROM pg_class WHERE relname = 'Sentinel'`)).toBe("0");
    expect(admin("creatio_w", `SELECT count(*) FROM "SysLog"`)).toBe("400000");
  }, 120_000);
});

describe("a database that is not empty is never replaced", () => {
  test.each([
    ["a materialized view", `CREATE MATERIALIZED VIEW kept AS SELECT generate_series(1, 1000) AS n`],
    ["a sequence", `CREATE SEQUENCE kept START 98765`],
    ["a large object", `SELECT lo_from_bytea(0, 'kept')`],
    ["a table in a schema of its own", `CREATE SCHEMA kept; CREATE TABLE kept.t (i int)`],
  ])("GIVEN a database that holds only %s THEN nothing is restored and it is kept", (_, sql) => {
    const name = `creatio_e${Math.floor(Math.random() * 1e6)}`;
    ok(run(name)); // creates and restores
    admin("postgres", `DROP DATABASE ${name} WITH (FORCE)`);
    admin("postgres", `CREATE DATABASE ${name} OWNER ${name}_app TEMPLATE template0`);
    admin(name, sql);
    const r = run(name);
    ok(r);
    expect(r.stdout).toMatch(new RegExp(`database '${name}' holds \\d+ object\\(s\\): nothing restored`));
    expect(admin(name, `SELECT count(*) FROM pg_class WHERE relname = 'SysLog'`)).toBe("0");
    admin("postgres", `DROP DATABASE ${name} WITH (FORCE)`);
  }, 120_000);

  test("GIVEN a database that holds only the Identity Service's schema and tables (it ran before the restore was configured) THEN it is restored, and its schema is made again, empty", () => {
    const name = `creatio_s${Math.floor(Math.random() * 1e6)}`;
    ok(run(name));
    admin("postgres", `DROP DATABASE ${name} WITH (FORCE)`);
    admin("postgres", `CREATE DATABASE ${name} OWNER ${name}_app TEMPLATE template0`);
    admin(name, `CREATE SCHEMA ${name}_identity AUTHORIZATION ${name}_identity; SET ROLE ${name}_identity; CREATE TABLE ${name}_identity."Clients" ("Id" serial PRIMARY KEY, "ClientId" text)`);
    const r = run(name);
    ok(r);
    expect(r.stdout).toContain(`fixture.backup restored into '${name}'`);
    expect(admin(name, `SELECT count(*) FROM "SysLog"`)).toBe("400000");
    expect(admin(name, `SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = '${name}_identity'`)).toBe(`${name}_identity`);
    expect(admin(name, `SELECT count(*) FROM pg_tables WHERE schemaname = '${name}_identity'`)).toBe("0");
    expect(admin("postgres", "SELECT count(*) FROM pg_database WHERE datname LIKE 'creatio\\_farm\\_%'")).toBe("0");
    admin("postgres", `DROP DATABASE ${name} WITH (FORCE)`);
  }, 120_000);

  test("GIVEN the database written to while the backup is restored THEN it is not replaced: what was written stays, the job fails saying so", async () => {
    const j = job("creatio_race");
    let out = "";
    const child: ChildProcess = spawn(j.script, [], { env: j.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (c) => (out += c));
    child.stderr!.on("data", (c) => (out += c));
    await restoreBegun();
    admin("creatio_race", `CREATE TABLE written_meanwhile (i int); INSERT INTO written_meanwhile VALUES (1)`);
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).not.toBe(0);
    expect(out).toContain("the database was written to while the backup was restored: it is not replaced");
    expect(admin("creatio_race", `SELECT i FROM written_meanwhile`)).toBe("1");
    expect(admin("creatio_race", `SELECT count(*) FROM pg_class WHERE relname = 'SysLog'`)).toBe("0");
    // and its roles may connect again
    expect(ok(server().psqlTcp("creatio_race_app", APP_PASSWORD, "creatio_race", "SELECT 1"))).toBe("1");
  }, 120_000);

  test("GIVEN an empty database left by a swap that died before dropping it THEN the next run drops it and restores", () => {
    admin("postgres", `CREATE DATABASE creatio_farm_replaced`);
    const r = run("creatio_z");
    ok(r);
    expect(admin("creatio_z", `SELECT count(*) FROM "SysLog"`)).toBe("400000");
    expect(admin("postgres", `SELECT count(*) FROM pg_database WHERE datname = 'creatio_farm_replaced'`)).toBe("0");
  }, 120_000);

  test("GIVEN a backup that brings an event trigger THEN it is refused, and the database stays empty", () => {
    admin("postgres", "CREATE DATABASE fixture_evt");
    admin("fixture_evt", `CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$; CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION evt(); CREATE TABLE t (i int)`);
    const evt = path.join(dir, "evt.backup");
    ok(spawnSync(path.join(server().binDir, "pg_dump"), ["-Fc", "-h", server().socketDir, "-p", String(server().port), "-U", "postgres", "-f", evt, "fixture_evt"], { encoding: "utf8" }));
    const r = run("creatio_v", evt);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("evt.backup holds an event trigger, which would run as a superuser: refusing to restore it");
    expect(tablesOf("creatio_v")).toBe("0");
  }, 120_000);
});
