import { IConstruct } from "constructs";
import { IWorkload } from "../lib/farm-container";
import { FarmNetwork } from "../networks/farm-network";
import { DatabaseEndpoint } from "./database-endpoint";

/**
 * What can be a client of the farm's database (`database.allowFrom(client)`): Creatio nodes today; the Identity
 * Service, portal nodes or a one-shot job later. The database attaches the client to its network and hands it the
 * endpoint; it counts the client's pools against max_connections.
 */
export interface IDatabaseClient extends IConstruct {
  /** Connection pools the client opens at most, for an engine that needs `poolsPerNode` per Creatio node. */
  databasePools(poolsPerNode: number): number;
  /**
   * @internal Called by the database's `allowFrom` only. `bootstrap` is what creates the client's role: the
   * client's containers start after it.
   */
  _connectDatabase(network: FarmNetwork, endpoint: DatabaseEndpoint, bootstrap: IWorkload): void;
}
