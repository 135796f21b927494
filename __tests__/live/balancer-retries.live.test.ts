/**
 * Which requests HAProxy replays on another node, with the rendered haproxy.cfg and the REAL haproxy: a node that
 * takes a request and dies before answering (its connection closes, no response) must cost a GET nothing, while a
 * POST, which may already have changed data, must never be sent to a second node.
 */
import { request } from "./support/http-client";
import { startLoopbackBalancer } from "./support/loopback";
import { freePort } from "./support/processes";
import { startStandIn, strayPids, Teardown } from "./support/stand-ins";

const teardown = new Teardown();
afterAll(() => teardown.run());

const PATH = "/0/DataService/Save";

/** What a node received, asked directly (not through HAProxy). */
async function counts(port: number): Promise<Record<string, number>> {
  return JSON.parse((await request({ port, path: "/__counts" })).body) as Record<string, number>;
}

test("a GET whose node died mid-request is replayed on another node; a POST is not", async () => {
  // GIVEN two equal nodes, n1 closing every request for PATH without an answer (its health path still answers)
  const n1 = teardown.add(await startStandIn({ name: "n1", port: await freePort(), dropPath: PATH }));
  const n2 = teardown.add(await startStandIn({ name: "n2", port: await freePort() }));
  const { httpPort } = await startLoopbackBalancer(teardown, { servers: [{ name: "n1", port: n1.port }, { name: "n2", port: n2.port }] });

  // WHEN 10 GETs are sent one after the other
  const gets = [];
  for (let i = 0; i < 10; i++) gets.push(await request({ port: httpPort, path: PATH }));
  // THEN every one is answered, by n2, although n1 took its share of them first
  expect(gets.map((r) => `${r.status} ${r.body}`)).toEqual(Array(10).fill("200 node n2\n"));
  expect((await counts(n1.port))[`GET ${PATH}`]).toBeGreaterThanOrEqual(1);

  // WHEN 10 POSTs are sent the same way
  const posts = [];
  for (let i = 0; i < 10; i++) posts.push(await request({ port: httpPort, path: PATH, method: "POST" }));
  // THEN each POST reached exactly one node: n1's are lost (HAProxy answers 502), none was sent again to n2
  const dropped = (await counts(n1.port))[`POST ${PATH}`] ?? 0;
  const served = (await counts(n2.port))[`POST ${PATH}`] ?? 0;
  expect(dropped).toBeGreaterThanOrEqual(1);
  expect(dropped + served).toBe(10);
  expect(posts.filter((r) => r.status === 502)).toHaveLength(dropped);
  expect(posts.filter((r) => r.status === 200)).toHaveLength(served);
});

describe("teardown", () => {
  test("no process is left behind", async () => {
    await teardown.run();
    expect(strayPids()).toEqual([]);
  });
});
