/**
 * Failover with the rendered haproxy.cfg and the REAL haproxy: a node that dies, a node that hangs, and a farm
 * started before its nodes. Every bound is derived from the configured check timings (see checkTimings and the
 * reference's failover math), never from how fast this machine happens to be.
 *
 * MARGIN_MS, added to every derived bound, covers what the formula leaves out:
 * - observation: show stat is polled every 25 ms, plus a unix-socket round trip of a few ms;
 * - the checks themselves: on loopback a refused connect or a 200 takes about 1 ms, each of up to `fall` checks;
 * - scheduling: 2 cores are shared by Jest, the client loops, haproxy and the stand-ins, so a timer may fire
 *   late; ~200 ms is left for that. A bound that fails by more than that is a real regression (e.g. fastinter
 *   lost: fall × inter instead of inter + (fall−1) × fastinter, or a check timeout that does not apply).
 *
 * HAProxy spreads the first checks over `inter` in server order and each test acts right after allUp() saw the
 * last server's check, so the kill or freeze lands at a fixed phase near the worst case: measured times sit just
 * under the derived bounds (a few ms over at most), which is what makes the bound itself the thing tested.
 */
import * as http from "http";
import { Haproxy } from "./support/haproxy-process";
import { Echo, request } from "./support/http-client";
import { checkTimings, FAST_CHECKS, startLoopbackBalancer } from "./support/loopback";
import { RELEASE_GRACE_MS } from "../../constructs/balancer/render-haproxy-cfg";
import { freePort, sleep } from "./support/processes";
import { StandIn, startStandIn, strayPids, Teardown } from "./support/stand-ins";

const MARGIN_MS = 300;

const teardown = new Teardown();
afterEach(() => teardown.run());
afterAll(() => teardown.run());

const measured: string[] = [];
afterAll(() => console.log(`failover times measured:\n${measured.join("\n")}`));

async function standIn(name: string, port?: number): Promise<StandIn> {
  return teardown.add(await startStandIn({ name, port: port ?? (await freePort()) }));
}

const balancer = (opts: Parameters<typeof startLoopbackBalancer>[1]) => startLoopbackBalancer(teardown, opts);

/** Waits until every server of `creatio` is fully healthy ("UP" without a pending count), so timings start clean. */
async function allUp(haproxy: Haproxy, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let states = await haproxy.serverStates("creatio");
  while (!Object.values(states).every((s) => s.raw === "UP")) {
    if (performance.now() > deadline) throw new Error(`servers not all UP: ${JSON.stringify(states)}`);
    await sleep(25);
    states = await haproxy.serverStates("creatio");
  }
}

interface Traffic {
  /** Node that answered each successful request, with the time the request was sent and answered. */
  readonly served: { sent: number; t: number; node: string }[];
  readonly failures: string[];
  stop(): Promise<void>;
}

/** GETs /echo back to back until stopped, over `agent` (keep-alive) or a fresh connection each (`false`). */
function traffic(port: number, agent: http.Agent | false): Traffic {
  const served: { sent: number; t: number; node: string }[] = [];
  const failures: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const sent = performance.now();
      try {
        const r = await request({ port, path: "/echo", agent });
        if (r.status === 200) served.push({ sent, t: performance.now(), node: (JSON.parse(r.body) as Echo).node });
        else failures.push(`HTTP ${r.status}: ${r.body.slice(0, 200)}`);
      } catch (err) {
        failures.push(String(err));
      }
    }
  })();
  return {
    served,
    failures,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

test("a killed node leaves rotation without a failed request, and comes back when it restarts", async () => {
  // GIVEN three nodes, checks every 400 ms (fastinter 400 ms), fall 3, rise 2
  const hc = { ...FAST_CHECKS, fall: 3 };
  const t = checkTimings(hc);
  const nodes = [await standIn("n1"), await standIn("n2"), await standIn("n3")];
  const { haproxy, httpPort } = await balancer({
    servers: nodes.map((n) => ({ name: n.name, port: n.port })),
    healthCheck: hc,
  });
  await allUp(haproxy, 5000);
  // AND four clients sending GETs back to back, two over keep-alive connections and two over fresh ones, so
  // that requests are in flight on n2 when it dies
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  teardown.defer(() => agent.destroy());
  const loads = [traffic(httpPort, agent), traffic(httpPort, agent), traffic(httpPort, false), traffic(httpPort, false)];
  teardown.defer(() => Promise.all(loads.map((l) => l.stop())));
  await sleep(300);

  // WHEN n2 is SIGKILLed
  const killedAt = performance.now();
  nodes[1].signal("SIGKILL");

  // THEN it is DOWN within inter + (fall−1) × fastinter (+ margin)
  const downMs = await haproxy.waitForState("creatio", "n2", "DOWN", 3 * t.killedDownMs, killedAt);
  measured.push(`killed node DOWN after ${downMs.toFixed(0)} ms (bound ${t.killedDownMs} + ${MARGIN_MS} ms)`);
  expect(downMs).toBeLessThanOrEqual(t.killedDownMs + MARGIN_MS);
  await sleep(300);

  // WHEN a node starts again on the same port
  const restarted = await standIn("n2", nodes[1].port);
  const backAt = performance.now();
  // THEN it is UP within downinter + (rise−1) × fastinter (+ margin)
  const upMs = await haproxy.waitForState("creatio", "n2", "UP", 3 * t.upMs, backAt);
  measured.push(`restarted node UP after ${upMs.toFixed(0)} ms (bound ${t.upMs} + ${MARGIN_MS} ms)`);
  expect(upMs).toBeLessThanOrEqual(t.upMs + MARGIN_MS);
  // AND it gets requests again
  const upAt = performance.now();
  await sleep(500);
  await Promise.all(loads.map((l) => l.stop()));
  expect(restarted.pid).not.toBe(nodes[1].pid);
  const after = loads.flatMap((l) => l.served).filter((s) => s.t > upAt);
  expect(after.filter((s) => s.node === "n2").length).toBeGreaterThan(0);

  // AND not one request failed throughout: a refused connect is retried on another node (retry-on conn-failure,
  // redispatch), a request the dying node had taken is replayed because it is a GET (empty-response)
  const all = loads.flatMap((l) => l.served);
  measured.push(`requests during kill/restart: ${all.length} OK, ${loads.flatMap((l) => l.failures).length} failed`);
  expect(loads.flatMap((l) => l.failures)).toEqual([]);
  expect(all.length).toBeGreaterThan(50);
  // the others served every request sent while n2 was out (one sent just before the kill may be answered by n2
  // after it: sent time, not answer time)
  expect(new Set(all.filter((s) => s.sent > killedAt && s.sent < backAt).map((s) => s.node))).toEqual(new Set(["n1", "n3"]));
});

test("a frozen node (accepts TCP, never answers) is marked DOWN by the check timeout", async () => {
  // GIVEN two nodes, checks every 400 ms, timeout check 500 ms, fall 2
  const hc = FAST_CHECKS;
  const t = checkTimings(hc);
  const nodes = [await standIn("n1"), await standIn("n2")];
  const { haproxy, httpPort } = await balancer({ servers: nodes.map((n) => ({ name: n.name, port: n.port })), healthCheck: hc });
  await allUp(haproxy, 5000);

  // WHEN n2 is SIGSTOPped: the kernel still completes TCP handshakes from its backlog, nothing answers
  const frozenAt = performance.now();
  nodes[1].signal("SIGSTOP");

  // THEN it is DOWN within inter + fall × timeout check + (fall−1) × fastinter (+ margin): each failing check
  // waits the full check timeout (reference §5)
  const downMs = await haproxy.waitForState("creatio", "n2", "DOWN", 3 * t.frozenDownMs, frozenAt);
  measured.push(`frozen node DOWN after ${downMs.toFixed(0)} ms (bound ${t.frozenDownMs} + ${MARGIN_MS} ms)`);
  expect(downMs).toBeLessThanOrEqual(t.frozenDownMs + MARGIN_MS);
  // AND no earlier than one check timeout: it was the timeout that failed the checks, not a refused connection
  expect(downMs).toBeGreaterThanOrEqual(hc.timeoutMs);

  // AND requests now go to n1 only
  for (let i = 0; i < 10; i++) {
    const r = await request({ port: httpPort, path: "/echo" });
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as Echo).node).toBe("n1");
  }
});

test("a frozen node's in-flight requests are ended soon after it is marked DOWN, not at timeout server", async () => {
  // GIVEN two nodes, a long timeout server (30 s), checks every 400 ms with timeout check 500 ms, fall 2
  const hc = FAST_CHECKS;
  const t = checkTimings(hc);
  const nodes = [await standIn("n1"), await standIn("n2")];
  const { haproxy, httpPort } = await balancer({
    servers: nodes.map((n) => ({ name: n.name, port: n.port })),
    healthCheck: hc,
    timeouts: { serverMs: 30_000 },
  });
  await allUp(haproxy, 5000);
  // WHEN n2 freezes and then six GETs are sent, so that about half of them sit on n2
  const frozenAt = performance.now();
  nodes[1].signal("SIGSTOP");
  teardown.defer(() => nodes[1].signal("SIGCONT"));
  const settled = await Promise.all(
    Array.from({ length: 6 }, async () => {
      const r = await request({ port: httpPort, path: "/echo", timeoutMs: 20_000 }).then(
        (reply) => `HTTP ${reply.status}`,
        (err: Error) => err.message,
      );
      return { outcome: r, ms: performance.now() - frozenAt };
    }),
  );
  // THEN every one of them is answered within the time it takes to mark n2 DOWN, plus the release grace (timeout
  // connect + 500 ms) and one poll of the Lua task (100 ms), plus margin; not after 30 s
  const bound = t.frozenDownMs + RELEASE_GRACE_MS + 100;
  const last = Math.max(...settled.map((s) => s.ms));
  measured.push(`frozen node's requests: last one settled ${last.toFixed(0)} ms after the freeze (bound ${bound} + ${MARGIN_MS} ms): ${settled.map((s) => s.outcome).join(", ")}`);
  expect(last).toBeLessThanOrEqual(bound + MARGIN_MS);
  // AND they were GETs, so each was replayed on n1 once n2 dropped it: no client saw an error
  expect(settled.map((s) => s.outcome)).toEqual(Array(6).fill("HTTP 200"));
  expect((await haproxy.serverStates("creatio")).n2.state).toBe("DOWN");
});

test("a POST whose client gave up while it waited in HAProxy never reaches the node", async () => {
  // GIVEN one node that takes 2 requests at a time (requestsPerNode)
  const node = await standIn("n1");
  const { haproxy, httpPort } = await balancer({
    servers: [{ name: "n1", port: node.port }],
    limits: { requestsPerNode: 2 },
    timeouts: { serverMs: 30_000 },
  });
  await allUp(haproxy, 5000);
  // WHEN the node freezes with two patient POSTs on it (their clients wait 10 s)
  node.signal("SIGSTOP");
  teardown.defer(() => node.signal("SIGCONT"));
  const post = (path: string, timeoutMs: number) =>
    request({ port: httpPort, path, method: "POST", body: "order=1", timeoutMs }).then(
      (r) => `HTTP ${r.status}`,
      () => "gave up",
    );
  const patient = [post("/echo?client=patient", 10_000), post("/echo?client=patient", 10_000)];
  await sleep(100);
  // AND four more POSTs wait behind them in HAProxy, their clients giving up after 300 ms
  const impatient = await Promise.all(Array.from({ length: 4 }, () => post("/echo?client=impatient", 300)));
  expect(impatient).toEqual(Array(4).fill("gave up"));
  // AND then the node wakes up (before it is marked DOWN) and answers the two it holds
  await sleep(100);
  node.signal("SIGCONT");
  expect(await Promise.all(patient)).toEqual(["HTTP 200", "HTTP 200"]);
  await sleep(300);
  // THEN the node ran the two patient POSTs only: the four whose clients left while they waited in HAProxy were
  // dropped there (abortonclose), never handed to the node
  const counts = JSON.parse((await request({ port: node.port, path: "/__counts" })).body) as Record<string, number>;
  measured.push(`POSTs whose clients gave up while queued: ${(counts["POST /echo"] ?? 0) - 2} of 4 reached the node (requestsPerNode 2)`);
  expect(counts["POST /echo"]).toBe(2);
});

test("only the long Creatio operations may take longer than timeout server", async () => {
  // GIVEN timeout server 1 s, and 5 s for the configuration build service
  const node = await standIn("n1");
  const { httpPort } = await balancer({
    servers: [{ name: "n1", port: node.port }],
    timeouts: { serverMs: 1000 },
    longOperations: { paths: ["/ServiceModel/WorkspaceExplorerService.svc/"], serverMs: 5000 },
  });
  // WHEN an ordinary request and a build each take 2 s on the node
  const [ordinary, build] = await Promise.all([
    request({ port: httpPort, path: "/echo?delay=2000" }),
    request({ port: httpPort, path: "/servicemodel/workspaceexplorerservice.svc/Build?delay=2000", method: "POST" }),
  ]);
  // THEN the ordinary one is cut at 1 s (504), the build (any case) completes
  expect(ordinary.status).toBe(504);
  expect(build.status).toBe(200);
});

test("haproxy starts while no node listens yet, and serves once a node starts", async () => {
  // GIVEN two server ports with nothing listening on them
  const ports = [await freePort(), await freePort()];
  const hc = FAST_CHECKS;
  const t = checkTimings(hc);

  // WHEN haproxy starts (servers are addressed by IP: no DNS, nothing to resolve at start)
  const startedAt = performance.now();
  const { haproxy, httpPort } = await balancer({
    servers: [
      { name: "n1", port: ports[0] },
      { name: "n2", port: ports[1] },
    ],
    healthCheck: hc,
  });

  // THEN it runs, and both servers go DOWN (the first checks start within inter of the start)
  const downMs = Math.max(
    await haproxy.waitForState("creatio", "n1", "DOWN", 3 * t.killedDownMs, startedAt),
    await haproxy.waitForState("creatio", "n2", "DOWN", 3 * t.killedDownMs, startedAt),
  );
  measured.push(`nodes never started: DOWN ${downMs.toFixed(0)} ms after haproxy's start (bound ${t.killedDownMs} + ${MARGIN_MS} ms)`);
  expect(downMs).toBeLessThanOrEqual(t.killedDownMs + MARGIN_MS);
  // AND a request is answered by HAProxy itself with 503
  expect((await request({ port: httpPort, path: "/echo" })).status).toBe(503);

  // WHEN a node starts on n1's port
  await standIn("n1", ports[0]);
  const nodeAt = performance.now();
  // THEN n1 is UP within downinter + (rise−1) × fastinter (+ margin), n2 stays DOWN
  const upMs = await haproxy.waitForState("creatio", "n1", "UP", 3 * t.upMs, nodeAt);
  measured.push(`late node UP after ${upMs.toFixed(0)} ms (bound ${t.upMs} + ${MARGIN_MS} ms)`);
  expect(upMs).toBeLessThanOrEqual(t.upMs + MARGIN_MS);
  expect((await haproxy.serverStates("creatio")).n2.state).toBe("DOWN");
  // AND it serves every request
  for (let i = 0; i < 10; i++) {
    const r = await request({ port: httpPort, path: "/echo" });
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as Echo).node).toBe("n1");
  }
});

describe("teardown", () => {
  test("no process is left behind", async () => {
    await teardown.run();
    expect(strayPids()).toEqual([]);
  });
});
