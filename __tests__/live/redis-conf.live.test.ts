/**
 * The rendered redis.conf is loaded by a real redis-server on 127.0.0.1: every directive must be accepted, and the
 * settings the farm relies on must be in force.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderRedisConf } from "../../constructs/redis/render-redis-conf";
import { freePort, sleep, stopProcess } from "./support/processes";

const HINT = "apt-get install -y redis-server";
let server: ChildProcess | undefined;
let port = 0;
let dir = "";
let log = "";

function cli(...args: string[]): string {
  const r = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { encoding: "utf8" });
  if (r.error) throw new Error(`redis-cli not found: ${HINT}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  if (spawnSync("redis-server", ["--version"]).error) throw new Error(`redis-server not found: ${HINT}`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-redis-"));
  port = await freePort();
  const conf = path.join(dir, "redis.conf");
  fs.writeFileSync(conf, renderRedisConf({ port, dataDir: dir, maxMemoryMb: 16 }));
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
  expect(cli("config", "get", "appendonly")).toBe("appendonly\nyes");
  expect(cli("config", "get", "appendfsync")).toBe("appendfsync\neverysec");
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
  expect(cli("config", "get", "maxmemory")).toBe(`maxmemory\n${16 * 1024 * 1024}`);
});

test("no password is required (Creatio sends one only over TLS); isolation protects it", () => {
  expect(cli("set", "creatio-farm:probe", "1")).toBe("OK"); // a client without credentials may write
  expect(cli("config", "get", "protected-mode")).toBe("protected-mode\nno");
});
