/**
 * Connection budget of the farm. Npgsql keeps one pool per distinct connection string, and every node carries two
 * (`db` and `dbPostgreSql`), so a node may open up to 2 × its pool size. The budget is checked against the server's
 * max_connections with a reserve for administration (restores, psql, monitoring).
 *
 * The pool size is a setting of its own, not derived from the node count: a derived value would change every
 * node's ConnectionStrings.config, and so replace every node at once, whenever a node is added.
 */
export const ADMIN_RESERVE = 10;
export const POOLS_PER_NODE = 2;

export function connectionsNeeded(nodeCount: number, poolSize: number): number {
  return nodeCount * POOLS_PER_NODE * poolSize + ADMIN_RESERVE;
}

/** Why the budget does not hold, or undefined when it does. */
export function connectionBudgetProblem(maxConnections: number, nodeCount: number, poolSize: number): string | undefined {
  const needed = connectionsNeeded(nodeCount, poolSize);
  if (needed <= maxConnections) return undefined;
  return (
    `max_connections ${maxConnections} cannot serve ${nodeCount} nodes × ${POOLS_PER_NODE} pools × ${poolSize} ` +
    `+ ${ADMIN_RESERVE} reserved = ${needed} connections; raise it to ${needed} or lower the pool size`
  );
}
