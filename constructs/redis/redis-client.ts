import { IConstruct } from "constructs";
import { CONTAINER } from "../defaults";
import { ProvisionedFileSpec } from "../lib/provisioned-file";
import { secretPlaceholder } from "../lib/secret-text";
import { FarmNetwork } from "../networks/farm-network";

/** Where a client finds the CA of Redis' TLS mode; a folder of its own, so it can be added to the trusted ones. */
export const REDIS_CA_DIR = `${CONTAINER.farmDir}/redis-ca`;

/**
 * The Redis CA as a trusted root. .NET on Linux builds its root store from every file in SSL_CERT_DIR plus the CA
 * bundle file (SSL_CERT_FILE, else OpenSSL's default, Debian's ca-certificates.crt), so public trust stays with the
 * bundle. One directory only: .NET 8 reads SSL_CERT_DIR as a single path (a colon-separated list works from .NET 9
 * on, dotnet/runtime#91110).
 */
export const TRUST_REDIS_CA_ENV = `SSL_CERT_DIR=${REDIS_CA_DIR}`;

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
