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
