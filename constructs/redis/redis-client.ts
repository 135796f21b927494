import { IConstruct } from "constructs";
import { FarmNetwork } from "../networks/farm-network";

/** Where a Redis client connects, in Creatio's `redis` connection string. */
export class RedisEndpoint {
  constructor(
    public readonly host: string,
    public readonly port: number,
    /** Database number; unique per Creatio site. */
    public readonly db: number,
  ) {}

  connectionString(): string {
    return `host=${this.host};db=${this.db};port=${this.port};maxReadPoolSize=10;maxWritePoolSize=500`;
  }
}

/** What can be a client of the farm's Redis (`redis.allowFrom(client)`): it is attached and handed the endpoint. */
export interface IRedisClient extends IConstruct {
  /** @internal Called by Redis's `allowFrom` only. */
  _connectRedis(network: FarmNetwork, endpoint: RedisEndpoint): void;
}
