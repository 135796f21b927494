/**
 * A balancer configuration change, applied the way `terraform apply` applies it: the new cdk.tf.json replaces the
 * config job only, which installs haproxy.cfg into the balancer's volume and reloads the running HAProxy. The
 * balancer container stays; an open WebSocket, the requests sent meanwhile and each server's state survive.
 */
import * as fs from "fs";
import * as path from "path";
import WebSocket from "ws";
import { engine, exec } from "./support/engine";
import { applierFor, ENV, loadDeployment, waitUntilServing } from "./support/farm";
import { applyStack as applyTo, synthesizeWith as synthesize } from "./support/resynth";
import { serverStates } from "./support/haproxy-stats";
import { get, login, request } from "./support/http";
import { waitFor } from "./support/wait";

const docker = engine();
const d = loadDeployment();
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const synthesizeWith = (edit: (config: Record<string, any>) => void, name: string) => synthesize(d, edit, name);
const applyStack = (stackDir: string) => applyTo(docker, d, stackDir);

/** One command on HAProxy's runtime API, from inside the balancer (perl-base: the image has no socat). */
async function runtime(command: string): Promise<string> {
  const script = `my $s = IO::Socket::UNIX->new(Peer => "/var/lib/haproxy/admin.sock") or die "$!\\n"; print $s "${command}\\n"; print while <$s>;`;
  const r = await exec(docker, d.containers.balancer, ["perl", "-MIO::Socket::UNIX", "-e", script]);
  if (r.code !== 0) throw new Error(`runtime API: ${r.stderr}`);
  return r.stdout;
}

/** Each server's current weight in be_creatio, from the Prometheus endpoint. */
async function weights(): Promise<Record<string, number>> {
  const body = (await get(d.statsPort, "/metrics?scope=server")).body;
  return Object.fromEntries([...body.matchAll(/^haproxy_server_weight\{proxy="be_creatio",server="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

/** A SignalR WebSocket through the balancer, kept open. */
async function openSocket(): Promise<WebSocket> {
  const jar = await login(d.httpPort);
  const negotiate = await request(d.httpPort, "POST", "/msg/negotiate?negotiateVersion=1", jar.header());
  jar.store(negotiate);
  const { connectionToken } = JSON.parse(negotiate.body) as { connectionToken: string };
  const ws = new WebSocket(`ws://127.0.0.1:${d.httpPort}/msg?id=${encodeURIComponent(connectionToken)}`, { headers: jar.header() });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  ws.send(`${JSON.stringify({ protocol: "json", version: 1 })}\u001e`);
  await new Promise((resolve) => ws.once("message", resolve));
  return ws;
}

const pong = (ws: WebSocket) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 3000);
    ws.once("pong", () => {
      clearTimeout(timer);
      resolve(true);
    });
    ws.ping();
  });

test("a weight change reloads HAProxy in place: the balancer is not replaced, a WebSocket and every request survive, a node in maintenance stays there", async () => {
  const balancerId = (await docker.getContainer(d.containers.balancer).inspect()).Id;
  const masterStarted = (await docker.getContainer(d.containers.balancer).inspect()).State.StartedAt;
  expect(await weights()).toEqual({ "node-1": 1, "node-2": 1, "node-3": 1 });
  // GIVEN node-3 put into maintenance by an operator, an open WebSocket, and a client sending GETs without pause
  await runtime("set server be_creatio/node-3 state maint");
  await waitFor(async () => (await serverStates(d))["be_creatio/node-3"] === "MAINT", 5000, "node-3 in maintenance");
  const ws = await openSocket();
  let closed = false;
  ws.on("close", () => (closed = true));
  let running = true;
  const statuses: (number | string)[] = [];
  const loop = (async () => {
    while (running) statuses.push(await get(d.httpPort, "/api/StandIn/Node").then((r) => r.status, (e: Error) => e.message));
  })();

  try {
    // WHEN node-1's weight becomes 3 and the new stack is applied
    const changed = await applyStack(synthesizeWith((c) => (c.creatio.nodes[0].weight = 3), "reload-weight-3"));
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await loop;

    // THEN only the config job was replaced (it ran, and reloaded HAProxy)
    expect(changed).toEqual([expect.stringMatching(/^create docker_container\.balancer_config-job_\w+$/)]);
    const job = await docker.getContainer(`${ENV}-haproxy-config`).inspect();
    expect([job.State.Status, job.State.ExitCode]).toEqual(["exited", 0]);
    expect((await docker.getContainer(`${ENV}-haproxy-config`).logs({ stdout: true, stderr: true })).toString()).toMatch(/reloaded \(new worker \d+\)/);
    // AND the balancer is the same container, never restarted
    const after = await docker.getContainer(d.containers.balancer).inspect();
    expect([after.Id, after.State.StartedAt]).toEqual([balancerId, masterStarted]);
    // AND the new weight is in force, and node-3 is still in maintenance (its state went over to the new worker)
    expect(await weights()).toEqual({ "node-1": 3, "node-2": 1, "node-3": 1 });
    expect((await serverStates(d))["be_creatio/node-3"]).toBe("MAINT");
    // AND none of the GETs sent around the reload failed, and the WebSocket opened before it is still open
    expect(statuses.length).toBeGreaterThan(20);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(closed).toBe(false);
    expect(await pong(ws)).toBe(true);
    console.log(`reload: ${statuses.length} GETs around it, 0 failed; the WebSocket kept; balancer ${balancerId.slice(0, 12)} not replaced`);
  } finally {
    running = false;
    await loop;
    ws.terminate();
    // the deployment as the other tests know it: the original weights, node-3 ready
    await applyStack(synthesizeWith(() => {}, "reload-back"));
    await runtime("set server be_creatio/node-3 state ready");
    await waitUntilServing(docker, d);
  }
});

test("a change that recreates the balancer starts the new container on its own configuration, never on the old one", async () => {
  // GIVEN the running balancer, whose haproxy.cfg needs file descriptors for 1,024 connections per listener
  const before = (await docker.getContainer(d.containers.balancer).inspect()).Id;
  try {
    // WHEN maxConnections drops to 256: a new container with a nofile limit the old file would exceed (HAProxy
    // refuses to start then), and a new haproxy.cfg
    const changed = await applyStack(synthesizeWith((c) => (c.balancer.maxConnections = 256), "reload-maxconn-256"));
    // THEN the balancer and its config job were replaced, and the new balancer serves with the new file
    expect(changed).toEqual([
      expect.stringMatching(/^create docker_container\.balancer_container_\w+$/),
      expect.stringMatching(/^create docker_container\.balancer_config-job_\w+$/),
    ]);
    const after = await docker.getContainer(d.containers.balancer).inspect();
    expect(after.Id).not.toBe(before);
    expect(after.RestartCount).toBe(0);
    await waitUntilServing(docker, d);
    expect((await get(d.httpPort, "/api/StandIn/Node")).status).toBe(200);
    const maxconn = await runtime("show info");
    // three listeners (HTTP, the portal's and the integration endpoints') × 256 + 32 kept for the stats listener
    expect(maxconn).toMatch(/^Maxconn: 800$/m);
  } finally {
    await applyStack(synthesizeWith(() => {}, "reload-maxconn-back"));
    await waitUntilServing(docker, d);
  }
});

test("an invalid configuration fails the apply with HAProxy's message, and the balancer keeps serving the old one", async () => {
  const applier = applierFor(docker, d);
  const job = applier.addresses("docker_container").find((a) => a.includes("config-job"))!;
  // GIVEN the staged file broken in the job's next run (as a bad hand edit of the rendered file would be)
  const stackDir = synthesizeWith(() => {}, "reload-invalid");
  const tfPath = path.join(stackDir, "cdk.tf.json");
  const tf = JSON.parse(fs.readFileSync(tfPath, "utf8"));
  const [, name] = job.split(".");
  const upload = tf.resource.docker_container[name].upload.find((u: { file: string }) => u.file.endsWith("/haproxy.cfg"));
  upload.content = upload.content.replace("balance roundrobin", "balance no-such-algorithm");
  fs.writeFileSync(tfPath, JSON.stringify(tf));
  // WHEN it is applied THEN the apply fails on the job, naming it
  await expect(applyStack(stackDir)).rejects.toThrow(/Resource postcondition failed for docker_container\.balancer_config-job_\w+/);
  const logs = (await docker.getContainer(`${ENV}-haproxy-config`).logs({ stdout: true, stderr: true })).toString();
  expect(logs).toMatch(/the new haproxy\.cfg is invalid; the balancer keeps its current configuration/);
  // AND the balancer still serves with its configuration
  expect((await get(d.httpPort, "/api/StandIn/Node")).status).toBe(200);
  // AND the next good apply recovers
  await applyStack(synthesizeWith(() => {}, "reload-back-2"));
  expect((await get(d.httpPort, "/api/StandIn/Node")).status).toBe(200);
});
