import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { Network } from "@cdktf/provider-docker/lib/network";
import { FarmValidationError } from "../lib/errors";
import { hostAddress, parseCidr } from "./ipv4";
import { subnetOverlapProblem, subnetRangeProblem } from "./rules";

export interface FarmNetworkProps {
  /** Docker network name; unique per Docker host, so it carries the environment name. */
  readonly name: string;
  /** Fixed IPv4 subnet, so every address in the farm is known at synth. */
  readonly subnet: string;
  /**
   * No route out of the network: containers on it reach only each other.
   * @default false
   */
  readonly internal?: boolean;
  /**
   * The DMZ: where the internet-facing proxy sits. Policies keep data containers and application nodes off it.
   * @default false
   */
  readonly dmz?: boolean;
}

/** A user-defined Docker bridge network with a fixed subnet (user-defined networks also give Docker's DNS). */
export class FarmNetwork extends Construct {
  public readonly name: string;
  public readonly subnet: string;
  public readonly internal: boolean;
  public readonly dmz: boolean;
  /** The bridge's own address (host offset 1): where Docker's port publishing delivers connections from the host. */
  public readonly gateway: string;
  public readonly resource: Network;
  /** Reference to the network's name in Terraform (one token shared by every container attached to it). */
  public readonly nameRef: string;
  /** Address → name of the container that holds it. */
  private readonly holders = new Map<string, string>();

  constructor(scope: Construct, id: string, props: FarmNetworkProps) {
    super(scope, id);
    if (!parseCidr(props.subnet)) {
      throw new FarmValidationError(`subnet must be an IPv4 network address with a prefix of /16../28, got "${props.subnet}"`, this);
    }
    const range = subnetRangeProblem(props.subnet);
    if (range) throw new FarmValidationError(`subnet: ${range}`, this);
    // One stack's networks share one Docker host: overlapping subnets would be refused, or route to the wrong one.
    for (const other of TerraformStack.of(this).node.findAll()) {
      if (!(other instanceof FarmNetwork) || other === this) continue;
      const problem = subnetOverlapProblem(props.subnet, other.name, other.subnet);
      if (problem) throw new FarmValidationError(problem, this);
    }
    this.name = props.name;
    this.subnet = props.subnet;
    this.internal = props.internal ?? false;
    this.dmz = props.dmz ?? false;
    this.gateway = hostAddress(props.subnet, 1);
    this.resource = new Network(this, "Default", {
      name: props.name,
      driver: "bridge",
      internal: this.internal,
      ipamConfig: [{ subnet: props.subnet, gateway: this.gateway }],
    });
    this.nameRef = this.resource.name;
  }

  /** The address at `offset` in this network's subnet. */
  public address(offset: number): string {
    return hostAddress(this.subnet, offset);
  }

  /**
   * @internal Called by `FarmContainer.attach` only.
   * Records that `holder` (a container name) takes the address at `offset`; returns the address. Two containers
   * on one address would make Docker refuse the second at apply time, so it is refused at synth instead.
   */
  public claim(offset: number, holder: string): string {
    const address = this.address(offset);
    const current = this.holders.get(address);
    if (current !== undefined && current !== holder) {
      throw new FarmValidationError(`${holder} cannot take ${address}: ${current} already holds it`, this);
    }
    this.holders.set(address, holder);
    return address;
  }
}
