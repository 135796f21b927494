/**
 * Live tier: runs the rendered bootstrap (the job's script + SQL) against a REAL PostgreSQL started in a
 * temp dir on 127.0.0.1, over its unix socket as the superuser, the way the bootstrap job runs it.
 * Missing PostgreSQL/runuser makes beforeAll throw, i.e. the suite FAILS (it never skips).
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BootstrapModel, renderBootstrapFinishSql, renderBootstrapScript, renderBootstrapSql, renderPgHba } from "../../constructs/database/render-bootstrap";
import { findPostgresBinDir, PgServer, startPostgres } from "./support/postgres";

// Contains a single quote, a backslash, a double quote, a dollar sign and spaces.
const PASSWORD = `it's a \\ "Cre$atio" pw`;
const NEW_PASSWORD = `n3w'\\pass\\'word`;

const MODEL: BootstrapModel = { databaseName: "creatio", appUser: "creatio_app" };

let pg: PgServer | undefined;

function server(): PgServer {
  if (!pg) throw new Error("PostgreSQL did not start (see beforeAll error)");
  return pg;
}

/** Renders both files into the temp dir and executes the script like the bootstrap job does. */
function runInitScript(model: BootstrapModel, password: string | undefined): SpawnSyncReturns<string> {
  const s = server();
  const tag = `${model.databaseName}-${model.appUser}`;
  const sqlPath = path.join(s.workDir, `${tag}-bootstrap.sql`);
  const scriptPath = path.join(s.workDir, `${tag}-bootstrap.sh`);
  const finishSqlPath = path.join(s.workDir, `${tag}-bootstrap-finish.sql`);
  fs.writeFileSync(sqlPath, renderBootstrapSql(model), { mode: 0o644 });
  fs.writeFileSync(finishSqlPath, renderBootstrapFinishSql({ ...model, finishSqlPath }) ?? "", { mode: 0o644 });
  fs.writeFileSync(scriptPath, renderBootstrapScript({ ...model, sqlPath, finishSqlPath }), { mode: 0o755 });
  const env: NodeJS.ProcessEnv = {
    PATH: `${s.binDir}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    POSTGRES_USER: "postgres",
    PGHOST: s.socketDir,
    PGPORT: String(s.port),
  };
  if (password !== undefined) env.CREATIO_DB_PASSWORD = password;
  return spawnSync(scriptPath, [], { encoding: "utf8", env, timeout: 30_000 });
}

function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) {
    throw new Error(`command failed (${r.status ?? r.signal}): ${r.error ?? ""}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  return r.stdout.trim();
}

const admin = (db: string, sql: string) => ok(server().psqlAdmin(db, sql));

beforeAll(async () => {
  // SQL_ASCII/C cluster: proves the bootstrap sets UTF8 explicitly instead of inheriting it.
  pg = await startPostgres({ initdbArgs: ["--encoding=SQL_ASCII", "--locale=C"], readyTimeoutMs: 15_000 });
}, 45_000);

afterAll(async () => {
  await pg?.stop();
}, 30_000);

describe("Creatio PostgreSQL bootstrap against a real server", () => {
  test("GIVEN a fresh cluster WHEN the init script runs THEN it succeeds and never prints the password", () => {
    const r = runInitScript(MODEL, PASSWORD);
    ok(r);
    expect(r.stdout).toContain("creatio-farm: bootstrap of 'creatio' done");
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
  });

  test("THEN the app role can log in but is not privileged, and its password is stored hashed", () => {
    expect(admin("postgres", `SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls
                              FROM pg_roles WHERE rolname = 'creatio_app'`)).toBe("t|f|f|f|f|f");
    expect(admin("postgres", "SELECT left(rolpassword, 14) FROM pg_authid WHERE rolname = 'creatio_app'")).toBe("SCRAM-SHA-256$");
  });

  test("THEN the app role logs in over TCP 127.0.0.1 with the password (scram) and not with a wrong one", () => {
    const s = server();
    expect(ok(s.psqlTcp("creatio_app", PASSWORD, "creatio", "SELECT current_user, current_database()"))).toBe(
      "creatio_app|creatio",
    );
    const wrong = s.psqlTcp("creatio_app", "not-the-password", "creatio", "SELECT 1");
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/password authentication failed/);
  });

  test("THEN the database is UTF8, unlimited connections, owned by the app role", () => {
    expect(admin("postgres", `SELECT pg_encoding_to_char(encoding), datconnlimit, pg_get_userbyid(datdba)
                              FROM pg_database WHERE datname = 'creatio'`)).toBe("UTF8|-1|creatio_app");
  });

  test("THEN CONNECT is revoked from PUBLIC: another login role cannot connect to the Creatio database", () => {
    const s = server();
    admin("postgres", "CREATE ROLE intruder LOGIN PASSWORD 'intruder-pw'");
    admin("postgres", "CREATE DATABASE open_db");
    // Sanity: the intruder CAN authenticate (to a database open to PUBLIC), so the failure below is privileges.
    expect(ok(s.psqlTcp("intruder", "intruder-pw", "open_db", "SELECT 1"))).toBe("1");
    const denied = s.psqlTcp("intruder", "intruder-pw", "creatio", "SELECT 1");
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/permission denied for database "creatio"/);
  });

  test.each(["postgres", "template1"])("THEN the app role may not connect to the built-in database %s", (db) => {
    const denied = server().psqlTcp("creatio_app", PASSWORD, db, "SELECT 1");
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(new RegExp(`permission denied for database "${db}"`));
  });

  test("THEN the app role can CREATE TABLE in schema public of its database (needed by pg_restore --no-owner)", () => {
    const s = server();
    ok(s.psqlTcp("creatio_app", PASSWORD, "creatio", "CREATE TABLE public.probe (id int); INSERT INTO public.probe VALUES (42)"));
    expect(admin("creatio", "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'probe'")).toBe(
      "creatio_app",
    );
  });

  test("GIVEN a bootstrapped cluster WHEN the script runs again with a new password THEN it succeeds, keeps data, and the new password replaces the old", () => {
    const s = server();
    ok(runInitScript(MODEL, PASSWORD)); // same input again: idempotent
    // Simulate drift: the re-run must converge role attributes and database ownership.
    admin("postgres", "ALTER ROLE creatio_app SUPERUSER CREATEDB CREATEROLE NOLOGIN; ALTER DATABASE creatio OWNER TO postgres");
    ok(runInitScript(MODEL, NEW_PASSWORD));
    expect(admin("postgres", `SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, pg_get_userbyid(datdba)
                              FROM pg_roles, pg_database WHERE rolname = 'creatio_app' AND datname = 'creatio'`)).toBe(
      "t|f|f|f|creatio_app",
    );
    expect(ok(s.psqlTcp("creatio_app", NEW_PASSWORD, "creatio", "SELECT id FROM public.probe"))).toBe("42");
    const old = s.psqlTcp("creatio_app", PASSWORD, "creatio", "SELECT 1");
    expect(old.status).not.toBe(0);
    expect(old.stderr).toMatch(/password authentication failed/);
    expect(admin("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'creatio'")).toBe("1");
  });

  test("GIVEN an empty or missing CREATIO_DB_PASSWORD WHEN the script runs THEN it fails with creatio-farm: and changes nothing", () => {
    const s = server();
    for (const pw of ["", undefined]) {
      const r = runInitScript(MODEL, pw);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/^creatio-farm: CREATIO_DB_PASSWORD/);
    }
    expect(ok(s.psqlTcp("creatio_app", NEW_PASSWORD, "creatio", "SELECT 1"))).toBe("1");
  });

  test("GIVEN the SQL run directly by psql without app_password (e.g. dropped into initdb.d) THEN it fails before touching anything", () => {
    const s = server();
    const model: BootstrapModel = { databaseName: "never_created", appUser: "never_created" };
    const sqlPath = path.join(s.workDir, "direct.sql");
    fs.writeFileSync(sqlPath, renderBootstrapSql(model));
    const base = ["-X", "-v", "ON_ERROR_STOP=1", "-h", s.socketDir, "-p", String(s.port), "-U", "postgres", "-d", "postgres"];
    const psql = path.join(s.binDir, "psql");
    const unset = spawnSync(psql, [...base, "-f", sqlPath], { encoding: "utf8" });
    expect(unset.status).not.toBe(0);
    expect(unset.stderr).toContain("creatio-farm: psql variable app_password is not set");
    const empty = spawnSync(psql, [...base, "-v", "app_password=", "-f", sqlPath], { encoding: "utf8" });
    expect(empty.status).not.toBe(0);
    expect(empty.stderr).toContain("creatio-farm: app_password is empty");
    expect(admin("postgres", "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'never_created') + (SELECT count(*) FROM pg_database WHERE datname = 'never_created')")).toBe("0");
  });

  test("GIVEN names that are SQL reserved words (db \"order\", role \"user\") WHEN bootstrapped THEN they are quoted correctly", () => {
    const s = server();
    const model: BootstrapModel = { databaseName: "order", appUser: "user" };
    ok(runInitScript(model, PASSWORD));
    ok(runInitScript(model, PASSWORD));
    expect(admin("postgres", `SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'order'`)).toBe("user|UTF8");
    expect(ok(s.psqlTcp("user", PASSWORD, "order", "CREATE TABLE t (i int); SELECT current_user"))).toBe("user");
    // The first app role must not have gained access to the second database.
    const cross = s.psqlTcp("creatio_app", NEW_PASSWORD, "order", "SELECT 1");
    expect(cross.status).not.toBe(0);
    expect(cross.stderr).toMatch(/permission denied for database "order"/);
  });

  describe("a data role of its own (the portal nodes')", () => {
    const PORTAL_PASSWORD = `p0rtal 'pw' \\ "x"`;
    let portalModel: BootstrapModel;
    beforeAll(() => {
      const file = path.join(server().workDir, "role-password-creatio_portal");
      fs.writeFileSync(file, PORTAL_PASSWORD, { mode: 0o600 });
      portalModel = { ...MODEL, dataRoles: [{ name: "creatio_portal", passwordFile: file }] };
    });

    test("GIVEN an existing database with data WHEN the bootstrap runs with a data role, twice THEN the role exists once, logs in, and the data is kept", () => {
      ok(runInitScript(portalModel, NEW_PASSWORD));
      ok(runInitScript(portalModel, NEW_PASSWORD));
      expect(admin("postgres", `SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls
                                FROM pg_roles WHERE rolname = 'creatio_portal'`)).toBe("t|f|f|f|f|f");
      expect(ok(server().psqlTcp("creatio_portal", PORTAL_PASSWORD, "creatio", "SELECT id FROM public.probe"))).toBe("42");
    });

    test("THEN it reads and writes rows of the app role's tables, and of tables the app role creates later", () => {
      const s = server();
      ok(s.psqlTcp("creatio_portal", PORTAL_PASSWORD, "creatio", "INSERT INTO public.probe VALUES (43); UPDATE public.probe SET id = 44 WHERE id = 43; DELETE FROM public.probe WHERE id = 44"));
      ok(s.psqlTcp("creatio_app", NEW_PASSWORD, "creatio", "CREATE TABLE public.later (id serial PRIMARY KEY, v text)"));
      expect(ok(s.psqlTcp("creatio_portal", PORTAL_PASSWORD, "creatio", "INSERT INTO public.later (v) VALUES ('x') RETURNING id"))).toMatch(/^1/);
    });

    test.each([
      ["create a table", "CREATE TABLE public.mine (i int)", /permission denied for schema public/],
      ["alter the app role's table", "ALTER TABLE public.probe ADD COLUMN x int", /must be owner of table probe/],
      ["drop it", "DROP TABLE public.probe", /must be owner of table probe/],
      ["truncate it", "TRUNCATE public.probe", /permission denied for table probe/],
      ["reset a sequence (setval)", "SELECT setval('public.later_id_seq', 1000)", /permission denied for sequence later_id_seq/],
      ["connect to the postgres database", null, /permission denied for database "postgres"/],
    ])("THEN it may not %s", (_, sql, message) => {
      const s = server();
      const r = sql === null ? s.psqlTcp("creatio_portal", PORTAL_PASSWORD, "postgres", "SELECT 1") : s.psqlTcp("creatio_portal", PORTAL_PASSWORD, "creatio", sql);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
    });

    test("GIVEN drift (the role made a superuser and a member of the app role, its password changed) WHEN the bootstrap runs again THEN it converges", () => {
      admin("postgres", "ALTER ROLE creatio_portal SUPERUSER CREATEDB INHERIT PASSWORD 'drifted'; GRANT creatio_app TO creatio_portal; GRANT pg_write_all_data TO creatio_portal");
      ok(runInitScript(portalModel, NEW_PASSWORD));
      expect(admin("postgres", "SELECT rolsuper, rolcreatedb, rolinherit FROM pg_roles WHERE rolname = 'creatio_portal'")).toBe("f|f|f");
      expect(admin("postgres", "SELECT count(*) FROM pg_auth_members WHERE member = 'creatio_portal'::regrole")).toBe("0");
      expect(ok(server().psqlTcp("creatio_portal", PORTAL_PASSWORD, "creatio", "SELECT current_user"))).toBe("creatio_portal");
    });

    test("GIVEN the portal is gone WHEN the bootstrap runs without its role THEN the role can no longer log in; a role made by hand is untouched", () => {
      admin("postgres", "CREATE ROLE someone_elses LOGIN PASSWORD 'theirs'");
      ok(runInitScript(MODEL, NEW_PASSWORD));
      expect(admin("postgres", "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('creatio_portal', 'someone_elses') ORDER BY 1")).toBe("creatio_portal|f\nsomeone_elses|t");
      const r = server().psqlTcp("creatio_portal", PORTAL_PASSWORD, "creatio", "SELECT 1");
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/is not permitted to log in/);
      // and back: configured again, it logs in again
      ok(runInitScript(portalModel, NEW_PASSWORD));
      expect(ok(server().psqlTcp("creatio_portal", PORTAL_PASSWORD, "creatio", "SELECT current_user"))).toBe("creatio_portal");
    });
  });

  describe("a role with a schema of its own (the Identity Service's) and a feature switched on", () => {
    const IDENTITY_PASSWORD = `1d 'pw' \\ "y"`;
    let model: BootstrapModel;
    beforeAll(() => {
      const file = path.join(server().workDir, "role-password-creatio_identity");
      fs.writeFileSync(file, IDENTITY_PASSWORD, { mode: 0o600 });
      const portal = path.join(server().workDir, "role-password-creatio_portal");
      model = {
        ...MODEL,
        dataRoles: [
          { name: "creatio_portal", passwordFile: portal },
          { name: "creatio_identity", passwordFile: file, ownSchema: true },
        ],
        features: ["OAuth20Integration"],
      };
    });
    const asIdentity = (sql: string) => server().psqlTcp("creatio_identity", IDENTITY_PASSWORD, "creatio", sql);

    test("GIVEN no Creatio tables yet WHEN the bootstrap runs THEN it says the feature waits for them, and succeeds", () => {
      const r = runInitScript(model, NEW_PASSWORD);
      ok(r);
      expect(r.stdout + r.stderr).toContain("no Creatio tables in the database yet (restore the backup): feature OAuth20Integration is switched on when the job runs again after the restore");
    });

    test("THEN the role logs in, inherits nothing, and owns a schema named after it where its unqualified CREATE TABLE lands", () => {
      expect(admin("postgres", "SELECT rolcanlogin, rolsuper, rolinherit FROM pg_roles WHERE rolname = 'creatio_identity'")).toBe("t|f|f");
      expect(admin("creatio", "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'creatio_identity'")).toBe("creatio_identity");
      // What EF Core does without a default schema: unqualified names, in the first schema of the search path.
      ok(asIdentity('CREATE TABLE "Clients" ("Id" serial PRIMARY KEY, "ClientId" text); INSERT INTO "Clients" ("ClientId") VALUES (\'c1\')'));
      expect(admin("creatio", "SELECT schemaname, tableowner FROM pg_tables WHERE tablename = 'Clients'")).toBe("creatio_identity|creatio_identity");
      expect(ok(asIdentity('SELECT "ClientId" FROM "Clients"'))).toBe("c1");
    });

    test.each([
      ["read Creatio's tables", "SELECT * FROM public.probe", /permission denied for table probe/],
      ["create in Creatio's schema", "CREATE TABLE public.mine (i int)", /permission denied for schema public/],
      ["connect to the postgres database", null, /permission denied for database "postgres"/],
    ])("THEN it may not %s", (_what, sql, message) => {
      const r = sql === null ? server().psqlTcp("creatio_identity", IDENTITY_PASSWORD, "postgres", "SELECT 1") : asIdentity(sql);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(message);
    });

    test("THEN the portal's data role cannot read the Identity Service's tables (its client secrets)", () => {
      const r = server().psqlTcp("creatio_portal", `p0rtal 'pw' \\ "x"`, "creatio", 'SELECT * FROM creatio_identity."Clients"');
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/permission denied for schema creatio_identity/);
    });

    test("GIVEN Creatio's feature tables WHEN the bootstrap runs THEN every state row of OAuth20Integration is on, other features untouched; again THEN nothing more changes", () => {
      const s = server();
      ok(s.psqlTcp("creatio_app", NEW_PASSWORD, "creatio", [
        'CREATE TABLE public."Feature" ("Id" uuid PRIMARY KEY, "Code" text NOT NULL)',
        'CREATE TABLE public."AdminUnitFeatureState" ("Id" uuid PRIMARY KEY, "FeatureId" uuid NOT NULL, "SysAdminUnitId" uuid, "FeatureState" integer NOT NULL)',
        "INSERT INTO public.\"Feature\" VALUES ('00000000-0000-0000-0000-00000000000a', 'OAuth20Integration'), ('00000000-0000-0000-0000-00000000000b', 'Other')",
        "INSERT INTO public.\"AdminUnitFeatureState\" VALUES ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-00000000000a', NULL, 0), " +
          "('00000000-0000-0000-0000-000000000002', '00000000-0000-0000-0000-00000000000a', NULL, 0), ('00000000-0000-0000-0000-000000000003', '00000000-0000-0000-0000-00000000000b', NULL, 0)",
      ].join("; ")));
      const first = runInitScript(model, NEW_PASSWORD);
      ok(first);
      expect(first.stdout).toContain("creatio-farm: feature OAuth20Integration on ( 2 of 2 state row(s) switched now)");
      expect(admin("creatio", 'SELECT f."Code", s."FeatureState" FROM "AdminUnitFeatureState" s JOIN "Feature" f ON f."Id" = s."FeatureId" ORDER BY s."Id"')).toBe(
        "OAuth20Integration|1\nOAuth20Integration|1\nOther|0",
      );
      const again = runInitScript(model, NEW_PASSWORD);
      ok(again);
      expect(again.stdout).toContain("( 0 of 2 state row(s) switched now)");
    });

    test("GIVEN a schema of the role's name that belongs to someone else WHEN the bootstrap runs THEN it is not handed over: the job fails naming it", () => {
      const other: BootstrapModel = { ...model, dataRoles: [{ name: "creatio_other", passwordFile: model.dataRoles![1].passwordFile, ownSchema: true }] };
      admin("creatio", "CREATE SCHEMA creatio_other AUTHORIZATION creatio_app");
      const r = runInitScript(other, NEW_PASSWORD);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("schema creatio_other exists and belongs to another role");
      expect(admin("creatio", "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'creatio_other'")).toBe("creatio_app");
      admin("creatio", "DROP SCHEMA creatio_other");
    });

    test("GIVEN a build without the feature WHEN the bootstrap runs THEN the job warns naming it, and still succeeds (the nodes start after it)", () => {
      admin("creatio", "UPDATE \"Feature\" SET \"Code\" = 'Renamed' WHERE \"Code\" = 'OAuth20Integration'");
      const r = runInitScript(model, NEW_PASSWORD);
      ok(r);
      expect(r.stdout + r.stderr).toContain('creatio-farm: warning: feature OAuth20Integration is not in table "Feature": this Creatio build does not have it under that code; it is NOT switched on');
      admin("creatio", "UPDATE \"Feature\" SET \"Code\" = 'OAuth20Integration' WHERE \"Code\" = 'Renamed'");
    });
  });

  test("GIVEN no PostgreSQL installation THEN the helper fails (never skips) and says how to install it", () => {
    expect(() => findPostgresBinDir("/nonexistent/postgresql")).toThrow(/apt-get install postgresql/);
  });
});

describe("the rendered pg_hba.conf, loaded by the same server", () => {
  // Runs last: it replaces the cluster's permissive pg_hba.conf (initdb's) with the farm's.
  beforeAll(() => {
    const s = server();
    // Control: with initdb's rules the superuser, given a password, logs in over TCP
    admin("postgres", "ALTER ROLE postgres PASSWORD 'superuser-pw'");
    expect(ok(s.psqlTcp("postgres", "superuser-pw", "postgres", "SELECT 1"))).toBe("1");
    const hba = ok(s.psqlAdmin("postgres", "SHOW hba_file"));
    fs.writeFileSync(hba, renderPgHba([{ database: "creatio", role: "creatio_app", network: "127.0.0.1/32" }]));
    expect(admin("postgres", "SELECT pg_reload_conf()")).toBe("t");
    // the server read it without an error
    expect(admin("postgres", "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL")).toBe("0");
  });

  test("the superuser cannot log in over TCP, even with its password", () => {
    const r = server().psqlTcp("postgres", "superuser-pw", "postgres", "SELECT 1");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no pg_hba\.conf entry for host "127\.0\.0\.1", user "postgres"/);
  });

  test("the superuser still logs in over the local socket (docker exec)", () => {
    expect(admin("postgres", "SELECT current_user")).toBe("postgres");
  });

  test("the app role logs in to its own database from its network, and to no other", () => {
    const s = server();
    expect(ok(s.psqlTcp("creatio_app", NEW_PASSWORD, "creatio", "SELECT current_user"))).toBe("creatio_app");
    for (const db of ["postgres", "template1", "order"]) {
      const r = s.psqlTcp("creatio_app", NEW_PASSWORD, db, "SELECT 1");
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/no pg_hba\.conf entry/);
    }
  });

  test("any other role is refused before its password is checked", () => {
    const r = server().psqlTcp("intruder", "intruder-pw", "open_db", "SELECT 1");
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/no pg_hba\.conf entry/);
  });
});
