/**
 * Unit tier: the bootstrap renderers are pure and the init script behaves (checked with a fake
 * `psql` on PATH that records its argv; no database involved).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  BootstrapModel,
  DEFAULT_BOOTSTRAP_SQL_PATH,
  DEFAULT_FINISH_SQL_PATH,
  renderBootstrapFinishSql,
  renderBootstrapSql,
  renderBootstrapScript,
} from "../../constructs/database/render-bootstrap";

const MODEL: BootstrapModel = { databaseName: "creatio_db", appUser: "creatio_app" };
// Single quote, backslash, double quote, dollar, backtick, spaces, newline: must reach psql verbatim.
const NASTY_PASSWORD = `it's \\ "q" $HOME \`id\` x\ny`;

describe("renderBootstrapSql", () => {
  test("GIVEN the same model WHEN rendered twice THEN the output is byte-identical", () => {
    expect(renderBootstrapSql({ ...MODEL })).toBe(renderBootstrapSql({ ...MODEL }));
    expect(renderBootstrapScript({ ...MODEL })).toBe(renderBootstrapScript({ ...MODEL }));
  });

  test("GIVEN a model WHEN rendered THEN identifiers are set once as psql variables and only used through psql quoting", () => {
    const sql = renderBootstrapSql(MODEL);
    expect(sql).toContain(`\\set db_name 'creatio_db'`);
    expect(sql).toContain(`\\set app_user 'creatio_app'`);
    // The raw names appear exactly once (in \set); every other use is :"var" / :'var' / format(%I).
    expect(sql.split("creatio_db").length - 1).toBe(1);
    expect(sql.split("creatio_app").length - 1).toBe(1);
    expect(sql).toMatch(/ALTER ROLE :"app_user" WITH/);
    expect(sql).toMatch(/ALTER DATABASE :"db_name" OWNER TO :"app_user";/);
    expect(sql).toMatch(/REVOKE ALL ON DATABASE :"db_name" FROM PUBLIC;/);
    expect(sql).toMatch(/GRANT CONNECT, TEMPORARY ON DATABASE :"db_name" TO :"app_user";/);
    expect(sql).toMatch(/GRANT USAGE, CREATE ON SCHEMA public TO :"app_user";/);
  });

  test("GIVEN a model WHEN rendered THEN creation is conditional (\\gexec + NOT EXISTS) so the script can be re-run", () => {
    const sql = renderBootstrapSql(MODEL);
    expect(sql).toMatch(/SELECT format\('CREATE ROLE %I', :'app_user'\)\s+WHERE NOT EXISTS \(SELECT FROM pg_catalog\.pg_roles WHERE rolname = :'app_user'\)\s+\\gexec/);
    expect(sql).toMatch(/SELECT format\('CREATE DATABASE %I WITH OWNER = %I TEMPLATE = template0 ENCODING = %L CONNECTION LIMIT = -1',\s+:'db_name', :'app_user', 'UTF8'\)\s+WHERE NOT EXISTS \(SELECT FROM pg_catalog\.pg_database WHERE datname = :'db_name'\)\s+\\gexec/);
    // No unconditional CREATE ROLE / CREATE DATABASE statements.
    expect(sql).not.toMatch(/^\s*CREATE (ROLE|DATABASE)/m);
    expect(sql).toMatch(/^\\set ON_ERROR_STOP on$/m);
  });

  test("GIVEN a model WHEN rendered THEN the role is a plain login role and the password only comes from :'app_password'", () => {
    const sql = renderBootstrapSql(MODEL);
    expect(sql).toMatch(/LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS/);
    const passwordClauses = sql.match(/PASSWORD\s+\S+/g) ?? [];
    expect(passwordClauses).toEqual(["PASSWORD :'app_password';"]);
    expect(sql).toMatch(/^\\if :\{\?app_password\}$/m);
  });

  test("GIVEN CREATIO_DB_PASSWORD in the renderer's environment THEN it appears in neither output", () => {
    const saved = process.env.CREATIO_DB_PASSWORD;
    process.env.CREATIO_DB_PASSWORD = "Sup3r-Secret-Value";
    try {
      expect(renderBootstrapSql(MODEL)).not.toContain("Sup3r-Secret-Value");
      expect(renderBootstrapScript(MODEL)).not.toContain("Sup3r-Secret-Value");
    } finally {
      if (saved === undefined) delete process.env.CREATIO_DB_PASSWORD;
      else process.env.CREATIO_DB_PASSWORD = saved;
    }
  });

  test.each([
    ["uppercase", { databaseName: "Creatio", appUser: "app" }],
    ["leading digit", { databaseName: "1db", appUser: "app" }],
    ["empty", { databaseName: "", appUser: "app" }],
    ["64 chars", { databaseName: "a".repeat(64), appUser: "app" }],
    ["quote injection", { databaseName: "db", appUser: "app'; DROP ROLE postgres; --" }],
    ["hyphen", { databaseName: "db", appUser: "creatio-app" }],
    ["pg_ role prefix", { databaseName: "db", appUser: "pg_app" }],
    ["reserved role public", { databaseName: "db", appUser: "public" }],
    ["bootstrap superuser", { databaseName: "db", appUser: "postgres" }],
    ["system database", { databaseName: "template1", appUser: "app" }],
    ["maintenance database", { databaseName: "postgres", appUser: "app" }],
  ])("GIVEN an invalid model (%s) WHEN rendered THEN it throws", (_label, model) => {
    expect(() => renderBootstrapSql(model)).toThrow(/^creatio-farm: /);
    expect(() => renderBootstrapScript(model)).toThrow(/^creatio-farm: /);
  });

  test("GIVEN a 63-char name with underscores and digits THEN it is accepted", () => {
    const name = `_${"a1".repeat(31)}`;
    expect(name).toHaveLength(63);
    expect(renderBootstrapSql({ databaseName: name, appUser: name })).toContain(`\\set db_name '${name}'`);
  });
});

describe("renderBootstrapScript (the bootstrap job)", () => {
  let dir: string;
  let fakeBin: string;
  let argvLog: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-bootstrap-unit-"));
    fakeBin = path.join(dir, "bin");
    argvLog = path.join(dir, "psql.argv");
    fs.mkdirSync(fakeBin);
    // Fake psql. Asked for listen_addresses (the wait), it answers "*", or fails while $FAKE_NOT_READY is set.
    // Otherwise it records each argument NUL-terminated, counts its runs and exits with $FAKE_PSQL_EXIT (default 0).
    fs.writeFileSync(
      path.join(fakeBin, "psql"),
      [
        "#!/bin/sh",
        // $FAKE_TEMP_SERVER_POLLS polls first meet the image's temporary first-start server: it listens on no address.
        'case "$*" in *"SHOW listen_addresses"*)',
        '  [ -z "${FAKE_NOT_READY:-}" ] || exit 2',
        '  echo poll >> "$FAKE_PSQL_LOG.polls"',
        '  [ "$(wc -l < "$FAKE_PSQL_LOG.polls")" -gt "${FAKE_TEMP_SERVER_POLLS:-0}" ] && echo "*" || echo ""',
        "  exit 0 ;; esac",
        `for a in "$@"; do printf '%s\\0' "$a"; done > "$FAKE_PSQL_LOG"`,
        'echo run >> "$FAKE_PSQL_LOG.runs"',
        'exit "${FAKE_PSQL_EXIT:-0}"',
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function runScript(script: string, env: Record<string, string>) {
    fs.rmSync(argvLog, { force: true });
    fs.rmSync(`${argvLog}.runs`, { force: true });
    fs.rmSync(`${argvLog}.polls`, { force: true });
    const file = path.join(dir, "bootstrap.sh");
    fs.writeFileSync(file, script, { mode: 0o755 });
    const r = spawnSync(file, [], {
      encoding: "utf8",
      env: { PATH: `${fakeBin}:/usr/bin:/bin`, FAKE_PSQL_LOG: argvLog, ...env },
    });
    const argv = fs.existsSync(argvLog) ? fs.readFileSync(argvLog, "utf8").split("\0").slice(0, -1) : undefined;
    const runs = fs.existsSync(`${argvLog}.runs`) ? fs.readFileSync(`${argvLog}.runs`, "utf8").split("\n").length - 1 : 0;
    return { ...r, argv, runs };
  }

  test("GIVEN the rendered script THEN it is a POSIX sh script that passes `sh -n` and uses set -eu", () => {
    const script = renderBootstrapScript(MODEL);
    expect(script.startsWith("#!/bin/sh\n")).toBe(true);
    expect(script).toMatch(/^set -eu$/m);
    const file = path.join(dir, "syntax.sh");
    fs.writeFileSync(file, script);
    const r = spawnSync("sh", ["-n", file], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("GIVEN no sqlPath THEN the script runs the default /opt/creatio-farm/bootstrap.sql; GIVEN one THEN it uses it", () => {
    expect(DEFAULT_BOOTSTRAP_SQL_PATH).toBe("/opt/creatio-farm/bootstrap.sql");
    expect(renderBootstrapScript(MODEL)).toContain(`-f '/opt/creatio-farm/bootstrap.sql'`);
    expect(renderBootstrapScript({ ...MODEL, sqlPath: "/srv/x/boot.sql" })).toContain(`-f '/srv/x/boot.sql'`);
    for (const bad of ["relative.sql", "/a/'b.sql", "/a/../b.sql", "/a b.sql", "/dir/", "/a/$(id).sql"]) {
      expect(() => renderBootstrapScript({ ...MODEL, sqlPath: bad })).toThrow(/^creatio-farm: sqlPath/);
    }
  });

  test("GIVEN CREATIO_DB_PASSWORD (a database bootstrapped by hand) WHEN the script runs THEN psql gets ON_ERROR_STOP=1, the superuser, the -v variable verbatim and the SQL file", () => {
    const r = runScript(renderBootstrapScript({ ...MODEL, sqlPath: "/opt/x/b.sql" }), {
      POSTGRES_USER: "postgres",
      CREATIO_DB_PASSWORD: NASTY_PASSWORD,
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.argv).toEqual([
      "-v", "ON_ERROR_STOP=1",
      "--no-psqlrc",
      "--no-password",
      "--username", "postgres",
      "--dbname", "postgres",
      "-v", `app_password=${NASTY_PASSWORD}`,
      "-f", "/opt/x/b.sql",
    ]);
    expect(r.runs).toBe(1);
    expect(r.stdout).not.toContain(NASTY_PASSWORD);
  });

  test("GIVEN the image's temporary first-start server (socket only) WHEN the script starts THEN it waits for the real one before running the SQL", () => {
    const r = runScript(renderBootstrapScript(MODEL), { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD: "pw", FAKE_TEMP_SERVER_POLLS: "2" });
    expect(r.stderr).toBe("");
    expect([r.status, r.runs, fs.readFileSync(`${argvLog}.polls`, "utf8").split("\n").length - 1]).toEqual([0, 1, 3]);
  });

  test("GIVEN the SQL fails (psql exit 3) WHEN the script runs THEN it fails at once, saying so", () => {
    const r = runScript(renderBootstrapScript(MODEL), { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD: "pw", FAKE_PSQL_EXIT: "3" });
    expect([r.status, r.runs]).toEqual([1, 1]);
    expect(r.stderr).toContain("creatio-farm: the bootstrap SQL failed (psql exit 3)");
    expect(r.stdout).not.toContain("done");
  });

  test("GIVEN the connection is lost mid-run (psql exit 2: the server restarted) THEN the run is repeated, five times at most", () => {
    const r = runScript(renderBootstrapScript(MODEL), { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD: "pw", FAKE_PSQL_EXIT: "2" });
    expect([r.status, r.runs]).toEqual([1, 5]);
    expect(r.stderr).toContain("creatio-farm: the connection to PostgreSQL was lost (attempt 4); running the bootstrap again");
    expect(r.stderr).toContain("creatio-farm: the bootstrap SQL failed (psql exit 2)");
  }, 20_000);

  test.each([
    ["empty", { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD: "" }],
    ["unset", { POSTGRES_USER: "postgres" }],
  ])("GIVEN CREATIO_DB_PASSWORD %s WHEN the script runs THEN it exits non-zero with creatio-farm: and never calls psql", (_label, env) => {
    const r = runScript(renderBootstrapScript(MODEL), env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^creatio-farm: CREATIO_DB_PASSWORD/);
    expect(r.argv).toBeUndefined();
  });

  test("GIVEN CREATIO_DB_PASSWORD_FILE WHEN the script runs THEN psql gets the file's path, and the password is on no command line", () => {
    const file = path.join(dir, "app-password");
    fs.writeFileSync(file, NASTY_PASSWORD, { mode: 0o400 });
    const r = runScript(renderBootstrapScript(MODEL), { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD_FILE: file });
    expect(r.stderr).toBe("");
    expect(r.argv).toContain(`app_password_file=${file}`);
    expect(r.argv!.join(" ")).not.toContain("it's");
    fs.rmSync(file, { force: true });
  });

  test("GIVEN CREATIO_DB_PASSWORD_FILE names no readable file WHEN the script runs THEN it exits non-zero and never calls psql", () => {
    const r = runScript(renderBootstrapScript(MODEL), { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD_FILE: path.join(dir, "missing") });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^creatio-farm: CREATIO_DB_PASSWORD_FILE \(.*missing\) is not readable by /);
    expect(r.argv).toBeUndefined();
  });

  test("GIVEN a server that never accepts connections WHEN the script runs THEN it gives up after waitSeconds, says so, and never calls psql", () => {
    const r = runScript(renderBootstrapScript({ ...MODEL, waitSeconds: 2 }), { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD: "pw", FAKE_NOT_READY: "1", PGHOST: "/run/pg" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("creatio-farm: PostgreSQL did not accept connections on /run/pg within 2 s");
    expect(r.argv).toBeUndefined();
  });

  test("GIVEN a data role WHEN the script runs THEN psql gets its password file's path, never the password", () => {
    const file = path.join(dir, "role-password");
    fs.writeFileSync(file, NASTY_PASSWORD, { mode: 0o400 });
    const script = renderBootstrapScript({ ...MODEL, dataRoles: [{ name: "creatio_portal", passwordFile: file }] });
    const r = runScript(script, { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD: "pw" });
    expect(r.stderr).toBe("");
    expect(r.argv).toContain(`data_role_0_password_file=${file}`);
    expect(r.argv!.join(" ")).not.toContain("it's");
    expect(r.stdout).not.toContain(NASTY_PASSWORD);
    fs.rmSync(file, { force: true });
    const missing = runScript(script, { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD: "pw" });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(`role creatio_portal's password) is not readable`);
    expect(missing.argv).toBeUndefined();
  });

  test("GIVEN a role with its own schema WHEN the script runs THEN the finishing SQL runs last, in the Creatio database; GIVEN it fails THEN the job fails", () => {
    const file = path.join(dir, "identity-password");
    fs.writeFileSync(file, "pw", { mode: 0o400 });
    const script = renderBootstrapScript({ ...MODEL, dataRoles: [{ name: "creatio_identity", passwordFile: file, ownSchema: true }] });
    const r = runScript(script, { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD: "pw" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.runs).toBe(2);
    expect(r.argv).toEqual(expect.arrayContaining(["--dbname", "creatio_db", "-f", DEFAULT_FINISH_SQL_PATH]));
    const failed = runScript(script, { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD: "pw", FAKE_PSQL_EXIT: "3" });
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain("creatio-farm:");
    fs.rmSync(file, { force: true });
  });

  test("GIVEN neither an own schema nor a feature WHEN the script runs THEN there is no finishing step", () => {
    const r = runScript(renderBootstrapScript(MODEL), { POSTGRES_USER: "postgres", CREATIO_DB_PASSWORD: "pw" });
    expect(r.runs).toBe(1);
    expect(renderBootstrapScript(MODEL)).not.toContain("bootstrap-finish.sql");
  });

  test("GIVEN POSTGRES_USER unset WHEN the script runs THEN it exits non-zero with creatio-farm: and never calls psql", () => {
    const r = runScript(renderBootstrapScript(MODEL), { CREATIO_DB_PASSWORD: "pw" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^creatio-farm: POSTGRES_USER/);
    expect(r.argv).toBeUndefined();
  });
});

describe("data roles (a portal's nodes)", () => {
  const WITH_PORTAL: BootstrapModel = { ...MODEL, dataRoles: [{ name: "creatio_portal", passwordFile: "/opt/creatio-farm/role-password-creatio_portal" }] };

  test("GIVEN a data role WHEN the SQL is rendered THEN it gets rows only: no CREATE on the schema, no ownership, default privileges for the app role's new objects", () => {
    const sql = renderBootstrapSql(WITH_PORTAL);
    expect(sql).toContain(`\\set data_role_0 'creatio_portal'`);
    expect(sql).toMatch(/PASSWORD :'data_role_0_password';/);
    expect(sql).toMatch(/REVOKE CREATE ON SCHEMA public FROM :"data_role";/);
    expect(sql).toMatch(/GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"data_role";/);
    expect(sql).toMatch(/ALTER DEFAULT PRIVILEGES FOR ROLE :"app_user" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"data_role";/);
    expect(sql).not.toMatch(/GRANT[^;]*CREATE[^;]*TO :"data_role"/);
    expect(sql).not.toMatch(/OWNER TO :"data_role"/);
    // an unset or empty password stops the script before any change
    expect(sql).toMatch(/\\if :\{\?data_role_0_password\}/);
    expect(sql).toContain("creatio-farm: data_role_0_password is empty");
  });

  test("GIVEN no data role THEN nothing of them is rendered", () => {
    const sql = renderBootstrapSql(MODEL);
    expect(sql).not.toContain(":'data_role_");
    expect(sql).not.toContain(":\"data_role\"");
  });

  test.each([
    ["the app role's name", [{ name: "creatio_app", passwordFile: "/x/p" }], /named twice/],
    ["a reserved name", [{ name: "pg_portal", passwordFile: "/x/p" }], /dataRoles\[0\]\.name .* is reserved/],
    ["a quote in the name", [{ name: "p'x", passwordFile: "/x/p" }], /dataRoles\[0\]\.name must match/],
    ["a relative password file", [{ name: "portal", passwordFile: "p" }], /dataRoles\[0\]\.passwordFile/],
    ["a password file with a quote", [{ name: "portal", passwordFile: "/x/'p" }], /dataRoles\[0\]\.passwordFile/],
  ])("GIVEN a data role with %s THEN rendering throws", (_, dataRoles, message) => {
    expect(() => renderBootstrapSql({ ...MODEL, dataRoles })).toThrow(message);
    expect(() => renderBootstrapScript({ ...MODEL, dataRoles })).toThrow(message);
  });
});

describe("the finishing SQL (roles with their own schema, features)", () => {
  test("GIVEN neither THEN there is none", () => {
    expect(renderBootstrapFinishSql(MODEL)).toBeUndefined();
  });

  test("GIVEN a role with its own schema THEN the role gets no right on public and its schema is made by the finishing step, owned by it", () => {
    const model: BootstrapModel = { ...MODEL, dataRoles: [{ name: "creatio_identity", passwordFile: "/run/p", ownSchema: true }] };
    const sql = renderBootstrapSql(model);
    expect(sql).toContain("REVOKE ALL ON SCHEMA public FROM :\"data_role\";");
    expect(sql).not.toMatch(/GRANT [A-Z, ]+ ON ALL TABLES IN SCHEMA public TO :"data_role"/);
    expect(sql).toContain("COMMENT ON ROLE :\"data_role\" IS 'creatio-farm schema role';");
    const finish = renderBootstrapFinishSql(model)!;
    expect(finish).toContain("\\set schema_role 'creatio_identity'");
    expect(finish).toContain('CREATE SCHEMA IF NOT EXISTS :"schema_role" AUTHORIZATION :"schema_role";');
  });

  test("GIVEN features THEN each is switched on once Creatio's tables are there, a build without it warned by name", () => {
    const finish = renderBootstrapFinishSql({ ...MODEL, features: ["OAuth20Integration", "OAuth20Integration"] })!;
    expect(finish.match(/\\set feature 'OAuth20Integration'/g)).toHaveLength(1);
    expect(finish).toContain("'is not in table \"Feature\": this Creatio build does not have it under that code; it is NOT switched on'");
  });

  test.each(["OAuth'; DROP TABLE x; --", "", "9Feature"])("GIVEN the feature code %j THEN rendering refuses it", (code) => {
    expect(() => renderBootstrapFinishSql({ ...MODEL, features: [code] })).toThrow(/feature codes must match/);
  });
});
