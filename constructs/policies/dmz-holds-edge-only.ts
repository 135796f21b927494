import { FarmContainer } from "../lib/farm-container";
import { PolicyRule } from "./policy-rule";

export const dmzHoldsEdgeOnly: PolicyRule = {
  id: "FARM-DMZ-HOLDS-EDGE-ONLY",
  info: "A container other than an edge one (the DMZ proxy, the balancer's DMZ listeners) is on a DMZ network.",
  explanation:
    "The DMZ is where an internet-facing process runs: Redis, the database or an application node there would be one compromised proxy away from the internet, with no balancer or access rule in between.",
  check: (node) => {
    if (!(node instanceof FarmContainer)) return "not-applicable";
    if (!node.networks().some((n) => n.dmz)) return "not-applicable";
    return node.role === "edge" ? "compliant" : "non-compliant";
  },
};
