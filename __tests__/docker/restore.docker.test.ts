/**
 * `database.restore` in the real Engine: the fresh environment's database was restored by the bootstrap job from
 * the backup the tier made (global setup), before any node started; applying the same stack again changes nothing.
 */
import { engine, exec } from "./support/engine";
import { loadDeployment } from "./support/farm";
import { applyStack, synthesizeWith } from "./support/resynth";

const docker = engine();
const d = loadDeployment();

async function psql(sql: string, database = "creatio"): Promise<string> {
  const r = await exec(docker, d.containers.postgres, ["psql", "-U", "postgres", "-d", database, "-tAc", sql]);
  if (r.code !== 0) throw new Error(`psql failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

test("the database holds the backup's tables and rows, owned by the nodes' role, restored once by the job, and no scratch database is left", async () => {
  expect(await psql(`SELECT "Code" FROM "Feature"`)).toBe("OAuth20Integration");
  expect(await psql(`SELECT "TextValue" FROM "SysSettingsValue" WHERE "SysSettingsId" = '22222222-2222-2222-2222-222222222222'`)).toBe("https://crm.example.com");
  const owners = await psql(`SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relname IN ('Feature', 'AdminUnitFeatureState', 'SysSettings', 'SysSettingsValue')`);
  expect(owners).toBe("creatio");
  expect(await psql("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = 'creatio'", "postgres")).toBe("creatio-farm: restored from creatio.backup");
  expect(await psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'creatio_farm_%'", "postgres")).toBe("0");
  const job = docker.getContainer(`${d.containers.postgres}-bootstrap`);
  expect((await job.inspect()).State.ExitCode).toBe(0);
  const log = String(await job.logs({ stdout: true, stderr: true }));
  expect(log).toContain("restoring creatio.backup into 'creatio_farm_restore'");
  expect(log).toContain("creatio.backup restored into 'creatio'");
  // the nodes started after it had finished (depends_on) and serve from the restored database
  const finished = Date.parse((await job.inspect()).State.FinishedAt);
  for (const node of [...d.containers.nodes, ...d.portal.nodes]) {
    const started = Date.parse((await docker.getContainer(node).inspect()).State.StartedAt);
    expect([node, started > finished]).toEqual([node, true]);
  }
  expect(await psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = 'creatio' AND usename = 'creatio'`, "postgres")).not.toBe("0");
});

test("applying the same stack again changes nothing: no resource is replaced, the jobs do not run again, the Identity Service is the same container", async () => {
  const kept = [`${d.containers.postgres}-bootstrap`, "dockertier-identity-service", "dockertier-identity-certificate", "dockertier-creatio-settings"];
  const before = await Promise.all(kept.map(async (c) => (await docker.getContainer(c).inspect()).Id));
  const lines = await applyStack(docker, d, synthesizeWith(d, () => {}, "same-again"));
  expect(lines).toEqual([]);
  expect(await Promise.all(kept.map(async (c) => (await docker.getContainer(c).inspect()).Id))).toEqual(before);
});
