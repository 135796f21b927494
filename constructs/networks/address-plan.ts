import { DEFAULTS } from "../defaults";
import { hostCapacity, parseCidr } from "./ipv4";

export type SubnetKey = "appSubnet" | "dataSubnet" | "dmzSubnet" | "portalSubnet" | "portalDataSubnet" | "identityEdgeSubnet";
/** The networks a portal adds. */
export const PORTAL_SUBNET_KEYS: readonly SubnetKey[] = ["dmzSubnet", "portalSubnet", "portalDataSubnet"];

/**
 * The farm's subnets, defaults applied: the app network (balancer ↔ nodes) and the internal data network; with a
 * portal, the DMZ, the portal nodes' network and their data network too.
 */
export function farmSubnets(s: Partial<Record<SubnetKey, string>> = {}): Record<SubnetKey, string> {
  const n = DEFAULTS.network;
  return {
    appSubnet: s.appSubnet ?? n.appSubnet,
    dataSubnet: s.dataSubnet ?? n.dataSubnet,
    dmzSubnet: s.dmzSubnet ?? n.dmzSubnet,
    portalSubnet: s.portalSubnet ?? n.portalSubnet,
    portalDataSubnet: s.portalDataSubnet ?? n.portalDataSubnet,
    identityEdgeSubnet: s.identityEdgeSubnet ?? n.identityEdgeSubnet,
  };
}

/** The networks an environment has: the portal's only with a portal, the identity edge only with a published token endpoint. */
export interface NetworksInUse {
  readonly portal: boolean;
  readonly tokenEndpoint: boolean;
}

/** The subnet keys an environment uses. */
export function subnetKeysInUse(use: NetworksInUse): readonly SubnetKey[] {
  return [
    "appSubnet",
    "dataSubnet",
    ...(use.portal ? PORTAL_SUBNET_KEYS : []),
    ...(use.tokenEndpoint ? (["identityEdgeSubnet"] as const) : []),
  ];
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
  /** On the data network (and the portal's data network). */
  database: 3,
  /** On the DMZ network, and on the identity edge network. */
  dmzProxy: 3,
  /** On the data network, and on the identity edge network. */
  identityService: 4,
  /** On the data network: the job that sets Creatio's system settings. */
  settingsJob: 5,
  /** Node k (0-based) sits at firstNode + k on both the app and the data network. */
  firstNode: 11,
} as const;

/** How many nodes a subnet can hold under this plan, from host offset `firstOffset` up. */
export function nodeCapacity(subnet: string, firstOffset: number = OFFSETS.firstNode): number {
  const cidr = parseCidr(subnet);
  return cidr ? Math.max(0, hostCapacity(cidr) - firstOffset + 1) : 0;
}
