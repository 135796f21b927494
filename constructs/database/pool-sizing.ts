/**
 * Connection budget of the farm. Npgsql keeps one pool per distinct connection string, and every node carries two
 * (`db` and `dbPostgreSql`), so a node may open up to 2 × its pool size. The budget is checked against the server's
 * max_connections with a reserve for administration (restores, psql, monitoring).
 *
 * The pool size is a setting of its own, not derived from the node count: a derived value would change every
 * node's ConnectionStrings.config, and so replace every node at once, whenever a node is added.
 */
import { DEFAULTS } from "../defaults";

export const ADMIN_RESERVE = 10;

export interface ConnectionBudget {
  readonly maxConnections?: number;
  readonly nodePoolSize?: number;
}

/**
 * Why max_connections cannot serve `pools` connection pools of the configured size plus the reserve, or undefined
 * when it can. Defaults are applied here, for the schema and the database alike.
 */
export function connectionBudgetProblem(budget: ConnectionBudget, pools: number): string | undefined {
  const maxConnections = budget.maxConnections ?? DEFAULTS.database.maxConnections;
  const poolSize = budget.nodePoolSize ?? DEFAULTS.database.nodePoolSize;
  const needed = pools * poolSize + ADMIN_RESERVE;
  if (needed <= maxConnections) return undefined;
  return (
    `max_connections ${maxConnections} cannot serve ${pools} connection pools × ${poolSize} ` +
    `+ ${ADMIN_RESERVE} reserved = ${needed} connections; raise it to ${needed} or lower the pool size`
  );
}
