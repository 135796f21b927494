/**
 * Isolation of the deployed farm: who publishes ports, which networks lead out, and who reaches the stats page.
 */
import { engine, exec } from "./support/engine";
import { loadDeployment } from "./support/farm";
import { get } from "./support/http";

const docker = engine();
const d = loadDeployment();
const all = [d.containers.balancer, d.containers.redis, d.containers.postgres, ...d.containers.nodes, d.portal.proxy, ...d.portal.nodes];
/** Debian's mirror: every container that has a route out reaches it (the image builds did). */
const OUTSIDE = "deb.debian.org";

/** Bash's /dev/tcp, inside a container: "open" or why not, within 5 s. */
async function tcpProbe(container: string, host: string, port: number): Promise<string> {
  const script = `timeout 5 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>&1 && echo open || echo closed`;
  const r = await exec(docker, container, ["bash", "-c", script]);
  return r.stdout.trim().split("\n").pop()!;
}

test("only the balancer and the portal's proxy publish host ports, each on the address the environment says", async () => {
  const published: Record<string, string[]> = {};
  for (const name of all) {
    const info = await docker.getContainer(name).inspect();
    const portBindings = (info.HostConfig.PortBindings ?? {}) as Record<string, { HostIp: string; HostPort: string }[] | null>;
    const bindings = Object.entries(portBindings).flatMap(([port, b]) => (b ?? []).map((x) => `${x.HostIp}:${x.HostPort}->${port}`));
    if (bindings.length) published[name] = bindings.sort();
  }
  expect(published).toEqual({
    [d.containers.balancer]: [`127.0.0.1:${d.httpPort}->8080/tcp`, `127.0.0.1:${d.statsPort}->9000/tcp`].sort(),
    [d.portal.proxy]: [`${d.portal.address}:${d.portal.httpPort}->8080/tcp`, `${d.portal.address}:${d.portal.httpsPort}->8443/tcp`].sort(),
  });
});

test("Redis and PostgreSQL sit on internal networks only and cannot reach outside; the balancer can (control)", async () => {
  for (const name of [d.containers.redis, d.containers.postgres]) {
    const networks = Object.keys((await docker.getContainer(name).inspect()).NetworkSettings.Networks).sort();
    expect(networks).toEqual(["dockertier-data", "dockertier-portal-data"]);
  }
  for (const n of ["dockertier-data", "dockertier-portal-data"]) expect((await docker.getNetwork(n).inspect()).Internal).toBe(true);
  expect(await tcpProbe(d.containers.redis, OUTSIDE, 80)).not.toBe("open");
  expect(await tcpProbe(d.containers.postgres, OUTSIDE, 80)).not.toBe("open");
  expect(await tcpProbe(d.containers.balancer, OUTSIDE, 80)).toBe("open");
});

test("a node cannot reach the stats page, directly or through the host; the host can, through the published port", async () => {
  const balancer = (await docker.getContainer(d.containers.balancer).inspect()).NetworkSettings.Networks["dockertier-app"].IPAddress;
  const node = d.containers.nodes[0];
  // From inside the farm: the public listener answers (control), the stats listener closes the connection.
  const fromNode = async (host: string, port: number, path: string) => {
    const js = `require("http").get({host:${JSON.stringify(host)},port:${port},path:${JSON.stringify(path)},timeout:3000},r=>{console.log(r.statusCode);r.resume()}).on("error",e=>console.log(e.code||e.message)).on("timeout",function(){console.log("timeout");this.destroy()})`;
    return (await exec(docker, node, ["node", "-e", js])).stdout.trim();
  };
  expect(await fromNode(balancer, 8080, "/api/StandIn/Node")).toBe("200");
  expect(await fromNode(balancer, 9000, "/haproxy_stats")).toMatch(/^(ECONNRESET|socket hang up)$/);
  expect(await fromNode(balancer, 9000, "/metrics")).toMatch(/^(ECONNRESET|socket hang up)$/);
  // Nor through the host: published on loopback, the stats port is not on the address the nodes reach the host by.
  const gateway = (await docker.getNetwork("dockertier-app").inspect()).IPAM!.Config![0].Gateway!;
  expect(await fromNode(gateway, d.statsPort, "/metrics")).toBe("ECONNREFUSED");
  expect((await get(d.statsPort, "/haproxy_stats")).status).toBe(401);
});

test("the admin socket is a unix socket inside the balancer (mode 600), and HAProxy listens on no other TCP port", async () => {
  const stat = await exec(docker, d.containers.balancer, ["stat", "-c", "%F %a %U", "/var/lib/haproxy/admin.sock"]);
  expect(stat.stdout.trim()).toBe("socket 600 haproxy");
  const uid = (await exec(docker, d.containers.balancer, ["id", "-u"])).stdout.trim();
  const tcp = await exec(docker, d.containers.balancer, ["cat", "/proc/net/tcp", "/proc/net/tcp6"]);
  // Listening sockets of the HAProxy user (Docker's own DNS resolver listens in the namespace too, as root).
  const listening = tcp.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === "0A" && f[7] === uid)
    .map((f) => parseInt(f[1].split(":")[1], 16));
  // the public listener, the portal's two DMZ listeners (the proxy's address only), stats
  expect([...new Set(listening)].sort((a, b) => a - b)).toEqual([8080, 8081, 8082, 9000]);
});
