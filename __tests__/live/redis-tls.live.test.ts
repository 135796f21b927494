/**
 * Redis' TLS mode: the rendered redis.conf (TLS) is loaded by a real redis-server on 127.0.0.1, with a CA and
 * server certificate shaped like the ones the stack generates (EC P-256, issued for the name `redis`). Clients
 * connect as the nodes do: TLS, trusting the farm's CA, checking the name `redis`, with the password.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Redis from "ioredis";
import { renderRedisConf } from "../../constructs/redis/render-redis-conf";
import { certificateRequestPem, ecPrivateKey, selfSignedCertificatePem, signedCertificatePem } from "../support/openssl-ca";
import { freePort, sleep, stopProcess } from "./support/processes";

const HINT = "apt-get install -y redis-server";
const PASSWORD = "redis-node-test-password";
const ADMIN_PASSWORD = "redis-admin-test-password";
const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");
let server: ChildProcess | undefined;
let port = 0;
let dir = "";
let log = "";
const clients: Redis[] = [];

function makeCa(name: string): { cert: string; key: string } {
  const key = ecPrivateKey();
  return { key, cert: selfSignedCertificatePem(key, { commonName: name, validityHours: 24, allowedUses: ["cert_signing", "crl_signing"], isCa: true }) };
}

/** redis-cli over TLS, trusting `caFile`; `args` may start with auth options. */
function cli(caFile: string, ...args: string[]) {
  const r = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "--tls", "--cacert", caFile, "--sni", "redis", "--no-auth-warning", ...args], { encoding: "utf8", timeout: 5000 });
  if (r.error) throw new Error(`redis-cli not found: ${HINT}`);
  return `${r.stdout}${r.stderr}`.trim();
}

/** A client as a node connects: TLS to the name `redis`, trusting `ca`. Resolves with its answer to PING, or the error. */
async function nodeClient(options: { ca: string; servername?: string; password?: string }): Promise<Redis> {
  const client = new Redis({
    host: "127.0.0.1",
    port,
    password: options.password,
    tls: { ca: options.ca, servername: options.servername ?? "redis", minVersion: "TLSv1.2" },
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    // A refused TLS connection is ended after this, not after ioredis' 2 s timer.
    disconnectTimeout: 100,
  });
  // ioredis reports why a connection failed (TLS, AUTH) as an error event; connect() only says it closed.
  let cause: Error | undefined;
  client.on("error", (e: Error) => (cause ??= e));
  clients.push(client);
  try {
    await client.connect();
  } catch (e) {
    throw cause ?? e;
  }
  return client;
}

let ca: { cert: string; key: string };
let caFile = "";

beforeAll(async () => {
  if (spawnSync("redis-server", ["--version"]).error) throw new Error(`redis-server not found: ${HINT}`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-redis-tls-"));
  port = await freePort();
  ca = makeCa("creatio-farm live Redis CA");
  const serverKey = ecPrivateKey();
  const serverCert = signedCertificatePem(certificateRequestPem(serverKey, "redis", ["redis"]), ca.cert, ca.key, {
    validityHours: 24,
    allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
  });
  caFile = path.join(dir, "ca.crt");
  fs.writeFileSync(caFile, ca.cert);
  fs.writeFileSync(path.join(dir, "redis.crt"), serverCert);
  fs.writeFileSync(path.join(dir, "redis.key"), serverKey, { mode: 0o400 });
  const conf = path.join(dir, "redis.conf");
  fs.writeFileSync(
    conf,
    renderRedisConf({
      port,
      dataDir: dir,
      maxMemoryMb: 16,
      adminUser: "farm-admin",
      adminPasswordSha256: sha256(ADMIN_PASSWORD),
      tls: { certificateFile: path.join(dir, "redis.crt"), keyFile: path.join(dir, "redis.key"), caFile, defaultPasswordSha256: sha256(PASSWORD) },
    }),
  );
  server = spawn("redis-server", [conf, "--bind", "127.0.0.1", "--daemonize", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  server.stdout!.on("data", (d) => (log += d));
  server.stderr!.on("data", (d) => (log += d));
  for (let i = 0; !/NOAUTH/.test(cli(caFile, "ping")); i++) {
    if (server.exitCode !== null) throw new Error(`redis-server refused the rendered redis.conf (TLS):\n${log}`);
    if (i === 40) throw new Error(`redis-server does not answer over TLS with NOAUTH:\n${cli(caFile, "ping")}\n${log}`);
    await sleep(50);
  }
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  if (server) await stopProcess(server, "SIGTERM");
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test("a node's client (TLS, the farm's CA, the name redis, the password) is served", async () => {
  const client = await nodeClient({ ca: ca.cert, password: PASSWORD });
  expect(await client.set("session:tls", "v", "EX", 60)).toBe("OK");
  expect(await client.get("session:tls")).toBe("v");
  expect(await client.eval("return redis.call('incr', KEYS[1])", 1, "lock:tls")).toBe(1);
  expect(await client.flushdb()).toBe("OK");
});

test("the ACL still holds over TLS: the nodes' user cannot FLUSHALL, CONFIG, REPLICAOF or SHUTDOWN", async () => {
  const client = await nodeClient({ ca: ca.cert, password: PASSWORD });
  for (const command of [["flushall"], ["config", "get", "maxmemory"], ["replicaof", "127.0.0.1", "1"], ["shutdown", "nosave"]]) {
    await expect(client.call(command[0], ...command.slice(1))).rejects.toThrow(/^NOPERM/);
  }
});

test("without the password, or with a wrong one, nothing is served", async () => {
  expect(cli(caFile, "get", "session:tls")).toMatch(/NOAUTH/);
  expect(cli(caFile, "--pass", "wrong", "ping")).toMatch(/WRONGPASS|invalid username-password/);
  await expect(nodeClient({ ca: ca.cert, password: "wrong" })).rejects.toThrow(/WRONGPASS|invalid username-password/);
});

test("plain TCP is not served at all (port 0): a client without TLS gets no answer", () => {
  const r = spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "ping"], { encoding: "utf8", timeout: 5000 });
  expect(`${r.stdout}${r.stderr}`).not.toMatch(/PONG|NOAUTH/);
});

test("a client that does not trust the farm's CA, or expects another name, refuses the server", async () => {
  await expect(nodeClient({ ca: makeCa("another CA").cert, password: PASSWORD })).rejects.toThrow(/certificate/i);
  await expect(nodeClient({ ca: ca.cert, servername: "postgres", password: PASSWORD })).rejects.toThrow(/altnames|Hostname/i);
});

test("TLS 1.1 is refused", () => {
  const r = spawnSync("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-tls1_1", "-CAfile", caFile], { encoding: "utf8", input: "", timeout: 5000 });
  expect(r.status).not.toBe(0);
});

test("the admin user, with its password, may reconfigure", () => {
  expect(cli(caFile, "--user", "farm-admin", "--pass", ADMIN_PASSWORD, "config", "get", "tls-auth-clients")).toBe("tls-auth-clients\nno");
  expect(cli(caFile, "--user", "farm-admin", "--pass", ADMIN_PASSWORD, "config", "get", "port")).toBe("port\n0");
});
