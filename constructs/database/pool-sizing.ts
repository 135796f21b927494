/**
 * Each node's Npgsql pool is capped so that the whole farm cannot exhaust the server's max_connections, keeping a
 * reserve for administration (restores, psql, monitoring).
 */
export const ADMIN_RESERVE = 10;
export const MIN_POOL_PER_NODE = 10;

/** Pool size per node, or undefined when max_connections is too small for this many nodes. */
export function poolPerNode(maxConnections: number, nodeCount: number): number | undefined {
  const pool = Math.floor((maxConnections - ADMIN_RESERVE) / nodeCount);
  return pool >= MIN_POOL_PER_NODE ? pool : undefined;
}

/** The smallest max_connections that gives every node the minimum pool. */
export function minimumMaxConnections(nodeCount: number): number {
  return nodeCount * MIN_POOL_PER_NODE + ADMIN_RESERVE;
}
