import { Construct } from "constructs";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { CONTAINER, DEFAULTS } from "../defaults";
import { FarmContainer, IWorkload } from "../lib/farm-container";
import { farmImage } from "../lib/farm-image";
import { ResourceProps } from "../lib/resources";
import { FarmNetwork } from "../networks/farm-network";
import { OFFSETS } from "../networks/address-plan";
import { FarmSecrets } from "../secrets/farm-secrets";
import { IRedisClient, RedisEndpoint } from "./redis-client";
import { renderRedisConf } from "./render-redis-conf";
import { secretPlaceholder } from "../lib/secret-text";

const CONF_PATH = "/usr/local/etc/redis/redis.conf";
const DATA_DIR = "/data";
/** ACL user for operators; the nodes use `default`, limited (see redis.conf). */
export const ADMIN_USER = "farm-admin";
/** The name nodes use for Redis on the data network. */
const HOST_ALIAS = "redis";

export interface RedisCacheProps {
  /** Environment name: prefixes container and volume names. */
  readonly environment: string;
  /** Redis image, pinned. */
  readonly image: string;
  /** The internal network Redis shares with the nodes. */
  readonly network: FarmNetwork;
  readonly secrets: FarmSecrets;
  /** Database number the nodes use; unique per Creatio site. @default 0 */
  readonly db?: number;
  /** Memory Redis may use for data; past it, writes are refused (noeviction). @default 1024 */
  readonly maxMemoryMb?: number;
  /** @default - memory 2 × maxMemoryMb + 256 MB; no CPU limit */
  readonly resources?: ResourceProps;
}

/**
 * Redis shared by all nodes of the site (sessions, cache, locks), on the internal data network only, with its
 * append-only file on a named volume.
 *
 * @example
 * const redis = new RedisCache(stack, "redis", { environment: "dev", image: "redis:7.2", network: data, secrets });
 * redis.allowFrom(nodes); // any IRedisClient
 */
export class RedisCache extends Construct {
  public readonly container: IWorkload;
  private readonly network: FarmNetwork;
  private readonly db: number;

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    this.network = props.network;
    this.db = props.db ?? DEFAULTS.redis.db;
    const volume = new Volume(this, "volume", { name: `${props.environment}-redis-data` });
    const maxMemoryMb = props.maxMemoryMb ?? DEFAULTS.redis.maxMemoryMb;
    this.container = new FarmContainer(this, "container", {
      name: `${props.environment}-redis`,
      image: farmImage(this, props.image),
      role: "data",
      secrets: props.secrets,
      command: ["redis-server", CONF_PATH],
      healthcheck: ["redis-cli", "ping"],
      volumes: [{ volumeName: volume.name, containerPath: DATA_DIR }],
      // The image's entrypoint starts as root, hands /data to the redis user and drops to it (setpriv/gosu).
      capabilities: ["CHOWN", "DAC_OVERRIDE", "SETGID", "SETUID"],
      memoryMb: props.resources?.memoryMb ?? DEFAULTS.redis.memoryMb(maxMemoryMb),
      cpus: props.resources?.cpus,
    });
    this.container.attach(props.network, OFFSETS.redis, [HOST_ALIAS]);
    this.container.addFile({
      path: CONF_PATH,
      format: "redis",
      render: () =>
        renderRedisConf({
          port: CONTAINER.redisPort,
          dataDir: DATA_DIR,
          maxMemoryMb,
          adminUser: ADMIN_USER,
          adminPasswordSha256: secretPlaceholder("redis-admin-password-hash"),
        }),
    });
  }

  /** Lets a client use this Redis: attaches it to the data network and gives it the endpoint. */
  public allowFrom(client: IRedisClient): void {
    client._connectRedis(this.network, new RedisEndpoint(HOST_ALIAS, CONTAINER.redisPort, this.db));
  }
}
