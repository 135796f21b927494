import { IConstruct } from "constructs";

export type Compliance = "compliant" | "non-compliant" | "not-applicable";

/** A cross-cutting rule of the farm, checked on every construct at synth (cdk-nag shape). */
export interface PolicyRule {
  /** Stable id, printed with every finding. */
  readonly id: string;
  /** What is wrong when the rule fails. */
  readonly info: string;
  /** Why it matters. */
  readonly explanation: string;
  readonly check: (node: IConstruct) => Compliance;
}
