/**
 * GIVEN the example-shaped farm (3 nodes) synthesized from the fixture and applied to the real Docker Engine
 * THEN it is up: every container runs, those with a health check are healthy, and the balancer has every node UP
 * in both backends (weighted and SignalR-sticky).
 */
import { engine } from "./support/engine";
import { containerStates, loadDeployment } from "./support/farm";
import { serverStates, statsPageStates } from "./support/haproxy-stats";

const docker = engine();
const d = loadDeployment();

test("every container runs; PostgreSQL and Redis report healthy", async () => {
  const states = await containerStates(docker, d);
  expect(states).toEqual({
    [d.containers.balancer]: "running",
    [d.containers.redis]: "healthy",
    [d.containers.postgres]: "healthy",
    ...Object.fromEntries(d.containers.nodes.map((n) => [n, "running"])),
  });
});

test("the balancer reports every node UP, in the weighted backend and in the SignalR backend", async () => {
  const names = d.config.creatio.nodes.map((n: { name: string }) => n.name);
  const expected = Object.fromEntries(names.flatMap((n: string) => [[`be_creatio/${n}`, "UP"], [`be_creatio_msg/${n}`, "UP"]]));
  expect(await serverStates(d)).toEqual(expected);
  // The stats page says the same to the generated user and password (Terraform's outputs).
  expect(await statsPageStates(d)).toEqual(expected);
});

