/**
 * A loopback topology for the live tier: `loopbackModel` builds a `HaproxyModel` with listeners, servers and stats
 * on 127.0.0.1 at free ports, the runtime socket in a temp dir, and short test timings; `startLoopbackBalancer`
 * renders it and starts the real haproxy on it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  HaproxyHealthCheck,
  HaproxyLimits,
  HaproxyLongOperations,
  HaproxyModel,
  HaproxyTimeouts,
  renderHaproxyCfg,
  renderReleaseDownNodes,
} from "../../../constructs/balancer/render-haproxy-cfg";
import { STATS_TEST_HASH } from "../../support/hashes";
import { freePort } from "./processes";
import { DEFAULTS } from "../../../constructs/defaults";
import { Haproxy, haproxyVersionAtLeast, removeWithHaproxy, startHaproxy } from "./haproxy-process";
import { Teardown } from "./stand-ins";

export const STATS_USER = "admin";

/** Whether the host's haproxy knows `timeout client-hs` (2.8+). */
export const HOST_HAPROXY_HAS_CLIENT_HS = haproxyVersionAtLeast(2, 8);
export const STATS_URI = "/haproxy_stats";
export const METRICS_PATH = "/metrics";
export const HEALTH_PATH = "/api/HealthCheck/Ping";

/**
 * Test timings: short, so a failover completes in about a second. With `inter` below 1 s the renderer's
 * fastinter (min(1 s, inter)) equals inter.
 */
export const FAST_CHECKS: HaproxyHealthCheck = {
  path: HEALTH_PATH,
  host: "localhost",
  intervalMs: 400,
  fall: 2,
  rise: 2,
  timeoutMs: 500,
};

/** What the renderer derives from the health check: fastinter = min(1 s, inter), downinter = inter. */
export function checkTimings(hc: HaproxyHealthCheck) {
  const fastinter = Math.min(1000, hc.intervalMs);
  return {
    inter: hc.intervalMs,
    fastinter,
    downinter: hc.intervalMs,
    /** A refused connection fails a check at once: the next check comes within inter, then fall−1 at fastinter. */
    killedDownMs: hc.intervalMs + (hc.fall - 1) * fastinter,
    /** A node that accepts TCP but never answers: every failing check also waits `timeout check` (reference §5). */
    frozenDownMs: hc.intervalMs + hc.fall * hc.timeoutMs + (hc.fall - 1) * fastinter,
    /** While DOWN, checks run every downinter; then rise−1 more successes at fastinter. */
    upMs: hc.intervalMs + (hc.rise - 1) * fastinter,
  };
}

export interface LoopbackServer {
  readonly name: string;
  readonly port: number;
  /** @default 1 */
  readonly weight?: number;
}

export interface LoopbackOptions {
  readonly httpPort: number;
  readonly statsPort: number;
  /** Servers of the public backend `creatio`, on 127.0.0.1. */
  readonly servers: readonly LoopbackServer[];
  readonly healthCheck?: Partial<HaproxyHealthCheck>;
  /** @default client 10 s, server 10 s, tunnel 30 s */
  readonly timeouts?: Partial<HaproxyTimeouts>;
  readonly tls?: {
    readonly port: number;
    /** Combined PEM (certificate and key). */
    readonly certificate: string;
    /** @default port */
    readonly publicPort?: number;
    /** @default true */
    readonly redirectHttp?: boolean;
    /** @default 63072000 */
    readonly hstsMaxAgeSeconds?: number;
  };
  /** Second backend `portal` with its own listener on 127.0.0.1:<port>. */
  readonly portal?: {
    readonly port: number;
    readonly servers: readonly LoopbackServer[];
    readonly trustForwardedFrom?: readonly string[];
    readonly onlyFrom?: readonly string[];
  };
  /** A listener of its own for the public backend `creatio` on 127.0.0.1:<port> (the DMZ's integration listener). */
  readonly integration?: {
    readonly port: number;
    readonly trustForwardedFrom?: readonly string[];
    readonly onlyFrom?: readonly string[];
    readonly allowPaths?: readonly string[];
  };
  /** @default - maxConnections 1000 and the product's per-source and per-node limits */
  readonly limits?: Partial<HaproxyLimits>;
  /** @default - none */
  readonly longOperations?: HaproxyLongOperations;
  /** @default false */
  readonly statsAdmin?: boolean;
  /** @default 10 */
  readonly failedLoginsPerMinute?: number;
  /** Networks refused by the stats listener, each but one address. @default - none */
  readonly statsRejectFrom?: readonly { readonly subnet: string; readonly except: string }[];
}


export function loopbackModel(opts: LoopbackOptions): HaproxyModel {
  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-haproxy-sock-"));
  removeWithHaproxy(socketDir);
  const servers = (list: readonly LoopbackServer[]) =>
    list.map((s) => ({ name: s.name, address: "127.0.0.1", port: s.port, weight: s.weight ?? 1 }));
  return {
    releaseDownNodesLua: path.join(socketDir, "release-down-nodes.lua"),
    serverStateFile: path.join(socketDir, "servers.state"),
    limits: {
      maxConnections: 1000,
      connectionsPerSource: DEFAULTS.balancer.limits.connectionsPerSource,
      // Every test client is 127.0.0.1 and the failover tests' loops send thousands of requests a second: the
      // request-rate limit is lifted unless a test sets it (balancer-limits.live.test.ts does).
      requestsPer10sPerSource: 1_000_000_000,
      websocketsPerSource: DEFAULTS.balancer.limits.websocketsPerSource,
      requestBodyBytes: DEFAULTS.balancer.limits.requestBodyMb * 1024 * 1024,
      requestsPerNode: DEFAULTS.balancer.limits.requestsPerNode,
      exemptSources: [],
      ...opts.limits,
    },
    longOperations: opts.longOperations,
    runtimeSocket: path.join(socketDir, "admin.sock"),
    httpBind: `127.0.0.1:${opts.httpPort}`,
    tls: opts.tls
      ? {
          bind: `127.0.0.1:${opts.tls.port}`,
          certificate: opts.tls.certificate,
          publicPort: opts.tls.publicPort ?? opts.tls.port,
          redirectHttp: opts.tls.redirectHttp ?? true,
          hstsMaxAgeSeconds: opts.tls.hstsMaxAgeSeconds ?? 63072000,
          canonicalHost: "localhost",
        }
      : undefined,
    timeouts: {
      clientMs: 10_000,
      serverMs: 10_000,
      tunnelMs: 30_000,
      // `timeout client-hs` came with HAProxy 2.8; the product refuses older images, the host may have one.
      handshakeMs: HOST_HAPROXY_HAS_CLIENT_HS ? DEFAULTS.balancer.limits.tlsHandshakeSeconds * 1000 : undefined,
      ...opts.timeouts,
    },
    healthCheck: { ...FAST_CHECKS, ...opts.healthCheck },
    backends: [
      { name: "creatio", servers: servers(opts.servers) },
      ...(opts.portal
        ? [
            {
              name: "portal",
              servers: servers(opts.portal.servers),
              listen: { bind: `127.0.0.1:${opts.portal.port}`, trustForwardedFrom: opts.portal.trustForwardedFrom, onlyFrom: opts.portal.onlyFrom },
            },
          ]
        : []),
    ],
    extraListeners: opts.integration
      ? [{ name: "integration", bind: `127.0.0.1:${opts.integration.port}`, backend: "creatio", trustForwardedFrom: opts.integration.trustForwardedFrom, onlyFrom: opts.integration.onlyFrom, allowPaths: opts.integration.allowPaths }]
      : undefined,
    stats: {
      bind: `127.0.0.1:${opts.statsPort}`,
      uri: STATS_URI,
      user: STATS_USER,
      passwordHash: STATS_TEST_HASH,
      metricsPath: METRICS_PATH,
      rejectFrom: opts.statsRejectFrom ?? [],
      failedLoginsPerMinute: opts.failedLoginsPerMinute ?? DEFAULTS.balancer.stats.failedLoginsPerMinute,
      admin: opts.statsAdmin ?? false,
    },
  };
}

/**
 * Renders the loopback model on fresh HTTP, stats (and, when `tls` is given, HTTPS) ports and starts haproxy on
 * it; `teardown` stops it by PID.
 */
export async function startLoopbackBalancer(
  teardown: Teardown,
  opts: Omit<LoopbackOptions, "httpPort" | "statsPort" | "tls"> & { readonly tls?: Omit<NonNullable<LoopbackOptions["tls"]>, "port"> },
): Promise<{ haproxy: Haproxy; httpPort: number; httpsPort: number; statsPort: number }> {
  const httpPort = await freePort();
  const httpsPort = await freePort();
  const statsPort = await freePort();
  const model = loopbackModel({ ...opts, httpPort, statsPort, tls: opts.tls && { ...opts.tls, port: httpsPort } });
  writeModelFiles(model);
  const haproxy = teardown.add(await startHaproxy(renderHaproxyCfg(model)));
  return { haproxy, httpPort, httpsPort, statsPort };
}

/**
 * The files haproxy.cfg reads besides itself, where the model says: the Lua task, and the server state file as
 * the config job leaves it before a first start (the format version, no server yet).
 */
export function writeModelFiles(model: HaproxyModel): void {
  fs.writeFileSync(model.releaseDownNodesLua, renderReleaseDownNodes(model));
  if (model.serverStateFile) fs.writeFileSync(model.serverStateFile, "1\n");
}
