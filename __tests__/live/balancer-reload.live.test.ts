/**
 * A reload of the running HAProxy with the rendered haproxy.cfg, the way an operator triggers one today (a renewed
 * certificate: `docker kill -s USR2 <env>-haproxy`, README): SIGUSR2 to the master, which starts a new worker on the
 * same listeners while the old one finishes what it holds (master-worker, hard-stop-after).
 */
import * as fs from "fs";
import * as http from "http";
import WebSocket from "ws";
import { renderHaproxyCfg } from "../../constructs/balancer/render-haproxy-cfg";
import { Echo, request } from "./support/http-client";
import { loopbackModel, writeModelFiles } from "./support/loopback";
import { childPids, Haproxy, startHaproxy } from "./support/haproxy-process";
import { freePort, sleep } from "./support/processes";
import { startStandIn, strayPids, Teardown } from "./support/stand-ins";

const teardown = new Teardown();
afterEach(() => teardown.run());
afterAll(() => teardown.run());

/** The children of the master that are haproxy workers, now. */
function workers(h: Haproxy): number[] {
  return childPids(h.masterPid).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "haproxy";
    } catch {
      return false;
    }
  });
}

test("a reload with new weights keeps an open WebSocket and loses none of the requests in flight or arriving", async () => {
  // GIVEN two nodes of weight 1, behind the rendered config
  const nodes = [teardown.add(await startStandIn({ name: "n1", port: await freePort() })), teardown.add(await startStandIn({ name: "n2", port: await freePort() }))];
  const opts = { httpPort: await freePort(), statsPort: await freePort() };
  const before = loopbackModel({ ...opts, servers: [{ name: "n1", port: nodes[0].port }, { name: "n2", port: nodes[1].port }] });
  // the same model, runtime socket and Lua file included, but for n1's weight
  const after = { ...before, backends: before.backends.map((b) => ({ ...b, servers: b.servers.map((x) => (x.name === "n1" ? { ...x, weight: 2 } : x)) })) };
  writeModelFiles(before);
  const haproxy = teardown.add(await startHaproxy(renderHaproxyCfg(before)));
  const [oldWorker] = workers(haproxy);

  // AND an open WebSocket
  const ws = new WebSocket(`ws://127.0.0.1:${opts.httpPort}/ws`);
  teardown.defer(() => ws.terminate());
  const messages: string[] = [];
  ws.on("message", (m) => messages.push(m.toString()));
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  ws.send("before");
  while (messages.length < 1) await sleep(10);

  // AND six slow GETs in flight (1.5 s on the node), and a client sending GETs on fresh connections without pause
  const inFlight = Array.from({ length: 6 }, () => request({ port: opts.httpPort, path: "/echo?delay=1500", timeoutMs: 10_000 }).then((r) => r.status, (e: Error) => e.message));
  let running = true;
  const statuses: (number | string)[] = [];
  const loop = (async () => {
    while (running) statuses.push(await request({ port: opts.httpPort, path: "/echo", agent: false }).then((r) => r.status, (e: Error) => e.message));
  })();
  teardown.defer(async () => {
    running = false;
    await loop;
  });
  await sleep(300);

  // WHEN node n1's weight becomes 2 in the file and the master is told to reload
  fs.writeFileSync(haproxy.cfgPath, renderHaproxyCfg(after));
  process.kill(haproxy.masterPid, "SIGUSR2");
  const reloadedAt = performance.now();
  let newWorkerMs = 0;
  let current = workers(haproxy);
  while (!current.some((pid) => pid !== oldWorker)) {
    if (performance.now() - reloadedAt > 5000) throw new Error(`no new worker 5 s after SIGUSR2; workers ${current}; log:\n${haproxy.output()}`);
    await sleep(20);
    current = workers(haproxy);
  }
  newWorkerMs = performance.now() - reloadedAt;

  // THEN every request in flight is answered, and none of those sent meanwhile failed
  expect(await Promise.all(inFlight)).toEqual(Array(6).fill(200));
  await sleep(300);
  running = false;
  await loop;
  expect(statuses.length).toBeGreaterThan(50);
  expect(statuses.filter((s) => s !== 200)).toEqual([]);

  // AND the WebSocket opened before the reload still carries messages (the old worker keeps it)
  ws.send("after");
  const deadline = performance.now() + 2000;
  while (messages.length < 2 && performance.now() < deadline) await sleep(10);
  expect(messages).toEqual([messages[0], messages[0].replace("before", "after")]);
  expect(ws.readyState).toBe(WebSocket.OPEN);

  // AND the new weights are in force: 2:1 over fresh connections
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  teardown.defer(() => agent.destroy());
  const served: Record<string, number> = { n1: 0, n2: 0 };
  for (let i = 0; i < 90; i++) served[(JSON.parse((await request({ port: opts.httpPort, path: "/echo", agent })).body) as Echo).node]++;
  expect(served).toEqual({ n1: 60, n2: 30 });
  console.log(`reload: a new worker ${Math.round(newWorkerMs)} ms after SIGUSR2; ${statuses.length} GETs sent around it, 0 failed; 6 of 6 slow GETs in flight answered; the WebSocket kept`);
});

describe("teardown", () => {
  test("no process is left behind", async () => {
    await teardown.run();
    expect(strayPids()).toEqual([]);
  });
});
