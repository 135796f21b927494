/**
 * GIVEN the example-shaped farm (3 nodes) synthesized from the fixture and applied to the real Docker Engine
 * THEN it is up: every container runs, those with a health check are healthy, and the balancer has every node UP
 * in both backends (weighted and SignalR-sticky).
 */
import { engine, exec } from "./support/engine";
import { waitFor } from "./support/wait";
import { containerStates, loadDeployment } from "./support/farm";
import { serverStates, statsPageStates } from "./support/haproxy-stats";

const docker = engine();
const d = loadDeployment();

test("every container runs and reports healthy: its own health check, the balancer's and the nodes' included", async () => {
  // the balancer's and the nodes' first check runs 10 s after start (interval)
  const all = [d.containers.balancer, d.containers.redis, d.containers.postgres, ...d.containers.nodes, ...d.portal.nodes];
  // nginx has no health check of its own (the official image has none): running is what it reports
  const expected = { ...Object.fromEntries(all.map((n) => [n, "healthy"])), [d.portal.proxy]: "running" };
  const same = (a: Record<string, string>) => JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(expected).sort());
  await waitFor(async () => same(await containerStates(docker, d)), 30_000, "every container healthy");
  expect(await containerStates(docker, d)).toEqual(expected);
});

/** The effective capability set of a container's first process, by name (from /proc/1/status). */
async function effectiveCapabilities(container: string): Promise<string[]> {
  const status = (await exec(docker, container, ["cat", "/proc/1/status"])).stdout;
  const mask = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
  return CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/** Linux capability names by bit number (linux/capability.h), as far as Docker grants any by default. */
const CAPABILITIES = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
  "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
  "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
  "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
];

test("every container: every capability dropped but what its entrypoint needs, no-new-privileges, a memory limit; the balancer's root read-only", async () => {
  const expected: Record<string, { caps: string[]; running: string[] }> = {
    // the image runs as the haproxy user: nothing at all
    [d.containers.balancer]: { caps: [], running: [] },
    // root entrypoints that hand their data directory to the service user and drop to it; the server itself
    // then runs with no capability
    [d.containers.redis]: { caps: ["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"], running: [] },
    [d.containers.postgres]: { caps: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"], running: [] },
    // the node image runs as root (the stand-in's, like Creatio's own example), without NET_RAW and the rest
    ...Object.fromEntries([...d.containers.nodes, ...d.portal.nodes].map((n) => [n, { caps: ["CHOWN", "DAC_OVERRIDE", "FOWNER"], running: ["CHOWN", "DAC_OVERRIDE", "FOWNER"] }])),
    // nginx's master starts as root, creates its temp directories for the workers and drops them to nobody
    [d.portal.proxy]: { caps: ["CHOWN", "SETGID", "SETUID"], running: ["CHOWN", "SETGID", "SETUID"] },
  };
  for (const [name, { caps, running }] of Object.entries(expected)) {
    const host = (await docker.getContainer(name).inspect()).HostConfig;
    expect([name, host.CapDrop, [...(host.CapAdd ?? [])].sort(), host.SecurityOpt]).toEqual([name, ["ALL"], caps, ["no-new-privileges:true"]]);
    expect([name, host.Memory! > 0, host.MemorySwap === host.Memory]).toEqual([name, true, true]);
    // the balancer, the one container without provisioned files, has a read-only root
    expect([name, host.ReadonlyRootfs]).toEqual([name, name === d.containers.balancer]);
    expect([name, await effectiveCapabilities(name)]).toEqual([name, running]);
  }
});

test("the balancer reports every node UP, in the weighted backend and in the SignalR backend, the portal's in theirs", async () => {
  const names = d.config.creatio.nodes.map((n: { name: string }) => n.name);
  const portal = d.config.portal.nodes.map((n: { name: string }) => n.name);
  const expected = Object.fromEntries([
    ...names.flatMap((n: string) => [[`be_creatio/${n}`, "UP"], [`be_creatio_msg/${n}`, "UP"]]),
    ...portal.flatMap((n: string) => [[`be_portal/${n}`, "UP"], [`be_portal_msg/${n}`, "UP"]]),
  ]);
  expect(await serverStates(d)).toEqual(expected);
  // The stats page says the same to the generated user and password (Terraform's outputs).
  expect(await statsPageStates(d)).toEqual(expected);
});

