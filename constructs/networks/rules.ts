/** Rules between the farm's networks: the config schema reports them at the file's line, the constructs at their path. */
import { nodeCapacity, OFFSETS } from "./address-plan";
import { contains, overlaps, parseCidr, parseNetwork } from "./ipv4";

/** Two subnets of one farm must not overlap: Docker would refuse the second network, or route to the wrong one. */
export function subnetOverlapProblem(subnet: string, otherKey: string, other: string): string | undefined {
  const a = parseCidr(subnet);
  const b = parseCidr(other);
  return a && b && overlaps(a, b) ? `${subnet} overlaps ${otherKey} ${other}` : undefined;
}

/**
 * Every node takes an address on each network it joins: a subnet bounds the node count. A set whose addresses
 * start at `firstOffset` (a second set, the portal's) has the room from there up.
 */
export function nodeCapacityProblem(key: string, subnet: string, nodes: number, firstOffset: number = OFFSETS.firstNode): string | undefined {
  if (!parseCidr(subnet)) return undefined;
  const room = nodeCapacity(subnet, firstOffset);
  const from = firstOffset === OFFSETS.firstNode ? "" : ` from host offset ${firstOffset}`;
  return nodes > room ? `${nodes} nodes do not fit in ${key} ${subnet}${from} (room for ${room}); use a larger subnet` : undefined;
}

/**
 * The farm-subnet rules (`parseCidr`: a network address, prefix /16../28; `subnetRangeProblem`: inside a private
 * range) as one regular expression, for the published JSON Schema, where editors check a file. Generated from the
 * same facts; the schema-parity test feeds both the same corpus.
 */
export const FARM_SUBNET_PATTERN: string = (() => {
  const octet = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  const multiplesOf = (step: number) => (step === 1 ? octet : `(?:${Array.from({ length: 256 / step }, (_, i) => i * step).join("|")})`);
  const hostParts: string[] = [];
  for (let prefix = 16; prefix <= 28; prefix++) {
    hostParts.push(prefix <= 24 ? `${multiplesOf(2 ** (24 - prefix))}\\.0/${prefix}` : `${octet}\\.${multiplesOf(2 ** (32 - prefix))}/${prefix}`);
  }
  return `^(?:10\\.${octet}|172\\.(?:1[6-9]|2\\d|3[01])|192\\.168)\\.(?:${hostParts.join("|")})$`;
})();

/** The private IPv4 ranges (RFC 1918): a farm network outside them could shadow real addresses or special ones. */
const PRIVATE: readonly string[] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/**
 * A farm subnet must lie in a private range: 0.0.0.0/8, loopback, link-local, multicast or a public network would
 * hijack or shadow addresses the host and its clients need.
 */
export function subnetRangeProblem(subnet: string): string | undefined {
  const cidr = parseCidr(subnet);
  if (!cidr) return undefined;
  const inside = PRIVATE.some((range) => contains(parseNetwork(range)!, cidr));
  return inside ? undefined : `expected a private network (inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16), got ${subnet}`;
}
