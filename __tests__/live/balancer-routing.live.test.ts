/**
 * The rendered haproxy.cfg run by the REAL haproxy in front of stand-in Creatio nodes on 127.0.0.1: how requests
 * are spread over the nodes, what the nodes learn about the client, the portal's own listener, and the stats
 * listener's access rules.
 */
import * as http from "http";
import { STATS_TEST_PASSWORD } from "../support/hashes";
import { basicAuth, Echo, request } from "./support/http-client";
import { METRICS_PATH, startLoopbackBalancer, STATS_URI, STATS_USER } from "./support/loopback";
import { freePort } from "./support/processes";
import { startStandIn, strayPids, Teardown } from "./support/stand-ins";

const teardown = new Teardown();
afterEach(() => teardown.run());
afterAll(() => teardown.run());

/** Starts one stand-in per name on free ports; returns name → port. */
async function nodes(...names: string[]): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  for (const name of names) {
    ports[name] = (await teardown.add(await startStandIn({ name, port: await freePort() }))).port;
  }
  return ports;
}

const balancer = (opts: Parameters<typeof startLoopbackBalancer>[1]) => startLoopbackBalancer(teardown, opts);

async function echo(port: number, headers: http.OutgoingHttpHeaders = {}, extra: { agent?: http.Agent; localAddress?: string } = {}): Promise<Echo> {
  const r = await request({ port, path: "/echo", headers, ...extra });
  expect(r.status).toBe(200);
  return JSON.parse(r.body) as Echo;
}

describe("weighted roundrobin", () => {
  test.each([
    ["one keep-alive connection", true],
    ["a fresh connection per request", false],
  ])("weights 2 and 1 split %s's requests 2:1", async (_label, keepAlive) => {
    // GIVEN two nodes with weights 2 and 1
    const ports = await nodes("heavy", "light");
    const { httpPort } = await balancer({
      servers: [
        { name: "node-heavy", port: ports.heavy, weight: 2 },
        { name: "node-light", port: ports.light, weight: 1 },
      ],
    });
    const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : undefined;
    teardown.defer(() => agent?.destroy());

    // WHEN 300 GETs are sent one after the other
    const count: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const node = (await echo(httpPort, {}, { agent })).node;
      count[node] = (count[node] ?? 0) + 1;
    }

    // THEN the heavy node got two thirds: roundrobin is deterministic, so it is exact unless a server changed
    // state; the ±5 points only absorb that (a check can not fail here, both nodes stay up)
    console.log(`weight 2:1 over ${keepAlive ? "one keep-alive connection" : "fresh connections"}: ${JSON.stringify(count)}`);
    const heavyShare = (100 * (count.heavy ?? 0)) / 300;
    expect(heavyShare).toBeGreaterThanOrEqual(200 / 3 - 5);
    expect(heavyShare).toBeLessThanOrEqual(200 / 3 + 5);
    expect((count.heavy ?? 0) + (count.light ?? 0)).toBe(300);
  });
});

describe("what the node learns about the client", () => {
  test("X-Forwarded-For is exactly the real client address; spoofed forwarding headers are dropped", async () => {
    // GIVEN a balancer with one node
    const ports = await nodes("n1");
    const { httpPort } = await balancer({ servers: [{ name: "node1", port: ports.n1 }] });

    // WHEN a client on 127.0.0.1 claims to be someone else, in every header it can
    const seen = await echo(httpPort, {
      "X-Forwarded-For": ["6.6.6.6", "7.7.7.7"],
      "X-Forwarded-Proto": "https",
      Forwarded: "for=6.6.6.6;proto=https",
      "X-Forwarded-Host": "evil.example",
    });

    // THEN the node sees only the address HAProxy took the connection from, and the scheme it really used
    expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen.headers["x-forwarded-proto"]).toBe("http");
    expect(seen.headers).not.toHaveProperty("forwarded");
    expect(seen.headers).not.toHaveProperty("x-forwarded-host");
  });

  test("the portal's listener serves only the portal nodes and trusts the forwarding headers of its proxy only", async () => {
    // GIVEN creatio nodes c1, c2 behind the public listener and a portal node behind its own listener, whose
    // trusted reverse proxy is 127.0.0.2 (Linux routes all of 127/8 to lo)
    const ports = await nodes("c1", "c2", "p1");
    const portalPort = await freePort();
    const { httpPort } = await balancer({
      servers: [
        { name: "c1", port: ports.c1 },
        { name: "c2", port: ports.c2 },
      ],
      portal: { port: portalPort, servers: [{ name: "p1", port: ports.p1 }], trustForwardedFrom: ["127.0.0.2"] },
    });

    // WHEN requests go to each listener
    const publicNodes = new Set<string>();
    const portalNodes = new Set<string>();
    for (let i = 0; i < 10; i++) {
      publicNodes.add((await echo(httpPort)).node);
      portalNodes.add((await echo(portalPort)).node);
    }
    // THEN each listener reaches its own nodes only
    expect([...publicNodes].sort()).toEqual(["c1", "c2"]);
    expect([...portalNodes]).toEqual(["p1"]);

    const claim = { "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https" };
    // WHEN the trusted proxy forwards a client's address and scheme, THEN they are kept
    const viaProxy = await echo(portalPort, claim, { localAddress: "127.0.0.2" });
    expect(viaProxy.remoteAddress).toBe("127.0.0.1"); // the node's peer is HAProxy
    expect(viaProxy.headers["x-forwarded-for"]).toBe("203.0.113.7");
    expect(viaProxy.headers["x-forwarded-proto"]).toBe("https");
    // WHEN the trusted proxy sends none, THEN HAProxy writes its address and the listener's scheme
    const proxyItself = await echo(portalPort, {}, { localAddress: "127.0.0.2" });
    expect(proxyItself.headers["x-forwarded-for"]).toBe("127.0.0.2");
    expect(proxyItself.headers["x-forwarded-proto"]).toBe("http");
    // WHEN anyone else sends the same claim, THEN it is overwritten with the real source
    const direct = await echo(portalPort, claim, { localAddress: "127.0.0.1" });
    expect(direct.headers["x-forwarded-for"]).toBe("127.0.0.1");
    expect(direct.headers["x-forwarded-proto"]).toBe("http");
    // WHEN the trusted address talks to the PUBLIC listener, THEN the trust does not carry over
    const proxyOnPublic = await echo(httpPort, claim, { localAddress: "127.0.0.2" });
    expect(proxyOnPublic.headers["x-forwarded-for"]).toBe("127.0.0.2");
    expect(proxyOnPublic.headers["x-forwarded-proto"]).toBe("http");
  });
});

describe("stats listener", () => {
  test("the stats page needs the password; the metrics path does not", async () => {
    // GIVEN a balancer with two nodes
    const ports = await nodes("n1", "n2");
    const { statsPort } = await balancer({
      servers: [
        { name: "node1", port: ports.n1 },
        { name: "node2", port: ports.n2 },
      ],
    });
    const stats = (authorization?: string) =>
      request({ port: statsPort, path: STATS_URI, headers: authorization ? { Authorization: authorization } : {} });

    // WHEN the stats page is asked for without, with wrong and with the right credentials
    const none = await stats();
    const wrong = await stats(basicAuth(STATS_USER, `${STATS_TEST_PASSWORD}-wrong`));
    const right = await stats(basicAuth(STATS_USER, STATS_TEST_PASSWORD));

    // THEN only the bcrypt-checked password opens it
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toContain('realm="haproxy-stats"');
    expect(wrong.status).toBe(401);
    expect(right.status).toBe(200);
    expect(right.body).toContain("be_creatio");

    // WHEN Prometheus scrapes the metrics path without credentials, THEN it gets every server's state
    const metrics = await request({ port: statsPort, path: METRICS_PATH });
    expect(metrics.status).toBe(200);
    for (const server of ["node1", "node2"]) {
      expect(metrics.body).toContain(`haproxy_server_status{proxy="be_creatio",server="${server}",state="UP"} 1`);
    }
  });
});

describe("teardown", () => {
  test("no process is left behind", async () => {
    await teardown.run();
    expect(strayPids()).toEqual([]);
  });
});
