import { IConstruct } from "constructs";
import { Annotations, IAspect } from "cdktf";
import { databaseVolumeProtected } from "./database-volume-protected";
import { dmzHoldsEdgeOnly } from "./dmz-holds-edge-only";
import { imagePinned } from "./image-pinned";
import { nodeSetsShareNoNetwork } from "./node-sets-share-no-network";
import { onlyEdgePublishesPorts } from "./only-edge-publishes-ports";
import { PolicyRule } from "./policy-rule";
import { proxySetsForwardedFor } from "./proxy-sets-forwarded-for";

export const FARM_RULES: readonly PolicyRule[] = [
  imagePinned,
  onlyEdgePublishesPorts,
  databaseVolumeProtected,
  dmzHoldsEdgeOnly,
  nodeSetsShareNoNetwork,
  proxySetsForwardedFor,
];

/** Applies the farm's policy rules to every construct; a finding is an error annotation, which fails synth. */
export class FarmPolicies implements IAspect {
  constructor(private readonly rules: readonly PolicyRule[] = FARM_RULES) {}

  public visit(node: IConstruct): void {
    for (const rule of this.rules) {
      if (rule.check(node) === "non-compliant") {
        Annotations.of(node).addError(`${rule.id}: ${rule.info} ${rule.explanation}`);
      }
    }
  }
}
