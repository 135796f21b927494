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
  expect(await psql(`SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = '${dbName}' AND backend_type = 'client backend' AND usename <> 'postgres'`)).toBe(dbUser);
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

/** Runs `js` with Node.js inside a node container, where the stand-in's pg and ioredis modules are; its stdout. */
async function fromNode(js: string): Promise<string> {
  const r = await exec(docker, d.containers.nodes[0], ["node", "-e", `process.chdir("/opt/stand-in"); module.paths.unshift("/opt/stand-in/node_modules"); ${js}`]);
  if (r.code !== 0) throw new Error(`node -e failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

test("the PostgreSQL superuser cannot log in over TCP from a node, even with its password; its password is in no container's config", async () => {
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
});

test("the nodes' Redis user cannot FLUSHALL, CONFIG, REPLICAOF or SHUTDOWN; it reads and writes; the admin user can", async () => {
  const js = `const Redis = require("ioredis");
    const r = new Redis({ host: "redis", maxRetriesPerRequest: 1, connectTimeout: 3000 });
    const run = (...c) => r.call(...c).then((v) => String(v), (e) => e.message.split(" ")[0]);
    (async () => {
      const out = {};
      for (const c of [["flushall"], ["config", "set", "maxmemory-policy", "allkeys-lru"], ["replicaof", "127.0.0.1", "1"], ["shutdown", "nosave"], ["set", "creatio-farm:probe", "1"], ["get", "creatio-farm:probe"]]) out[c[0]] = await run(...c);
      console.log(JSON.stringify(out));
      r.disconnect();
    })();`;
  expect(JSON.parse(await fromNode(js))).toEqual({ flushall: "NOPERM", config: "NOPERM", replicaof: "NOPERM", shutdown: "NOPERM", set: "OK", get: "1" });
  const admin = await exec(docker, d.containers.redis, ["redis-cli", "--no-auth-warning", "--user", "farm-admin", "--pass", d.outputs.redis_admin_password, "config", "get", "maxmemory-policy"]);
  expect(admin.stdout.trim()).toBe("maxmemory-policy\nnoeviction");
});
