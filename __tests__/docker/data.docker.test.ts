/**
 * The data tier: the nodes' database role, and data that outlives the PostgreSQL container.
 */
import { engine, exec } from "./support/engine";
import { applierFor, loadDeployment, waitUntilServing } from "./support/farm";
import { serverStates } from "./support/haproxy-stats";
import { login } from "./support/http";
import { waitFor } from "./support/wait";

const docker = engine();
const d = loadDeployment();
const db = d.config.database as { name?: string; user?: string };
const [dbName, dbUser] = [db.name ?? "creatio", db.user ?? "creatio"];

/** psql as the superuser over the container's local socket; one value out. */
async function psql(sql: string, database = dbName): Promise<string> {
  const r = await exec(docker, d.containers.postgres, ["psql", "-U", "postgres", "-d", database, "-tAc", sql]);
  if (r.code !== 0) throw new Error(`psql failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

test("the nodes' database role is a plain login role: no superuser, no role or database creation", async () => {
  expect(await psql(`SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = '${dbUser}'`, "postgres")).toBe("f|f|f|t");
  // and it is the role the nodes really connect as
  await login(d.httpPort);
  const dataSubnet = d.config.network.dataSubnet as string;
  expect(await psql(`SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = '${dbName}' AND backend_type = 'client backend' AND client_addr << '${dataSubnet}'`)).toBe(dbUser);
});

test("while the database is stopped every node leaves rotation (its health check fails), and all return", async () => {
  const postgres = docker.getContainer(d.containers.postgres);
  await postgres.stop({ t: 30 });
  try {
    await waitFor(async () => Object.values(await serverStates(d)).every((s) => s === "DOWN"), 30_000, "every node DOWN");
  } finally {
    await postgres.start();
  }
  await waitFor(async () => Object.values(await serverStates(d)).every((s) => s === "UP"), 60_000, "every node UP again");
});

test("data survives removing and recreating the PostgreSQL container on its volume", async () => {
  await login(d.httpPort);
  const before = Number(await psql("SELECT count(*) FROM stand_in_login"));
  expect(before).toBeGreaterThan(0);
  const oldId = (await docker.getContainer(d.containers.postgres).inspect()).Id;

  const applier = applierFor(docker, d);
  await applier.replace(d.postgresAddress);
  applier.save(d.stateFile);
  expect((await docker.getContainer(d.containers.postgres).inspect()).Id).not.toBe(oldId);
  await waitUntilServing(docker, d);

  expect(Number(await psql("SELECT count(*) FROM stand_in_login"))).toBe(before);
  await login(d.httpPort);
  expect(Number(await psql("SELECT count(*) FROM stand_in_login"))).toBe(before + 1);
});

/** A file's mode (octal) and owner uid in a container, running or not, from the tar header `docker cp` reads. */
async function modeAndOwner(container: ReturnType<typeof docker.getContainer>, file: string): Promise<string> {
  const stream = await container.getArchive({ path: file });
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const header = Buffer.concat(chunks).subarray(0, 512);
  const field = (at: number, len: number) => parseInt(header.subarray(at, at + len).toString("ascii").replace(/\0.*$/s, "").trim(), 8);
  return `${(field(100, 8) & 0o777).toString(8)} ${field(108, 8)}`;
}

/** Runs `js` with Node.js inside a node container, where the stand-in's pg and ioredis modules are; its stdout. */
async function fromNode(js: string): Promise<string> {
  const r = await exec(docker, d.containers.nodes[0], ["node", "-e", `process.chdir("/opt/stand-in"); module.paths.unshift("/opt/stand-in/node_modules"); ${js}`]);
  if (r.code !== 0) throw new Error(`node -e failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

test("the PostgreSQL superuser cannot log in over TCP from a node, even with its password; no database password is in a container's config", async () => {
  const password = d.outputs.database_superuser_password;
  expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
  const js = `const { Client } = require("pg");
    const c = new Client({ host: "postgres", user: "postgres", password: ${JSON.stringify(password)}, database: "postgres", connectionTimeoutMillis: 3000 });
    c.connect().then(() => { console.log("connected"); return c.end(); }, (e) => console.log(e.message));`;
  expect(await fromNode(js)).toMatch(/no pg_hba\.conf entry for host "[\d.]+", user "postgres", database "postgres"/);
  // the nodes' role reaches its own database only
  const asApp = (database: string) => `const { Client } = require("pg");
    const password = /Password=([^;"]+)/.exec(require("fs").readFileSync("/app/ConnectionStrings.config", "utf8"))[1];
    const c = new Client({ host: "postgres", user: ${JSON.stringify(dbUser)}, password, database: ${JSON.stringify(database)}, connectionTimeoutMillis: 3000 });
    c.connect().then(() => { console.log("connected"); return c.end(); }, (e) => console.log(e.message));`;
  expect(await fromNode(asApp(dbName))).toBe("connected");
  expect(await fromNode(asApp("template1"))).toMatch(/no pg_hba\.conf entry/);
  // the superuser password reaches the image as a file (POSTGRES_PASSWORD_FILE), readable by root only
  const env = (await docker.getContainer(d.containers.postgres).inspect()).Config.Env;
  expect(env.filter((e) => e.startsWith("POSTGRES_PASSWORD"))).toEqual(["POSTGRES_PASSWORD_FILE=/opt/creatio-farm/superuser-password"]);
  expect((await exec(docker, d.containers.postgres, ["stat", "-c", "%a %U", "/opt/creatio-farm/superuser-password"])).stdout.trim()).toBe("600 root");
  // the roles' passwords are not in the server's container at all: the bootstrap job has them, as files for root alone
  expect(env.some((e) => e.startsWith("CREATIO_DB_PASSWORD"))).toBe(false);
  const job = docker.getContainer(`${d.containers.postgres}-bootstrap`);
  expect((await job.inspect()).Config.Env.filter((e) => e.startsWith("CREATIO_DB_PASSWORD"))).toEqual(["CREATIO_DB_PASSWORD_FILE=/opt/creatio-farm/app-password"]);
  for (const file of ["app-password", "role-password-creatio_portal"]) {
    expect([file, await modeAndOwner(job, `/opt/creatio-farm/${file}`)]).toEqual([file, "600 0"]);
  }
});

/** Node.js code that connects to Redis as the stand-in does, from the node's ConnectionStrings.config (TLS mode). */
const REDIS_AS_NODE = `const Redis = require("ioredis");
    const { readConnectionStrings, redisOptions } = require("/opt/stand-in/config-files");
    const options = redisOptions(readConnectionStrings("/app").redis);`;

test("the nodes reach Redis over TLS only, trusting the farm's CA for the name redis, with the generated password", async () => {
  const js = `${REDIS_AS_NODE}
    const probe = (o) => new Promise((resolve) => {
      const r = new Redis({ ...o, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000, lazyConnect: true });
      let cause = "";
      r.on("error", (e) => (cause ||= e.message));
      r.connect().then(() => r.ping()).then((v) => resolve(String(v)), (e) => resolve(cause || e.message)).finally(() => r.disconnect());
    });
    (async () => console.log(JSON.stringify({
      asNode: await probe(options),
      plain: await probe({ host: options.host, port: options.port }),
      noPassword: await probe({ ...options, password: undefined }),
      otherName: await probe({ ...options, tls: { ...options.tls, servername: "postgres" } }),
      tls: options.tls ? options.tls.servername : "none",
    })))();`;
  const out = JSON.parse(await fromNode(js));
  expect(out.tls).toBe("redis");
  expect(out.asNode).toBe("PONG");
  expect(out.plain).not.toMatch(/PONG|NOAUTH/);
  expect(out.noPassword).toMatch(/NOAUTH/);
  expect(out.otherName).toMatch(/altnames|Hostname/i);
  // the server's key: uploaded for root alone, copied for the redis user alone, which the server runs as
  const stat = async (file: string) => (await exec(docker, d.containers.redis, ["stat", "-c", "%a %U", file])).stdout.trim();
  expect(await stat("/usr/local/etc/redis/tls/redis.key")).toBe("600 root");
  expect(await stat("/run/redis-tls.key")).toBe("400 redis");
  expect((await exec(docker, d.containers.redis, ["cat", "/proc/1/comm"])).stdout.trim()).toBe("redis-server");
  expect(await stat("/proc/1")).toBe("555 redis");
  expect((await docker.getContainer(d.containers.redis).inspect()).State.Health?.Status).toBe("healthy");
});

test("the nodes' Redis user cannot FLUSHALL, CONFIG, REPLICAOF or SHUTDOWN; it reads and writes; the admin user can", async () => {
  const js = `${REDIS_AS_NODE}
    const r = new Redis({ ...options, maxRetriesPerRequest: 1, connectTimeout: 3000 });
    const run = (...c) => r.call(...c).then((v) => String(v), (e) => e.message.split(" ")[0]);
    (async () => {
      const out = {};
      for (const c of [["flushall"], ["config", "set", "maxmemory-policy", "allkeys-lru"], ["replicaof", "127.0.0.1", "1"], ["shutdown", "nosave"], ["set", "creatio-farm:probe", "1"], ["get", "creatio-farm:probe"]]) out[c[0]] = await run(...c);
      console.log(JSON.stringify(out));
      r.disconnect();
    })();`;
  expect(JSON.parse(await fromNode(js))).toEqual({ flushall: "NOPERM", config: "NOPERM", replicaof: "NOPERM", shutdown: "NOPERM", set: "OK", get: "1" });
  const admin = await exec(docker, d.containers.redis, [
    "redis-cli", "--tls", "--cacert", "/usr/local/etc/redis/tls/ca.crt", "--no-auth-warning",
    "--user", "farm-admin", "--pass", d.outputs.redis_admin_password, "config", "get", "maxmemory-policy",
  ]);
  expect(admin.stdout.trim()).toBe("maxmemory-policy\nnoeviction");
});
