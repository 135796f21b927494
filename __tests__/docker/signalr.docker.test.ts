/**
 * SignalR at /msg through the balancer: negotiate and connect must reach the same node, which holds the
 * negotiated id in memory. HAProxy's affinity cookie keeps them together.
 */
import { engine } from "./support/engine";
import { ENV, loadDeployment, waitUntilServing } from "./support/farm";
import { serverStates } from "./support/haproxy-stats";
import { login, signalr } from "./support/http";
import { waitFor } from "./support/wait";
import { AFFINITY_COOKIE } from "../../constructs/balancer/render-haproxy-cfg";

const docker = engine();
const d = loadDeployment();

test("100 of 100 negotiate + WebSocket connects succeed, each on the node that negotiated", async () => {
  const results = [];
  for (let i = 0; i < 100; i++) results.push(await signalr(d.httpPort, await login(d.httpPort)));
  expect(results.filter((r) => r.connectStatus !== 101 || r.connectedTo !== r.negotiatedOn)).toEqual([]);
  // Affinity is per client: 100 clients were spread over the nodes, not all sent to one.
  expect(new Set(results.map((r) => r.negotiatedOn)).size).toBe(d.containers.nodes.length);
});

test("control: without the affinity cookie most connects fail (so the test above can fail)", async () => {
  const results = [];
  for (let i = 0; i < 30; i++) {
    const jar = await login(d.httpPort);
    results.push(await signalr(d.httpPort, jar, { affinity: false }));
  }
  const failed = results.filter((r) => r.connectStatus !== 101);
  expect(failed.every((r) => r.connectStatus === 404)).toBe(true);
  expect(failed.length).toBeGreaterThan(results.length / 2);
});

test("a client whose node is DOWN is moved to a live node and gets a new cookie", async () => {
  const jar = await login(d.httpPort);
  const first = await signalr(d.httpPort, jar);
  const cookie = jar.get(AFFINITY_COOKIE)!;
  const node = d.config.creatio.nodes.find((n: { name: string }) => n.name === cookie);
  expect(node).toBeDefined();
  const container = `${ENV}-creatio-${cookie}`;
  await docker.getContainer(container).stop({ t: 5 });
  try {
    await waitFor(async () => (await serverStates(d))[`be_creatio_msg/${cookie}`] === "DOWN", 15_000);
    const moved = await signalr(d.httpPort, jar);
    expect(moved.connectStatus).toBe(101);
    expect(moved.connectedTo).toBe(moved.negotiatedOn);
    expect(moved.negotiatedOn).not.toBe(first.negotiatedOn);
    expect(jar.get(AFFINITY_COOKIE)).not.toBe(cookie);
  } finally {
    await docker.getContainer(container).start();
    await waitUntilServing(docker, d);
  }
});
