/**
 * Sessions on the farm: one DataProtection key ring shared by every node (configureWebFarmMode at image build, a
 * shared volume at run time) and sessions in Redis.
 *
 * GIVEN a user logged in through the balancer
 * WHEN 100 consecutive requests are spread over all nodes, and again after a node container is replaced
 * THEN every one is served as that user; and the session cookie opens only with the farm's key ring.
 */
import { engine, exec } from "./support/engine";
import { applierFor, loadDeployment, waitUntilServing } from "./support/farm";
import { CookieJar, get, login } from "./support/http";

const docker = engine();
const d = loadDeployment();

/** 100 consecutive authenticated requests: how many succeeded, and which node served each. */
async function hundredRequests(jar: CookieJar) {
  const served: string[] = [];
  const failures: string[] = [];
  for (let i = 0; i < 100; i++) {
    const res = await get(d.httpPort, "/api/StandIn/WhoAmI", jar.header());
    if (res.status === 200 && JSON.parse(res.body).user === "Supervisor") served.push(JSON.parse(res.body).node);
    else failures.push(`${res.status} ${res.body}`);
  }
  return { served, failures };
}

/** The container (hostname) → container name map: the stand-in names itself by its hostname. */
async function hostnames(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of d.containers.nodes) out[(await docker.getContainer(name).inspect()).Config.Hostname] = name;
  return out;
}

test("a logged-in user stays logged in over 100 requests spread over every node", async () => {
  const jar = await login(d.httpPort);
  const { served, failures } = await hundredRequests(jar);
  expect(failures).toEqual([]);
  const byName = await hostnames();
  expect(new Set(served.map((h) => byName[h]))).toEqual(new Set(d.containers.nodes));
});

test("every node started from the key ring the image build generated, and none created a key of its own", async () => {
  const ls = async (node: string, dir: string) => (await exec(docker, node, ["sh", "-c", `ls ${dir}`])).stdout.trim().split("\n").sort();
  const seed = await ls(d.containers.nodes[0], "/opt/creatio-farm/data-protection-seed");
  expect(seed).toEqual([expect.stringMatching(/^key-[0-9a-f-]{36}\.xml$/)]);
  for (const node of d.containers.nodes) {
    expect(await ls(node, "/app/DataProtectionKeys")).toEqual(seed);
    const logs = (await docker.getContainer(node).logs({ stdout: true, stderr: true })).toString("utf8");
    expect(logs).toMatch(/key ring \/app\/DataProtectionKeys \(from appsettings\.json\), 1 key\(s\), 0 created by this node/);
  }
});

test("a key volume emptied by hand is seeded again from the image at the next start, and sessions survive it", async () => {
  const jar = await login(d.httpPort);
  const node = d.containers.nodes[0];
  const ls = async () => (await exec(docker, node, ["sh", "-c", "ls /app/DataProtectionKeys"])).stdout.trim();
  const ring = await ls();
  await exec(docker, node, ["sh", "-c", "rm /app/DataProtectionKeys/key-*.xml"]);
  expect(await ls()).toBe("");
  const since = Math.floor(Date.now() / 1000);
  await docker.getContainer(node).restart({ t: 10 });
  await waitUntilServing(docker, d);

  expect(await ls()).toBe(ring);
  const logs = (await docker.getContainer(node).logs({ stdout: true, stderr: true, since })).toString("utf8");
  expect(logs).toMatch(/creatio-farm: \/app\/DataProtectionKeys seeded with the key ring of the image/);
  expect(logs).toMatch(/1 key\(s\), 0 created by this node/);
  const { failures } = await hundredRequests(jar);
  expect(failures).toEqual([]);
});

test("the session cookie is bound to the key ring: a node with another ring rejects it", async () => {
  const jar = await login(d.httpPort);
  const cookie = jar.get(".ASPXAUTH")!;
  const node = d.containers.nodes[0];
  const open = async (keysDir: string) =>
    JSON.parse((await exec(docker, node, ["node", "/opt/stand-in/unprotect.js", keysDir, "Creatio", cookie])).stdout);
  expect(await open("/app/DataProtectionKeys")).toMatchObject({ ok: true });
  // A node with a key ring of its own (what each node had without the shared ring) cannot read the cookie.
  const other = await open(`/tmp/other-ring-${Date.now()}`);
  expect(other).toEqual({ ok: false, reason: expect.stringMatching(/^the key .* was not found in the key ring$/) });
});

test("after a node container is replaced, the same session is still served by every node, the new one included", async () => {
  const jar = await login(d.httpPort);
  const replaced = d.containers.nodes[1];
  const before = (await docker.getContainer(replaced).inspect()).Id;
  const applier = applierFor(docker, d);
  await applier.replace(d.nodeAddresses[replaced]);
  applier.save(d.stateFile);
  const after = await docker.getContainer(replaced).inspect();
  expect(after.Id).not.toBe(before);
  await waitUntilServing(docker, d);

  const { served, failures } = await hundredRequests(jar);
  expect(failures).toEqual([]);
  const byName = await hostnames();
  expect(new Set(served.map((h) => byName[h]))).toEqual(new Set(d.containers.nodes));
  // The new node read the shared ring: it created no key of its own.
  const logs = (await docker.getContainer(replaced).logs({ stdout: true, stderr: true })).toString("utf8");
  expect(logs).toMatch(/key ring \/app\/DataProtectionKeys \(from appsettings\.json\), 1 key\(s\), 0 created by this node/);
});
