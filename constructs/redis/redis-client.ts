import { IConstruct } from "constructs";
import { CONTAINER } from "../defaults";
import { ProvisionedFileSpec } from "../lib/provisioned-file";
import { secretPlaceholder } from "../lib/secret-text";
import { FarmNetwork } from "../networks/farm-network";

/** Where a client finds the CA of Redis' TLS mode; a folder of its own, so it can be added to the trusted ones. */
export const REDIS_CA_DIR = `${CONTAINER.farmDir}/redis-ca`;

/**
 * The system's trusted CAs and the Redis CA beside them. OpenSSL, and .NET on Linux, read every directory of
 * SSL_CERT_DIR (colon-separated); the system's CA bundle file is read as before, so public trust is unchanged.
 */
export const TRUST_REDIS_CA_ENV = `SSL_CERT_DIR=/etc/ssl/certs:${REDIS_CA_DIR}`;

/** Where a Redis client connects, in Creatio's `redis` connection string. */
export class RedisEndpoint {
  constructor(
    public readonly host: string,
    public readonly port: number,
    /** Database number; unique per Creatio site. */
    public readonly db: number,
    /** TLS mode: connect over TLS with the generated password, trusting Redis' own CA. */
    public readonly tls = false,
  ) {}

  connectionString(): string {
    const tls = this.tls ? `;useTls=true;password=${secretPlaceholder("redis-password")}` : "";
    return `host=${this.host};db=${this.db};port=${this.port}${tls};maxReadPoolSize=10;maxWritePoolSize=500`;
  }

  /** What a client container needs besides the connection string: in TLS mode, the CA to trust and the variable naming it. */
  clientSetup(): { readonly files: readonly ProvisionedFileSpec[]; readonly env: readonly string[] } {
    if (!this.tls) return { files: [], env: [] };
    return {
      files: [{ path: `${REDIS_CA_DIR}/ca.crt`, format: "secret", render: () => secretPlaceholder("redis-ca-certificate") }],
      env: [TRUST_REDIS_CA_ENV],
    };
  }
}

/** What can be a client of the farm's Redis (`redis.allowFrom(client)`): it is attached and handed the endpoint. */
export interface IRedisClient extends IConstruct {
  /** @internal Called by Redis's `allowFrom` only. */
  _connectRedis(network: FarmNetwork, endpoint: RedisEndpoint): void;
}
