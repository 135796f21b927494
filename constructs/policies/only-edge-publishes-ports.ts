import { Container } from "@cdktf/provider-docker/lib/container";
import { FarmContainer } from "../lib/farm-container";
import { PolicyRule } from "./policy-rule";

export const onlyEdgePublishesPorts: PolicyRule = {
  id: "FARM-ONLY-EDGE-PUBLISHES-PORTS",
  info: "A container other than the edge (balancer) publishes host ports.",
  explanation: "Nodes, Redis and the database must be reachable only through the balancer or their internal networks; a published port bypasses health checks, TLS and access control.",
  check: (node) => {
    if (!(node instanceof Container)) return "not-applicable";
    const owner = node.node.scope;
    if (owner instanceof FarmContainer && owner.role === "edge") return "compliant";
    const ports = node.portsInput;
    return ports !== undefined && (!Array.isArray(ports) || ports.length > 0) ? "non-compliant" : "compliant";
  },
};
