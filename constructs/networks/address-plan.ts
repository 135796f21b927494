import { DEFAULTS } from "../defaults";
import { hostCapacity, parseCidr } from "./ipv4";

/** The farm's two subnets, defaults applied: the app network (balancer ↔ nodes) and the internal data network. */
export function farmSubnets(s: { readonly appSubnet?: string; readonly dataSubnet?: string } = {}): { appSubnet: string; dataSubnet: string } {
  return { appSubnet: s.appSubnet ?? DEFAULTS.network.appSubnet, dataSubnet: s.dataSubnet ?? DEFAULTS.network.dataSubnet };
}

/**
 * Fixed host offsets inside the farm's subnets. Addresses are fixed so that the balancer's address can be
 * written into every node's `KnownProxiesIP` at synth, and so that a plan shows every address it will use.
 * Changing an offset moves a container to a new address, which replaces it: treat these as frozen.
 */
export const OFFSETS = {
  /** On the app network. */
  balancer: 2,
  /** On the data network. */
  redis: 2,
  /** On the data network. */
  database: 3,
  /** Node k (0-based) sits at firstNode + k on both the app and the data network. */
  firstNode: 11,
} as const;

/** How many nodes a subnet can hold under this plan, from host offset `firstOffset` up. */
export function nodeCapacity(subnet: string, firstOffset: number = OFFSETS.firstNode): number {
  const cidr = parseCidr(subnet);
  return cidr ? Math.max(0, hostCapacity(cidr) - firstOffset + 1) : 0;
}
