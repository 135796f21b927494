/**
 * Live tier: the settings job's script (`apply-settings.sh`, bash) against Creatio's settings API as the stand-in
 * plays it (the Docker tier's node code, `settings-api.js`), on a REAL PostgreSQL started and stopped by PID, all on
 * 127.0.0.1. Values shaped like SQL, shell and template injections must end up in Creatio's table as the literal
 * text of the environment file; an unknown code or a refused sign-in sets nothing.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as crypto from "crypto";
import * as net from "net";
import { AddressInfo } from "net";
import { Pool } from "pg";
import { renderSettingsRequests, SettingValue } from "../../constructs/creatio-settings/render-settings";
import { PgServer, startPostgres } from "./support/postgres";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handleSettings, decrypt } = require("../docker/images/creatio-stand-in/stand-in/settings-api.js");

const SCRIPT = path.resolve(__dirname, "../../constructs/creatio-settings/assets/apply-settings.sh");
const ADMIN_PASSWORD = `Sup"er\\vi'sor $(x) \`y\` ü`;
const DB_PASSWORD = "live-settings-pw";

let pg: PgServer | undefined;
let pool: Pool;
let server: http.Server;
let port = 0;
let healthy = true;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-settings-live-"));
const PWNED = path.join(work, "pwned");

/** Values an environment file may hold, shaped like every injection the job's path could fall for. */
const INJECTIONS: Record<string, SettingValue> = {
  SiteUrl: "https://crm.example.com/?a=1&b='2'",
  SqlQuote: `'; DROP TABLE "SysSettings"; --`,
  ShellSubstitution: `$(touch ${PWNED})`,
  ShellBackticks: `\`touch ${PWNED}\``,
  TerraformTemplate: "${jndi:ldap://x} %{if true}x%{endif}",
  JsonBreakout: `", "SiteUrl": "hijacked`,
  Backslashes: "C:\\temp\\new\\",
  LineBreaks: "line 1\nline 2\r\n\ttabbed",
  Unicode: "Ünïcödé ✓ 日本",
  EnableMonitoring: true,
  MaxSize: 42,
};
const SECRET_CODE = "OAuth20IdentityServerClientSecret";
const SECRET = crypto.randomBytes(16).toString("hex");

const sessions = new Map<string, string>();
let logouts = 0;
function cookiesOf(req: http.IncomingMessage): Record<string, string> {
  return Object.fromEntries(String(req.headers.cookie ?? "").split(";").map((c) => c.trim()).filter(Boolean).map((c) => [c.slice(0, c.indexOf("=")), c.slice(c.indexOf("=") + 1)]));
}
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

/** Creatio's web host as far as the job uses it: health, login (Supervisor), the settings API, logout. */
async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const send = (status: number, body: unknown, headers: Record<string, string | string[]> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
    res.end(text);
  };
  // Kestrel's rule: an HTTP/1.0 POST needs its length (LengthRequiredHttp10), a body-less one too.
  if (req.httpVersion === "1.0" && req.method === "POST" && req.headers["content-length"] === undefined) return send(400, { reason: "Content-Length required" });
  if (req.url === "/api/HealthCheck/Ping") return send(healthy ? 200 : 503, { healthy });
  if (req.url === "/ServiceModel/AuthService.svc/Login" && req.method === "POST") {
    const body = JSON.parse(await readBody(req));
    if (body.UserName !== "Supervisor" || body.UserPassword !== ADMIN_PASSWORD) return send(200, { Code: 1, Message: "Invalid user name or password" });
    const sid = crypto.randomBytes(16).toString("hex");
    sessions.set(sid, "Supervisor");
    return send(200, { Code: 0, Message: "" }, { "Set-Cookie": [`.ASPXAUTH=${sid}; path=/; HttpOnly`, `BPMCSRF=csrf-${sid}; path=/`, "UserName=Supervisor; path=/"] });
  }
  if (req.url === "/ServiceModel/AuthService.svc/Logout" && req.method === "POST") {
    const sid = cookiesOf(req)[".ASPXAUTH"] ?? "";
    if (sessions.delete(sid)) logouts++;
    return send(200, { Code: 0 });
  }
  const jar = cookiesOf(req);
  const user = sessions.get(jar[".ASPXAUTH"] ?? "");
  const ctx = { pool, caller: user ? { ok: true, user } : { ok: false, reason: "no session" }, csrfOk: Boolean(jar.BPMCSRF) && req.headers.bpmcsrf === jar.BPMCSRF, body: () => readBody(req) };
  if (await handleSettings(req, send, ctx)) return;
  send(404, { reason: "not found" });
}

beforeAll(async () => {
  pg = await startPostgres({ readyTimeoutMs: 15_000 });
  const ok = (r: { status: number | null; stderr: string }) => {
    if (r.status !== 0) throw new Error(r.stderr);
  };
  ok(pg.psqlAdmin("postgres", `CREATE ROLE creatio LOGIN PASSWORD '${DB_PASSWORD}'`));
  ok(pg.psqlAdmin("postgres", "CREATE DATABASE creatio OWNER creatio"));
  const codes = [...Object.keys(INJECTIONS), SECRET_CODE];
  ok(pg.psqlTcp("creatio", DB_PASSWORD, "creatio", [
    `CREATE TABLE "SysSettings" ("Id" uuid PRIMARY KEY, "Code" varchar(250) NOT NULL UNIQUE, "ValueTypeName" varchar(50) NOT NULL)`,
    `CREATE TABLE "SysSettingsValue" ("Id" serial PRIMARY KEY, "SysSettingsId" uuid REFERENCES "SysSettings", "TextValue" text)`,
    ...codes.map((c) => `INSERT INTO "SysSettings" VALUES ('${crypto.randomUUID()}', '${c}', '${c === SECRET_CODE ? "SecureText" : "Text"}')`),
    // a setting the administrator may not change: the stand-in answers false for it in saveResult
    `INSERT INTO "SysSettings" VALUES ('${crypto.randomUUID()}', 'LockedSetting', 'Locked')`,
  ].join("; ")));
  pool = new Pool({ host: "127.0.0.1", port: pg.port, user: "creatio", password: DB_PASSWORD, database: "creatio", max: 2 });
  server = http.createServer((req, res) => {
    route(req, res).catch((e) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
}, 60_000);

afterAll(async () => {
  if (server) await new Promise((resolve) => server.close(resolve));
  await pool?.end();
  await pg?.stop();
  fs.rmSync(work, { recursive: true, force: true });
}, 30_000);

/** The job's files as the farm renders them, in a folder of their own; then the script, run as the job runs it. */
async function runJob(values: Record<string, SettingValue>, password = ADMIN_PASSWORD, waitSeconds = 5, nodes = `127.0.0.1:1 127.0.0.1:${port}`): Promise<{ code: number | null; out: string }> {
  const dir = fs.mkdtempSync(path.join(work, "job-"));
  const requests = renderSettingsRequests(values);
  fs.writeFileSync(path.join(dir, "settings.json"), requests.post, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "query.json"), requests.query);
  fs.writeFileSync(path.join(dir, "setting-codes"), requests.codes);
  fs.writeFileSync(path.join(dir, "admin-user"), "Supervisor", { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "admin-password"), password, { mode: 0o600 });
  const child = spawn("bash", [SCRIPT], {
    env: { PATH: process.env.PATH, CREATIO_FARM_DIR: dir, CREATIO_NODES: nodes, CREATIO_WAIT_SECONDS: String(waitSeconds) },
  });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, out };
}

async function stored(): Promise<Record<string, string>> {
  const rows = (await pool.query(`SELECT s."Code", v."TextValue" FROM "SysSettings" s JOIN "SysSettingsValue" v ON v."SysSettingsId" = s."Id"`)).rows;
  return Object.fromEntries(rows.map((r) => [r.Code, r.TextValue]));
}

const asText = (v: SettingValue) => String(v);

test("GIVEN injection-shaped values WHEN the job runs THEN each is stored as the literal text of the file, and nothing was executed", async () => {
  const r = await runJob({ ...INJECTIONS, [SECRET_CODE]: SECRET });
  expect(r.out).toContain(`set ${Object.keys(INJECTIONS).length + 1} system setting(s)`);
  expect(r.code).toBe(0);
  const values = await stored();
  for (const [code, value] of Object.entries(INJECTIONS)) expect([code, values[code]]).toEqual([code, asText(value)]);
  expect(fs.existsSync(PWNED)).toBe(false);
  expect((await pool.query(`SELECT count(*) FROM "SysSettings"`)).rows[0].count).toBe(String(Object.keys(INJECTIONS).length + 2));
});

test("THEN it signed out again: no administrator session is left open", async () => {
  const before = logouts;
  expect((await runJob({ SiteUrl: "https://crm.example.com/?a=1&b='2'" })).code).toBe(0);
  expect(logouts).toBe(before + 1);
  expect(sessions.size).toBe(0);
});

test("GIVEN a setting Creatio does not save (its answer says false for it) WHEN the job runs THEN it fails naming it", async () => {
  const r = await runJob({ SiteUrl: "https://crm.example.com/?a=1&b='2'", LockedSetting: "x" });
  expect(r.code).not.toBe(0);
  expect(r.out).toContain("Creatio did not save the system setting(s): LockedSetting");
});

test("THEN the SecureText value is stored the way the platform stores it (encrypted), and no value is in the job's output", async () => {
  const values = await stored();
  expect(values[SECRET_CODE]).not.toContain(SECRET);
  expect(decrypt(values[SECRET_CODE])).toBe(SECRET);
  const r = await runJob({ ...INJECTIONS, [SECRET_CODE]: SECRET });
  for (const v of [SECRET, ADMIN_PASSWORD, "DROP TABLE", "hijacked"]) expect(r.out).not.toContain(v);
});

test("GIVEN the same values WHEN the job runs again THEN it succeeds and they stay as they are", async () => {
  const before = await stored();
  const r = await runJob({ ...INJECTIONS, [SECRET_CODE]: SECRET });
  expect(r.code).toBe(0);
  const after = await stored();
  expect({ ...after, [SECRET_CODE]: "" }).toEqual({ ...before, [SECRET_CODE]: "" });
  expect(decrypt(after[SECRET_CODE])).toBe(SECRET);
});

test("GIVEN codes this Creatio does not have WHEN the job runs THEN it fails naming each, and sets nothing", async () => {
  const before = await stored();
  const r = await runJob({ SiteUrl: "https://changed.example.com", NoSuchSetting: "x", AlsoMissing: true });
  expect(r.code).not.toBe(0);
  expect(r.out).toContain("this Creatio has no system setting with the code(s): AlsoMissing NoSuchSetting; nothing was set");
  expect(await stored()).toEqual(before);
});

test("GIVEN a wrong administrator password WHEN the job runs THEN it fails saying which variables to check, without printing the password, and sets nothing", async () => {
  const before = await stored();
  const r = await runJob({ SiteUrl: "https://changed.example.com" }, "wrong 'pw'");
  expect(r.code).not.toBe(0);
  expect(r.out).toContain("Creatio refused to sign in Supervisor");
  expect(r.out).toContain("creatio_admin_user and creatio_admin_password");
  expect(r.out).not.toContain("wrong 'pw'");
  expect(await stored()).toEqual(before);
});

test("GIVEN a password with a line break (not what the variable holds) WHEN the job runs THEN it refuses to send it", async () => {
  const r = await runJob({ SiteUrl: "x" }, "pass\nword");
  expect(r.code).not.toBe(0);
  expect(r.out).toContain("holds a line break or another control character: not sent");
});

test("GIVEN no node serving WHEN the job runs THEN it gives up after its wait, naming the health path", async () => {
  healthy = false;
  try {
    const r = await runJob({ SiteUrl: "x" }, ADMIN_PASSWORD, 1);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("no node answered /api/HealthCheck/Ping with 200 within 1 s");
  } finally {
    healthy = true;
  }
}, 30_000);

test("GIVEN a node that accepts connections and never answers WHEN the job waits THEN each probe is cut short: the wait bounds the job (one 10 s probe, not hours)", async () => {
  const silent = net.createServer(() => {}); // accepts, never answers
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  healthy = false;
  const started = Date.now();
  try {
    const r = await runJob({ SiteUrl: "x" }, ADMIN_PASSWORD, 1, `127.0.0.1:${(silent.address() as AddressInfo).port} 127.0.0.1:${port}`);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("no node answered /api/HealthCheck/Ping with 200 within 1 s");
    // 10 s for the silent node's probe, the other answers at once, the deadline is then past: well under a minute.
    expect(Date.now() - started).toBeLessThan(60_000);
  } finally {
    healthy = true;
    silent.close();
  }
}, 120_000);
