/** Jest global teardown of the Docker tier: removes every container, network, volume and image the tier created. */
import { engine } from "./engine";
import { destroy, leftovers } from "./farm";

export default async function globalTeardown(): Promise<void> {
  const docker = engine();
  await destroy(docker, (line) => process.stdout.write(`docker tier: ${line}\n`));
  const left = await leftovers(docker);
  if (left.length) throw new Error(`the Docker tier left: ${left.join(", ")}`);
}
