import { TerraformStack } from "cdktf";
import { CreatioNodeSet } from "../creatio-nodes/creatio-node-set";
import { PolicyRule } from "./policy-rule";

/** Names of the networks any member of `set` is on. */
const networksOf = (set: CreatioNodeSet) => new Set(set.members.flatMap((m) => m.container.networks().map((n) => n.name)));

export const nodeSetsShareNoNetwork: PolicyRule = {
  id: "FARM-NODE-SETS-SHARE-NO-NETWORK",
  info: "Two node sets (the internal nodes and the portal's) are on a common network.",
  explanation:
    "Portal nodes serve users from outside; on a network with the internal nodes they could reach them directly, past the balancer and the internal users' authentication. Each set reaches Redis and the database on a network of its own.",
  check: (node) => {
    if (!(node instanceof CreatioNodeSet)) return "not-applicable";
    const mine = networksOf(node);
    const others = TerraformStack.of(node).node.findAll().filter((c): c is CreatioNodeSet => c instanceof CreatioNodeSet && c !== node);
    return others.some((o) => [...networksOf(o)].some((n) => mine.has(n))) ? "non-compliant" : "compliant";
  },
};
