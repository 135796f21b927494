/**
 * haproxy.cfg for HAProxy 2.6+ (modern syntax: no rspirep/reqadd, http-check send, userlist auth). Pure: model in,
 * text out; it imports nothing from cdktf, so it moves with the product to a fork or to plain Terraform.
 */
import { byCodeUnit } from "../lib/order";
import { template } from "../lib/template";

export interface HaproxyServer {
  /** HAProxy server name, shown on the stats page and in logs. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** roundrobin weight, 1..256. */
  readonly weight: number;
}

export interface HaproxyHealthCheck {
  readonly path: string;
  readonly host: string;
  readonly intervalMs: number;
  readonly fall: number;
  readonly rise: number;
  readonly timeoutMs: number;
}

export interface HaproxyModel {
  /** Environment name, for the header comment. */
  readonly environment: string;
  readonly maxConnections: number;
  /** `bind` argument of the HTTP frontend, e.g. `:8080`. */
  readonly httpBind: string;
  readonly healthCheck: HaproxyHealthCheck;
  readonly servers: readonly HaproxyServer[];
  readonly stats: {
    /** `bind` argument of the stats listener, e.g. `:9000`. */
    readonly bind: string;
    readonly uri: string;
    readonly user: string;
    /** crypt(3) hash (bcrypt or SHA-512), or a secret placeholder resolved at apply time. */
    readonly passwordHash: string;
  };
}

const render = template(__dirname, "haproxy.cfg.hbs");

export function renderHaproxyCfg(model: HaproxyModel): string {
  if (model.servers.length === 0) throw new Error("haproxy.cfg needs at least one server");
  const hc = model.healthCheck;
  return render({
    ...model,
    // While a node changes state, checks run at the faster of 1 s and the normal interval, so a dead node
    // leaves rotation after about interval + (fall - 1) × fastinter instead of interval × fall.
    fastinterMs: Math.min(1000, hc.intervalMs),
    servers: [...model.servers].sort((a, b) => byCodeUnit(a.name, b.name)),
  });
}
