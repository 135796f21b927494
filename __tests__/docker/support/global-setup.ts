/**
 * Jest global setup of the Docker tier: images (cached by content hash), then the fixture farm, deployed once. If
 * the farm does not come up, what was created is removed before the error is reported (Jest runs no global
 * teardown after a failed global setup).
 */
import { engine, requireEngine } from "./engine";
import { deploy, destroy, waitUntilServing } from "./farm";
import { ensureTestImages } from "./images";

export default async function globalSetup(): Promise<void> {
  const log = (line: string) => process.stdout.write(`docker tier: ${line}\n`);
  const docker = engine();
  await requireEngine(docker);
  const images = await ensureTestImages(docker, log);
  log(`images ready (${images.built.length ? `built ${images.built.join(", ")}` : "all cached"})`);
  const started = Date.now();
  try {
    const deployment = await deploy(docker, () => {});
    log(`applied in ${Date.now() - started} ms`);
    const ms = await waitUntilServing(docker, deployment);
    log(`serving ${ms} ms later (every container up, every node UP)`);
  } catch (e) {
    const logs = await containerLogs(docker);
    await destroy(docker, log);
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
}

async function containerLogs(docker: ReturnType<typeof engine>): Promise<string> {
  const out: string[] = [];
  for (const c of await docker.listContainers({ all: true })) {
    if (!c.Names.some((n) => n.startsWith("/dockertier-"))) continue;
    const text = (await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, tail: 15 })).toString("utf8");
    out.push(`--- ${c.Names[0]} (${c.State}):\n${text}`);
  }
  return out.join("\n");
}
