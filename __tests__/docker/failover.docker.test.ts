/**
 * A node leaving and rejoining under load, through the real balancer, network and containers.
 *
 * GIVEN 4 client loops sending GETs through the balancer
 * WHEN a node container is killed (docker kill), then started again; and when a node's process crashes
 * THEN no request fails, the killed node is DOWN within the bound its health check settings give, and each node
 * rejoins (the crashed one restarted by Docker's restart policy alone).
 */
import { engine, exec } from "./support/engine";
import { loadDeployment, waitUntilServing } from "./support/farm";
import { serverStates } from "./support/haproxy-stats";
import { get } from "./support/http";
import { startLoad } from "./support/load";
import { waitFor } from "./support/wait";
import { sleep } from "../live/support/processes";

const docker = engine();
const d = loadDeployment();
const hc = d.config.balancer.healthCheck as { intervalMs: number; fall: number; rise: number; timeoutMs: number };
/**
 * A killed container's address stops answering at all (no refusal): each failing check waits for its connect,
 * which HAProxy bounds by min(timeout connect = 5 s, inter) when `timeout check` is set. The first failing check
 * starts at most `inter` after the kill, the next ones `fastinter` after the previous one ended, so DOWN comes at
 * most inter + fall × connect + (fall − 1) × fastinter after the kill.
 */
const fastinter = Math.min(1000, hc.intervalMs);
const connect = Math.min(5000, hc.intervalMs);
const DOWN_BOUND_MS = hc.intervalMs + hc.fall * connect + (hc.fall - 1) * fastinter;
const MARGIN_MS = 1000;

afterAll(async () => {
  for (const name of d.containers.nodes) {
    const info = await docker.getContainer(name).inspect();
    if (!info.State.Running) await docker.getContainer(name).start();
  }
  await waitUntilServing(docker, d);
});

test(`a killed node is DOWN within ${DOWN_BOUND_MS} ms + ${MARGIN_MS} ms, rejoins when started, and no GET fails`, async () => {
  const victim = d.containers.nodes[2];
  const server = `be_creatio/${victim.replace(/^.*-creatio-/, "")}`;
  const load = startLoad(d.httpPort, "/api/StandIn/Node");
  await sleep(1500);
  const killedAt = Date.now();
  await docker.getContainer(victim).kill();
  const downMs = await waitFor(async () => (await serverStates(d))[server] === "DOWN", 30_000, `${server} DOWN`).then(() => Date.now() - killedAt);
  await sleep(1000);
  await docker.getContainer(victim).start();
  const upMs = await waitFor(async () => (await serverStates(d))[server] === "UP", 60_000, `${server} UP`);
  await sleep(1000);
  const result = await load.stop();

  process.stdout.write(`failover: ${result.total} GETs, ${result.failures.length} failed, slowest ${result.maxMs} ms; DOWN after ${downMs} ms, UP ${upMs} ms after start\n`);
  expect(result.failures).toEqual([]);
  expect(result.total).toBeGreaterThan(100);
  expect(downMs).toBeLessThanOrEqual(DOWN_BOUND_MS + MARGIN_MS);
});

test("a node whose process crashes is restarted by Docker and serves again, and no GET fails", async () => {
  const victim = d.containers.nodes[0];
  const before = await docker.getContainer(victim).inspect();
  const load = startLoad(d.httpPort, "/api/StandIn/Node");
  await sleep(1500);
  // The stand-in aborts on SIGUSR2: a crash, not a stop, so Docker's restart policy applies (a docker kill is not).
  await exec(docker, victim, ["sh", "-c", "kill -USR2 1"]);
  await waitFor(async () => (await docker.getContainer(victim).inspect()).RestartCount > before.RestartCount, 30_000, "Docker's restart");
  await waitUntilServing(docker, d);
  // Served again through the balancer: the restarted process answers under the container's hostname.
  const hostname = before.Config.Hostname;
  await waitFor(async () => JSON.parse((await get(d.httpPort, "/api/StandIn/Node")).body).node === hostname, 10_000, `${victim} serving`);
  const result = await load.stop();

  process.stdout.write(`crash: ${result.total} GETs, ${result.failures.length} failed, slowest ${result.maxMs} ms\n`);
  expect(result.failures).toEqual([]);
  expect(result.total).toBeGreaterThan(100);
});
