/**
 * The rendered redis.conf is loaded by a real redis-server on 127.0.0.1: every directive must be accepted, and the
 * settings the farm relies on must be in force.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderRedisConf } from "../../constructs/redis/render-redis-conf";
import { freePort, sleep, stopProcess } from "./support/processes";

const HINT = "apt-get install -y redis-server";
const ADMIN_PASSWORD = "redis-admin-test-password";
let server: ChildProcess | undefined;
let port = 0;
let dir = "";
let log = "";

function cli(...args: string[]): string {
  return cliAs([], ...args);
}

/** redis-cli with `auth` (e.g. ["--user", u, "--pass", p]) before the command; --no-auth-warning keeps stdout clean. */
function cliAs(auth: string[], ...args: string[]): string {
  const r = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "--no-auth-warning", ...auth, ...args], { encoding: "utf8" });
  if (r.error) throw new Error(`redis-cli not found: ${HINT}`);
  return r.stdout.trim();
}

const admin = (...args: string[]) => cliAs(["--user", "farm-admin", "--pass", ADMIN_PASSWORD], ...args);

beforeAll(async () => {
  if (spawnSync("redis-server", ["--version"]).error) throw new Error(`redis-server not found: ${HINT}`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-redis-"));
  port = await freePort();
  const conf = path.join(dir, "redis.conf");
  fs.writeFileSync(
    conf,
    renderRedisConf({
      port,
      dataDir: dir,
      maxMemoryMb: 16,
      adminUser: "farm-admin",
      adminPasswordSha256: crypto.createHash("sha256").update(ADMIN_PASSWORD).digest("hex"),
    }),
  );
  // Only the bind address is overridden (the container listens on its network, the test on loopback).
  server = spawn("redis-server", [conf, "--bind", "127.0.0.1", "--daemonize", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  server.stdout!.on("data", (d) => (log += d));
  server.stderr!.on("data", (d) => (log += d));
  for (let i = 0; i < 100 && cli("ping") !== "PONG"; i++) {
    if (server.exitCode !== null) throw new Error(`redis-server refused the rendered redis.conf:\n${log}`);
    await sleep(50);
  }
});

afterAll(async () => {
  if (server) await stopProcess(server, "SIGTERM");
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("redis-server starts with the rendered redis.conf and answers", () => {
  expect(cli("ping")).toBe("PONG");
});

test("sessions survive a restart: append-only file on", () => {
  expect(admin("config", "get", "appendonly")).toBe("appendonly\nyes");
  expect(admin("config", "get", "appendfsync")).toBe("appendfsync\neverysec");
});

test("a full Redis refuses writes instead of evicting sessions", () => {
  // GIVEN a session key, then 1 MB values until the 16 MB limit is reached
  expect(cli("set", "session:keep", "alive")).toBe("OK");
  const megabyte = "x".repeat(1024 * 1024);
  let refused = "";
  for (let i = 0; i < 40 && !refused; i++) {
    const r = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "-x", "set", `fill:${i}`], { input: megabyte, encoding: "utf8" });
    if (!r.stdout.startsWith("OK")) refused = r.stdout.trim();
  }
  // THEN the write is refused loudly, and the session is still there
  expect(refused).toMatch(/^OOM command not allowed/);
  expect(cli("get", "session:keep")).toBe("alive");
  expect(admin("config", "get", "maxmemory")).toBe(`maxmemory\n${16 * 1024 * 1024}`);
});

test("no password is required (Creatio sends one only over TLS); isolation protects it", () => {
  expect(cli("set", "creatio-farm:probe", "1")).toBe("OK"); // a client without credentials may write
  expect(admin("config", "get", "protected-mode")).toBe("protected-mode\nno");
});

describe("the nodes' user (default, no password) runs what Creatio needs and nothing that takes the server", () => {
  test.each([
    ["flushall"],
    ["config", "set", "maxmemory-policy", "allkeys-lru"],
    ["config", "get", "maxmemory"],
    ["replicaof", "127.0.0.1", "1"],
    ["debug", "sleep", "0"],
    ["save"],
    ["acl", "setuser", "evil", "on", "nopass", "+@all"],
    ["swapdb", "0", "1"],
    ["module", "list"],
    ["shutdown", "nosave"],
  ])("%s … is refused (NOPERM)", (...command) => {
    // DEBUG is also off server-wide (enable-debug-command no, Redis 7's default), which answers first
    expect(cli(...command)).toMatch(command[0] === "debug" ? /^(NOPERM|ERR DEBUG command not allowed)/ : /^NOPERM/);
  });

  test.each([
    [["set", "session:1", "v", "EX", "60"], "OK"],
    [["get", "session:1"], "v"],
    [["eval", "return redis.call('incr', KEYS[1])", "1", "lock:1"], "1"],
    [["publish", "creatio:channel", "m"], "0"],
    [["select", "1"], "OK"],
    [["client", "setname", "creatio-node"], "OK"],
    [["flushdb"], "OK"],
  ])("%j is allowed", (command, answer) => {
    expect(cli(...command)).toBe(answer);
  });

  test("INFO and ROLE answer (clients run them when they connect)", () => {
    expect(cli("info", "server")).toMatch(/^# Server/);
    expect(cli("role")).toMatch(/^master/);
  });

  test("the server is still up after all of that", () => {
    expect(cli("ping")).toBe("PONG");
  });
});

test("the admin user, with its password, may do everything; without it, nothing", () => {
  expect(admin("config", "get", "maxmemory-policy")).toBe("maxmemory-policy\nnoeviction");
  expect(cli("auth", "farm-admin", "wrong")).toMatch(/^WRONGPASS/);
  expect(cli("auth", "farm-admin", ADMIN_PASSWORD)).toBe("OK");
});
