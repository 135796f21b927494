/**
 * GIVEN a running node WHEN its container restarts THEN the patch step runs again and changes nothing: same bytes,
 * same modification times, "unchanged" for both files, and the node serves again.
 */
import { engine, exec } from "./support/engine";
import { loadDeployment, waitUntilServing } from "./support/farm";

const docker = engine();
const d = loadDeployment();
const FILES = ["/app/Terrasoft.WebHost.dll.config", "/app/appsettings.json"];

test("a node restart re-runs the patch step as a no-op", async () => {
  const node = d.containers.nodes[0];
  const fingerprint = async () => (await exec(docker, node, ["sh", "-c", `sha256sum ${FILES.join(" ")} && stat -c '%n %Y' ${FILES.join(" ")}`])).stdout;
  const before = await fingerprint();
  const since = Math.floor(Date.now() / 1000);
  await docker.getContainer(node).restart({ t: 10 });
  await waitUntilServing(docker, d);

  expect(await fingerprint()).toBe(before);
  const logs = (await docker.getContainer(node).logs({ stdout: true, stderr: true, since })).toString("utf8");
  const farmLines = logs.split("\n").filter((l) => l.includes("creatio-farm: "));
  expect(farmLines.map((l) => l.slice(l.indexOf("creatio-farm: ")))).toEqual(FILES.map((f) => `creatio-farm: ${f} unchanged`));
});
