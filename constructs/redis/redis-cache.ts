import { Construct } from "constructs";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { CONTAINER, DEFAULTS } from "../defaults";
import { FarmContainer, IWorkload } from "../lib/farm-container";
import { farmImage } from "../lib/farm-image";
import { handOverEntrypoint } from "../lib/hand-over";
import { ResourceProps } from "../lib/resources";
import { FarmNetwork } from "../networks/farm-network";
import { OFFSETS } from "../networks/address-plan";
import { FarmSecrets } from "../secrets/farm-secrets";
import { IRedisClient, RedisEndpoint } from "./redis-client";
import { renderRedisConf } from "./render-redis-conf";
import { SecretName, secretPlaceholder } from "../lib/secret-text";

const CONF_PATH = "/usr/local/etc/redis/redis.conf";
const TLS_DIR = "/usr/local/etc/redis/tls";
/** The key as uploaded (root's, 0600) and the copy the server reads (the redis user's, 0400), made at each start. */
const UPLOADED_KEY = `${TLS_DIR}/redis.key`;
const SERVER_KEY = "/run/redis-tls.key";
/** The official image's entrypoint: fixes /data's owner and drops to the redis user. */
const IMAGE_ENTRYPOINT = "/usr/local/bin/docker-entrypoint.sh";
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
  /**
   * TLS mode: Redis accepts TLS connections only, with a certificate from a CA of its own (generated at apply time,
   * see `FarmSecrets.enableRedisTls`), and the nodes' user needs a generated password, which Creatio sends only over
   * TLS. @default - plain TCP without a password: isolation and the ACL protect Redis
   */
  readonly tls?: RedisTlsProps;
}

export interface RedisTlsProps {
  /** Validity of the server certificate in days. @default 365 */
  readonly certificateDays?: number;
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
  private readonly tls: boolean;

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    this.network = props.network;
    this.db = props.db ?? DEFAULTS.redis.db;
    const volume = new Volume(this, "volume", { name: `${props.environment}-redis-data` });
    const maxMemoryMb = props.maxMemoryMb ?? DEFAULTS.redis.maxMemoryMb;
    this.tls = props.tls !== undefined;
    if (props.tls) {
      const defaults = DEFAULTS.redis.tls;
      props.secrets.enableRedisTls({
        environment: props.environment,
        hostName: HOST_ALIAS,
        certificateDays: props.tls.certificateDays ?? defaults.certificateDays,
        renewBeforeDays: defaults.renewBeforeDays,
        caDays: defaults.caDays,
      });
    }
    const tlsCli = this.tls ? ["--tls", "--cacert", `${TLS_DIR}/ca.crt`] : [];
    this.container = new FarmContainer(this, "container", {
      name: `${props.environment}-redis`,
      image: farmImage(this, props.image),
      role: "data",
      secrets: props.secrets,
      // The uploaded key is root's (the provider uploads as root): a copy for the redis user, readable by it alone.
      entrypoint: this.tls
        ? handOverEntrypoint({ from: UPLOADED_KEY, to: SERVER_KEY, owner: "redis:redis", then: `/bin/sh ${IMAGE_ENTRYPOINT}`, name: "redis-entrypoint" })
        : undefined,
      command: ["redis-server", CONF_PATH],
      // Alive is "answers": without the password (TLS mode) the answer is NOAUTH, and that is enough.
      healthcheck: this.tls
        ? ["/bin/sh", "-c", `redis-cli ${tlsCli.join(" ")} ping 2>&1 | grep -q -e PONG -e NOAUTH`]
        : ["redis-cli", "ping"],
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
          tls: this.tls
            ? {
                certificateFile: `${TLS_DIR}/redis.crt`,
                keyFile: SERVER_KEY,
                caFile: `${TLS_DIR}/ca.crt`,
                defaultPasswordSha256: secretPlaceholder("redis-password-hash"),
              }
            : undefined,
        }),
    });
    if (this.tls) {
      const generated = (file: string, secret: SecretName, mode = 0o644) =>
        this.container.addFile({ path: `${TLS_DIR}/${file}`, format: "secret", mode, render: () => secretPlaceholder(secret) });
      generated("ca.crt", "redis-ca-certificate");
      generated("redis.crt", "redis-tls-certificate");
      generated("redis.key", "redis-tls-key", 0o600);
    }
  }

  /** Lets a client use this Redis: attaches it to the data network and gives it the endpoint. */
  public allowFrom(client: IRedisClient, options: { readonly network?: FarmNetwork } = {}): void {
    const network = options.network ?? this.network;
    this.container.attach(network, OFFSETS.redis, [HOST_ALIAS]);
    client._connectRedis(network, new RedisEndpoint(HOST_ALIAS, CONTAINER.redisPort, this.db, this.tls));
  }
}
