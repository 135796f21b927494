/**
 * SignalR affinity and the stats listener's source rule, with the REAL haproxy on the rendered haproxy.cfg in front
 * of stand-in nodes on 127.0.0.1. The Docker tier shows the end result with a SignalR-like node; these tests pin
 * down how HAProxy gets there.
 */
import * as http from "http";
import WebSocket from "ws";
import { AFFINITY_COOKIE } from "../../constructs/balancer/render-haproxy-cfg";
import { Echo, request } from "./support/http-client";
import { startLoopbackBalancer, STATS_URI } from "./support/loopback";
import { freePort } from "./support/processes";
import { startStandIn, strayPids, Teardown } from "./support/stand-ins";

const teardown = new Teardown();
afterEach(() => teardown.run());
afterAll(() => teardown.run());

async function farm(names: string[]) {
  const standIns = Object.fromEntries(await Promise.all(names.map(async (n) => [n, teardown.add(await startStandIn({ name: n, port: await freePort() }))] as const)));
  const { haproxy, httpPort, statsPort } = await startLoopbackBalancer(teardown, {
    servers: names.map((n) => ({ name: n, port: standIns[n].port })),
  });
  return { haproxy, httpPort, statsPort, standIns };
}

/** One request; returns the node's echo and the affinity cookie HAProxy set, if any. */
async function call(port: number, method: string, path: string, headers: http.OutgoingHttpHeaders = {}) {
  const r = await request({ port, method, path, headers });
  expect(r.status).toBe(200);
  const set = (r.headers["set-cookie"] ?? []).find((c) => c.startsWith(`${AFFINITY_COOKIE}=`));
  return { echo: JSON.parse(r.body) as Echo, cookie: set?.split(";")[0] };
}

test("negotiate sets the affinity cookie; every later /msg request with it reaches the same node, which never sees it", async () => {
  const { httpPort } = await farm(["a", "b", "c"]);
  const first = await call(httpPort, "POST", "/msg/negotiate?negotiateVersion=1");
  expect(first.cookie).toBe(`${AFFINITY_COOKIE}=${first.echo.node}`);
  for (let i = 0; i < 30; i++) {
    const next = await call(httpPort, "GET", `/msg?id=${i}`, { cookie: `${first.cookie}; BPMSESSIONID=s` });
    expect(next.echo.node).toBe(first.echo.node);
    // indirect: HAProxy removes its cookie before the node, keeps the application's own
    expect(next.echo.headers.cookie).toBe("BPMSESSIONID=s");
    expect(next.cookie).toBeUndefined();
  }
});

test.each([
  ["/MSG/negotiate", "the path in another case"],
  ["/Msg", "the bare path"],
])("%s (%s) is sticky too", async (path) => {
  const { httpPort } = await farm(["a", "b", "c"]);
  const first = await call(httpPort, "POST", path);
  expect(first.cookie).toBeDefined();
  for (let i = 0; i < 10; i++) expect((await call(httpPort, "GET", path, { cookie: first.cookie })).echo.node).toBe(first.echo.node);
});

test("a WebSocket upgrade on any path goes to the sticky backend; other requests ignore the cookie and are spread", async () => {
  const { httpPort } = await farm(["a", "b", "c"]);
  const first = await call(httpPort, "POST", "/msg/negotiate");
  for (let i = 0; i < 10; i++) expect(await websocketNode(httpPort, "/ws", first.cookie!)).toBe(first.echo.node);
  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) seen.add((await call(httpPort, "GET", "/echo", { cookie: first.cookie })).echo.node);
  expect([...seen].sort()).toEqual(["a", "b", "c"]);
});

test("when the cookie's node is DOWN, the client is balanced to a live node and gets a new cookie", async () => {
  const { haproxy, httpPort, standIns } = await farm(["a", "b"]);
  const first = await call(httpPort, "POST", "/msg/negotiate");
  const gone = first.echo.node;
  standIns[gone].signal("SIGKILL");
  await haproxy.waitForState("creatio", gone, "DOWN", 5000);
  const moved = await call(httpPort, "GET", "/msg?id=1", { cookie: first.cookie });
  expect(moved.echo.node).not.toBe(gone);
  expect(moved.cookie).toBe(`${AFFINITY_COOKIE}=${moved.echo.node}`);
  // the sticky backend follows the checked one: no second health check per node
  expect((await haproxy.serverStates("creatio_msg"))[gone].state).toBe("DOWN");
});

test("the stats listener closes connections from a refused network before any HTTP, and serves the excepted address", async () => {
  // GIVEN the loopback network stands for the farm's: 127.0.0.0/8 refused, except 127.0.0.2 (the "gateway")
  const standIn = teardown.add(await startStandIn({ name: "a", port: await freePort() }));
  const { statsPort } = await startLoopbackBalancer(teardown, {
    servers: [{ name: "a", port: standIn.port }],
    statsRejectFrom: [{ subnet: "127.0.0.0/8", except: "127.0.0.2" }],
  });
  // THEN from 127.0.0.1 nothing answers, not even the unauthenticated metrics; from 127.0.0.2 the page asks for a password
  await expect(request({ port: statsPort, path: STATS_URI, localAddress: "127.0.0.1" })).rejects.toThrow(/socket hang up|ECONNRESET/);
  await expect(request({ port: statsPort, path: "/metrics", localAddress: "127.0.0.1" })).rejects.toThrow(/socket hang up|ECONNRESET/);
  expect((await request({ port: statsPort, path: STATS_URI, localAddress: "127.0.0.2" })).status).toBe(401);
  expect((await request({ port: statsPort, path: "/metrics", localAddress: "127.0.0.2" })).status).toBe(200);
});

/** Opens a WebSocket with the cookie, sends one message and returns the node that echoed it. */
function websocketNode(port: number, path: string, cookie: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers: { cookie }, handshakeTimeout: 5000 });
    ws.on("open", () => ws.send("hello"));
    ws.on("message", (data) => {
      ws.close();
      resolve(data.toString().split(":")[0]);
    });
    ws.on("error", reject);
  });
}

test("no process is left behind", async () => {
  await teardown.run();
  expect(strayPids()).toEqual([]);
});
