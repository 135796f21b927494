/**
 * Files are rendered once, at synth. A connection made after a file it feeds was rendered would be lost without a
 * word (the file would not show it): each such call is refused with the construct path.
 */
import { Testing } from "cdktf";
import { CreatioFarmStack } from "../../app/farm-stack";
import { HaproxyBalancer } from "../../constructs/balancer/haproxy-balancer";
import { CreatioNodeSet } from "../../constructs/creatio-nodes/creatio-node-set";
import { FarmNetwork } from "../../constructs/networks/farm-network";
import { config } from "../support/farm";

function farm() {
  const stack = new CreatioFarmStack(Testing.app(), "s", config());
  const portal = new CreatioNodeSet(stack, "portal", {
    environment: "s", image: "c:1", nodes: [{ name: "p1" }], secrets: stack.secrets, component: "portal", firstAddressOffset: 101,
  });
  return { stack, portal };
}

test("GIVEN haproxy.cfg was rendered WHEN a backend is added THEN it is refused (the file would not serve it)", () => {
  const { stack, portal } = farm();
  stack.balancer.configJob.renderedFiles();
  expect(() => stack.balancer.addBackend(portal, { name: "portal", listenPort: 8081 })).toThrow(
    "[s/balancer] addBackend is called after haproxy.cfg was rendered (synth): add every backend before synth",
  );
});

test("GIVEN the node image was rendered WHEN another balancer takes the nodes THEN it is refused (KnownProxiesIP would miss it)", () => {
  const { stack } = farm();
  stack.nodes.nodeImage.contextFiles();
  const network = new FarmNetwork(stack, "network-edge", { name: "s-edge", subnet: "172.30.40.0/24" });
  const second = new HaproxyBalancer(stack, "balancer-2", { environment: "s2", image: "haproxy:2.8", network, secrets: stack.secrets });
  expect(() => second.addBackend(stack.nodes)).toThrow(
    "[s/creatio] a balancer is connected after the node image was rendered (synth): connect every balancer before synth",
  );
});

test("GIVEN a container's files were rendered WHEN it is attached to a network THEN it is refused", () => {
  const { stack } = farm();
  stack.redis.container.renderedFiles();
  const network = new FarmNetwork(stack, "network-extra", { name: "s-extra", subnet: "172.30.41.0/24" });
  expect(() => stack.redis.container.attach(network, 5)).toThrow("[s/redis/container] s-redis is attached to s-extra after its files were rendered (synth)");
});

test("before anything is rendered, the same calls are accepted", () => {
  const { stack, portal } = farm();
  stack.balancer.addBackend(portal, { name: "portal", listenPort: 8081 });
  const network = new FarmNetwork(stack, "network-extra", { name: "s-extra", subnet: "172.30.41.0/24" });
  expect(stack.redis.container.attach(network, 5)).toBe("172.30.41.5");
});
