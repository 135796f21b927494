/**
 * What a node learns about the client, in the real network: the balancer's address is the one the nodes trust
 * (KnownProxiesIP, derived from the topology at synth), and a client cannot choose the address Creatio records.
 */
import { engine, exec } from "./support/engine";
import { loadDeployment } from "./support/farm";
import { get } from "./support/http";

const docker = engine();
const d = loadDeployment();

/** The stand-in's log entry for the request whose URL carries `marker`, from whichever node served it. */
async function loggedRequest(marker: string): Promise<Record<string, string | null>> {
  for (const node of d.containers.nodes) {
    const r = await exec(docker, node, ["grep", "-F", marker, "/app/Logs/stand-in-requests.jsonl"]);
    if (r.code === 0) return JSON.parse(r.stdout.trim().split("\n")[0]);
  }
  throw new Error(`no node logged a request with ${marker}`);
}

test("the node sees the balancer as its peer and the client's real address, whatever the client claims", async () => {
  const networks = async (name: string) => (await docker.getContainer(name).inspect()).NetworkSettings.Networks;
  const balancer = (await networks(d.containers.balancer))["dockertier-app"].IPAddress;
  // Connections published from the host reach the balancer from the app network's gateway.
  const gateway = (await docker.getNetwork("dockertier-app").inspect()).IPAM!.Config![0].Gateway;

  const marker = `forwarded-${Date.now()}`;
  const res = await get(d.httpPort, `/api/StandIn/Node?${marker}`, { "x-forwarded-for": "6.6.6.6", "x-forwarded-proto": "https", forwarded: "for=6.6.6.6" });
  expect(res.status).toBe(200);

  expect(await loggedRequest(marker)).toMatchObject({
    peer: balancer,
    xForwardedFor: gateway,
    xForwardedProto: "http",
    // ASP.NET's ForwardedHeaders with the rendered KnownProxiesIP: the balancer is trusted, so its header counts.
    client: gateway,
  });
});
