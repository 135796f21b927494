/** Rules between the farm's networks: the config schema reports them at the file's line, the constructs at their path. */
import { nodeCapacity, OFFSETS } from "./address-plan";
import { overlaps, parseCidr } from "./ipv4";

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
