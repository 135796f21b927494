/**
 * `npm run bench:docker`: figures of the Docker tier's farm in the real Engine. Figures, not assertions.
 *
 *   images       build time of the tier's images: cached (the hash matches), and cold with --cold (the images are
 *                removed first, so debootstrap and every package install run again)
 *   apply        time from the start of the apply to every container up and every node UP in the balancer
 *   node kill    4 client loops of GETs through the balancer while a node container is killed and started again:
 *                requests sent, failed, slowest, time to DOWN and back to UP
 *   memory       resident memory of each container (cgroup rss, or anon on cgroup v2), idle after the kill round
 *
 * Everything it creates is removed at the end, also when it fails.
 *
 * usage: npm run bench:docker [-- --cold] [-- --load-seconds 10]
 */
import { parseArgs } from "node:util";
import { engine, requireEngine } from "../__tests__/docker/support/engine";
import { Deployment, deploy, destroy, waitUntilServing } from "../__tests__/docker/support/farm";
import { serverStates } from "../__tests__/docker/support/haproxy-stats";
import { ensureTestImages, removeTestImages } from "../__tests__/docker/support/images";
import { startLoad } from "../__tests__/docker/support/load";
import { waitFor } from "../__tests__/docker/support/wait";
import { sleep } from "../__tests__/live/support/processes";

const { values } = parseArgs({ options: { cold: { type: "boolean", default: false }, "load-seconds": { type: "string", default: "10" } } });
const LOAD_SECONDS = Number(values["load-seconds"]);
if (!(LOAD_SECONDS > 0)) throw new Error("--load-seconds needs a positive number");

const docker = engine();
const line = (text: string) => process.stdout.write(`${text}\n`);

async function images(): Promise<void> {
  if (values.cold) {
    await removeTestImages(docker);
    const t0 = Date.now();
    const cold = await ensureTestImages(docker);
    line(`images, cold: ${((Date.now() - t0) / 1000).toFixed(1)} s (${Object.entries(cold.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ")})`);
  }
  const t0 = Date.now();
  const cached = await ensureTestImages(docker);
  const rebuilt = cached.built.length ? ` (rebuilt: ${cached.built.join(", ")})` : "";
  line(`images, ${cached.built.length ? "as found" : "cached"}: ${((Date.now() - t0) / 1000).toFixed(1)} s${rebuilt}`);
}

async function nodeKill(d: Deployment): Promise<void> {
  const victim = d.containers.nodes[d.containers.nodes.length - 1];
  const server = `be_creatio/${victim.slice(victim.lastIndexOf("-creatio-") + "-creatio-".length)}`;
  const load = startLoad(d.httpPort, "/api/StandIn/Node");
  await sleep(2000);
  const killedAt = Date.now();
  await docker.getContainer(victim).kill();
  await waitFor(async () => (await serverStates(d))[server] === "DOWN", 30_000, `${server} DOWN`);
  const downMs = Date.now() - killedAt;
  const rest = Math.max(0, LOAD_SECONDS * 1000 - 2000 - downMs);
  await sleep(rest / 2);
  const startedAt = Date.now();
  await docker.getContainer(victim).start();
  await waitFor(async () => (await serverStates(d))[server] === "UP", 60_000, `${server} UP`);
  const upMs = Date.now() - startedAt;
  await sleep(rest / 2);
  const r = await load.stop();
  line(`node kill: ${r.total} GETs, ${r.failures.length} failed, slowest ${r.maxMs} ms; DOWN ${downMs} ms after the kill, UP ${upMs} ms after the start`);
  if (r.failures.length) line(`  first failures: ${r.failures.slice(0, 3).join(" | ")}`);
}

async function memory(d: Deployment): Promise<void> {
  const parts: string[] = [];
  for (const name of [d.containers.balancer, d.containers.redis, d.containers.postgres, ...d.containers.nodes]) {
    const stats = (await docker.getContainer(name).stats({ stream: false })) as { memory_stats?: { stats?: Record<string, number> } };
    const s = stats.memory_stats?.stats ?? {};
    const bytes = s.rss ?? s.anon ?? NaN;
    parts.push(`${name} ${(bytes / 1024 / 1024).toFixed(1)} MB`);
  }
  line(`memory (rss): ${parts.join(", ")}`);
}

(async () => {
  await requireEngine(docker);
  try {
    await images();
    const t0 = Date.now();
    const d = await deploy(docker, () => {});
    const appliedMs = Date.now() - t0;
    await waitUntilServing(docker, d);
    line(`apply: ${appliedMs} ms to create every resource, ${Date.now() - t0} ms to every container up and every node UP`);
    await nodeKill(d);
    await waitUntilServing(docker, d);
    await sleep(2000);
    await memory(d);
  } finally {
    await destroy(docker, () => {});
  }
})().catch((e) => {
  process.stderr.write(`bench:docker: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
