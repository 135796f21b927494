/** redis.conf for the farm's Redis. Pure: model in, text out. */
import { template } from "../lib/template";

export interface RedisConfModel {
  readonly port: number;
  /** Where the append-only file lives; Redis checks it exists when it reads the file. */
  readonly dataDir: string;
  /** Memory for data; past it Redis refuses writes (noeviction) instead of growing until the host runs out. */
  readonly maxMemoryMb: number;
  /** ACL user for operators, with every command. */
  readonly adminUser: string;
  /** SHA-256 (hex) of the admin user's password, or a secret placeholder resolved at apply time. */
  readonly adminPasswordSha256: string;
  /** TLS mode: TLS connections only, and the nodes' `default` user needs a password. @default - plain TCP, no password */
  readonly tls?: RedisConfTls;
}

export interface RedisConfTls {
  readonly certificateFile: string;
  readonly keyFile: string;
  /** The CA that signed the certificate (Redis sends the chain; client certificates are not asked for). */
  readonly caFile: string;
  /** SHA-256 (hex) of the password of the nodes' `default` user, or a secret placeholder. */
  readonly defaultPasswordSha256: string;
}

/**
 * Commands of @dangerous the nodes keep: FLUSHDB (Creatio clears its database after installing packages: clio's
 * ClearRedisDb), what Redis clients run when they connect (INFO, ROLE), and reads Creatio may run on its own keys
 * (KEYS, SORT). Everything else in @dangerous is refused with NOPERM. (CLIENT SETNAME/ID/INFO are not dangerous.)
 */
export const NODE_DANGEROUS_ALLOWED = ["flushdb", "info", "role", "keys", "sort", "sort_ro"];

const render = template(__dirname, "redis.conf.hbs");

export function renderRedisConf(model: RedisConfModel): string {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(model.adminUser)) throw new Error(`not a Redis user name: "${model.adminUser}"`);
  return render({ ...model, tls: model.tls ?? false, defaultAllowed: NODE_DANGEROUS_ALLOWED.map((c) => `+${c}`).join(" ") });
}
