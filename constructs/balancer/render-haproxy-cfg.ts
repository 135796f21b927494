/**
 * haproxy.cfg for HAProxy 2.6+ (modern syntax: no rspirep/reqadd, http-check send, userlist auth). Pure: model in,
 * text out; it imports nothing from cdktf, so it moves with the product to a fork or to plain Terraform.
 */
import { byCodeUnit } from "../lib/order";
import { template } from "../lib/template";

export interface HaproxyServer {
  /** HAProxy server name, shown on the stats page and in logs. */
  readonly name: string;
  /** IPv4 address: servers are never looked up by name, so HAProxy starts whether or not they are up. */
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

export interface HaproxyTimeouts {
  /** Idle client side of a request/response exchange. */
  readonly clientMs: number;
  /** Longest wait for a node's response: long Creatio operations (compilation) must fit in it. */
  readonly serverMs: number;
  /** Idle timeout of an upgraded (WebSocket) connection, both sides. */
  readonly tunnelMs: number;
  /**
   * Deadline of a client's TLS handshake (`timeout client-hs`, HAProxy 2.8+).
   * @default - not rendered: the handshake falls under `clientMs`
   */
  readonly handshakeMs?: number;
}

/** What one client, and one node, may hold of the balancer. */
export interface HaproxyLimits {
  /** maxconn of each listener (HTTP, HTTPS, a backend's own); the process limit is their sum plus the stats'. */
  readonly maxConnections: number;
  /** Open connections of one source address; more are refused at accept. */
  readonly connectionsPerSource: number;
  /** Requests of one source address in any 10 s; more are answered 429. */
  readonly requestsPer10sPerSource: number;
  /** Open WebSockets of one source address; more are answered 429. */
  readonly websocketsPerSource: number;
  /** Largest Content-Length accepted; more is answered 413. */
  readonly requestBodyBytes: number;
  /** Requests on one node at a time (server maxconn); the rest queue in HAProxy. */
  readonly requestsPerNode: number;
  /** Networks (CIDR) or addresses exempt from the per-source limits, such as an office's NAT. */
  readonly exemptSources: readonly string[];
}

/** Requests that may run longer than `timeouts.serverMs`. */
export interface HaproxyLongOperations {
  /** Path prefixes, matched without regard to case. */
  readonly paths: readonly string[];
  readonly serverMs: number;
}

export interface HaproxyBackend {
  /** Backend name without prefix: `creatio` renders `backend be_creatio`. */
  readonly name: string;
  readonly servers: readonly HaproxyServer[];
  /**
   * A backend with its own listener (the portal's) gets a frontend of its own on `bind`. Without it, the backend
   * is the public one, served by the HTTP and HTTPS frontends; a model has exactly one public backend.
   */
  readonly listen?: {
    readonly bind: string;
    /** Sources whose X-Forwarded-For / X-Forwarded-Proto are kept (a reverse proxy in front). @default - none */
    readonly trustForwardedFrom?: readonly string[];
    /** The only sources that may connect (a reverse proxy in front). @default - anyone */
    readonly onlyFrom?: readonly string[];
  };
}

/** A listener of its own for a backend that is also served elsewhere (the internal nodes' integration endpoints). */
export interface HaproxyListener {
  /** Frontend name without prefix: `integration` renders `frontend fe_integration`. */
  readonly name: string;
  readonly bind: string;
  /** The backend's name. */
  readonly backend: string;
  readonly trustForwardedFrom?: readonly string[];
  readonly onlyFrom?: readonly string[];
  /** Case-insensitive regular expressions (PCRE) of the only paths it serves; every other path is 404. @default - any */
  readonly allowPaths?: readonly string[];
}

export interface HaproxyTls {
  /** `bind` address of the HTTPS frontend, e.g. `:8443`. */
  readonly bind: string;
  /** Path of the PEM (chain and key) inside the balancer. */
  readonly certificate: string;
  /** Port clients reach HTTPS on: the redirect from HTTP names it unless it is 443. */
  readonly publicPort: number;
  /** Plain HTTP answers with a 301 to HTTPS instead of serving. */
  readonly redirectHttp: boolean;
  /** Strict-Transport-Security max-age on every HTTPS response. */
  readonly hstsMaxAgeSeconds: number;
  /**
   * Host name the redirect from HTTP names, never the client's Host header (which would make the balancer an
   * open redirect). Required when `redirectHttp` is true.
   */
  readonly canonicalHost?: string;
}

export interface HaproxyModel {
  /**
   * Path, inside the balancer, of the Lua task `renderReleaseDownNodes` renders: it ends the requests a node
   * still holds once it has been DOWN for longer than timeout connect.
   */
  readonly releaseDownNodesLua: string;
  /**
   * Where each server's state is saved before a reload and read by the new worker, so a node that is DOWN or in
   * maintenance stays so. The file must exist, holding at least its version line ("1").
   * @default - none: servers start from the configuration
   */
  readonly serverStateFile?: string;
  readonly limits: HaproxyLimits;
  /** @default - every request waits at most `timeouts.serverMs` */
  readonly longOperations?: HaproxyLongOperations;
  /** Unix socket of the runtime API (admin level, mode 600). */
  readonly runtimeSocket: string;
  /** `bind` argument of the HTTP frontend, e.g. `:8080`. */
  readonly httpBind: string;
  /** HTTPS frontend; plain HTTP only without it. */
  readonly tls?: HaproxyTls;
  readonly timeouts: HaproxyTimeouts;
  readonly healthCheck: HaproxyHealthCheck;
  readonly backends: readonly HaproxyBackend[];
  /** Listeners of their own for backends the model already has. @default - none */
  readonly extraListeners?: readonly HaproxyListener[];
  /**
   * Networks whose containers may not connect to the public listeners, each but the one address (its gateway)
   * where Docker's port publishing delivers the host's connections. @default - none
   */
  readonly publicRejectFrom?: readonly { readonly subnet: string; readonly except: string }[];
  readonly stats: {
    /** `bind` argument of the stats listener, e.g. `:9000`. */
    readonly bind: string;
    readonly uri: string;
    readonly user: string;
    /** crypt(3) hash (bcrypt or SHA-512), or a secret placeholder resolved at apply time. */
    readonly passwordHash: string;
    /** Prometheus exporter path on the stats listener, served without credentials. */
    readonly metricsPath: string;
    /**
     * Networks whose containers may not open a connection to the stats listener, each with the one address that
     * may: the network's gateway, where Docker's port publishing delivers connections from the host.
     */
    readonly rejectFrom: readonly { readonly subnet: string; readonly except: string }[];
    /** Wrong passwords one address may send per minute before it is refused without a password check. */
    readonly failedLoginsPerMinute: number;
    /** The stats page's admin actions (drain, maintenance, weight); off, the page is read-only. */
    readonly admin: boolean;
  };
}

/**
 * The cookie that keeps a SignalR client on one node. HAProxy inserts it on the first `/msg` response and removes
 * it from requests before they reach the node (`indirect`); its value is the node's server name.
 */
export const AFFINITY_COOKIE = "creatio_farm_node";

/**
 * Mozilla's "intermediate" TLS profile (guideline 5.8): TLS 1.2 and 1.3, forward-secret AEAD ciphers only.
 * Fixed here rather than configurable: a weaker list is a decision to take in code review, not in an env file.
 */
const TLS = {
  ciphers: [
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-CHACHA20-POLY1305",
  ].join(":"),
  ciphersuites: ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"].join(":"),
  options: "prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets",
};

/** Rendered frontend: every field present, since the template is compiled strict. */
interface FrontendView {
  readonly name: string;
  readonly binds: readonly string[];
  readonly proto: "http" | "https";
  readonly redirect: string | null;
  readonly hsts: number | null;
  readonly secureCookies: boolean;
  readonly trusted: string | null;
  /** The only sources that may connect, space-separated; null = anyone. */
  readonly onlyFrom: string | null;
  /** Networks refused (a public listener), each with its gateway allowed. */
  readonly rejectFrom: readonly { readonly subnet: string; readonly except: string }[];
  /** Per-source limits apply; not behind a trusted proxy, where every connection has the proxy's address. */
  readonly perSource: boolean;
  readonly backend: string;
  /** The only paths served (regular expressions, single-quoted in the file); empty = any. */
  readonly allowPaths: readonly string[];
}

/** Connections kept for the stats listener (page and /metrics) on top of the public listeners. */
export const STATS_MAX_CONNECTIONS = 32;

/**
 * Request headers the nodes never get from a client: frameworks and middleware read them as the client's
 * address, the original URL or the real method. `X-Original-*` goes too (by prefix).
 */
export const SPOOFABLE_HEADERS = [
  "Forwarded",
  "X-Forwarded-Host",
  "X-Forwarded-Port",
  "X-Forwarded-Prefix",
  "X-Forwarded-Server",
  "X-Forwarded-Scheme",
  "X-Forwarded-Ssl",
  "X-Real-IP",
  "X-Client-IP",
  "X-Cluster-Client-IP",
  "True-Client-IP",
  "CF-Connecting-IP",
  "Client-IP",
  "X-Host",
  "X-Url-Scheme",
  "X-Rewrite-URL",
  "X-HTTP-Method-Override",
  "X-HTTP-Method",
  "X-Method-Override",
];

const render = template(__dirname, "haproxy.cfg.hbs");
const renderLua = template(__dirname, "release-down-nodes.lua.hbs");

/**
 * `timeout connect`. Nodes sit on a local Docker network, where a connection is set up in well under a
 * millisecond; a node whose container died stops answering instead of refusing, so this is also how long a request
 * waits before it is retried on another node.
 */
export const CONNECT_TIMEOUT_MS = 1000;
/** A node's requests are ended this long after it is marked DOWN: those still connecting have retried by then. */
export const RELEASE_GRACE_MS = CONNECT_TIMEOUT_MS + 500;
const RELEASE_POLL_MS = 100;

/** The Lua task that ends the requests of nodes DOWN for longer than RELEASE_GRACE_MS (see the .hbs). */
export function renderReleaseDownNodes(model: Pick<HaproxyModel, "backends">): string {
  return renderLua({
    graceMs: RELEASE_GRACE_MS,
    pollMs: RELEASE_POLL_MS,
    // Backend names are [a-z0-9_-] (checked where backends are added): nothing to escape in a Lua string.
    backends: model.backends
      .flatMap((b) => [`be_${b.name}`, `be_${b.name}_msg`])
      .sort(byCodeUnit)
      .map((n) => `"${n}"`)
      .join(", "),
  });
}

/** HAProxy time format, in the largest unit that keeps the value whole: 600s, 1500ms, 1h. */
export function haproxyDuration(ms: number): string {
  if (ms % 3600000 === 0) return `${ms / 3600000}h`;
  if (ms % 60000 === 0) return `${ms / 60000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/**
 * HAProxy's process limit (global maxconn): every listener's maxconn plus the stats listener's, so a full public
 * listener never locks out the stats page. The container's descriptor and memory limits derive from it.
 */
export function processMaxConnections(model: HaproxyModel): number {
  const publicBackend = model.backends.find((b) => !b.listen)?.name ?? "";
  return model.limits.maxConnections * frontends(model, publicBackend).length + STATS_MAX_CONNECTIONS;
}

export function renderHaproxyCfg(model: HaproxyModel): string {
  const publicBackends = model.backends.filter((b) => !b.listen);
  if (publicBackends.length !== 1) {
    throw new Error(`haproxy.cfg needs exactly one public backend (without its own listener), got ${publicBackends.length}`);
  }
  const names = model.backends.map((b) => b.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`backend "${dup}" is defined twice`);
  const empty = model.backends.find((b) => b.servers.length === 0);
  if (empty) throw new Error(`backend "${empty.name}" needs at least one server`);

  if (model.tls?.redirectHttp && !model.tls.canonicalHost) {
    throw new Error("tls.redirectHttp needs tls.canonicalHost: a redirect built from the client's Host header is an open redirect");
  }

  const hc = model.healthCheck;
  const d = haproxyDuration;
  const views = frontends(model, publicBackends[0].name);
  const limits = model.limits;
  return render({
    globalMaxConnections: processMaxConnections(model),
    limits: {
      maxConnections: limits.maxConnections,
      connectionsPerSource: limits.connectionsPerSource,
      requestsPer10s: limits.requestsPer10sPerSource,
      websocketsPerSource: limits.websocketsPerSource,
      requestBodyBytes: limits.requestBodyBytes,
      requestsPerNode: limits.requestsPerNode,
      exempt: limits.exemptSources.length ? [...limits.exemptSources].sort(byCodeUnit).join(" ") : null,
    },
    spoofableHeaders: SPOOFABLE_HEADERS,
    longOperations: model.longOperations
      ? { paths: [...model.longOperations.paths].sort(byCodeUnit).join(" "), timeout: d(model.longOperations.serverMs) }
      : null,
    runtimeSocket: model.runtimeSocket,
    releaseDownNodesLua: model.releaseDownNodesLua,
    serverStateFile: model.serverStateFile ?? null,
    connectTimeout: d(CONNECT_TIMEOUT_MS),
    tls: model.tls ? TLS : null,
    timeouts: {
      client: d(model.timeouts.clientMs),
      handshake: model.timeouts.handshakeMs === undefined ? null : d(model.timeouts.handshakeMs),
      server: d(model.timeouts.serverMs),
      tunnel: d(model.timeouts.tunnelMs),
    },
    healthCheck: {
      path: hc.path,
      host: hc.host,
      // While a node changes state, checks run at the faster of 1 s and the normal interval, so a dead node
      // leaves rotation after about interval + (fall - 1) × fastinter instead of interval × fall.
      inter: d(hc.intervalMs),
      fastinter: d(Math.min(1000, hc.intervalMs)),
      timeout: d(hc.timeoutMs),
      fall: hc.fall,
      rise: hc.rise,
    },
    frontends: views,
    backends: model.backends.map((b) => ({
      name: b.name,
      servers: [...b.servers]
        .sort((x, y) => byCodeUnit(x.name, y.name))
        .map((s) => ({ ...s, address: `${s.address}:${s.port}` })),
    })),
    affinity: {
      cookie: AFFINITY_COOKIE,
      // A Secure cookie is never sent back over plain HTTP: only when HTTP answers with a redirect is it safe.
      secure: model.tls?.redirectHttp === true,
    },
    stats: { ...model.stats, maxConnections: STATS_MAX_CONNECTIONS },
  });
}

function frontends(model: HaproxyModel, publicBackend: string): FrontendView[] {
  const tls = model.tls;
  const views: FrontendView[] = [
    {
      name: "fe_http",
      binds: [model.httpBind],
      proto: "http",
      redirect: tls?.redirectHttp
        ? `https://${tls.canonicalHost}${tls.publicPort === 443 ? "" : `:${tls.publicPort}`}%[capture.req.uri]`
        : null,
      hsts: null,
      secureCookies: false,
      trusted: null,
      onlyFrom: null,
      rejectFrom: model.publicRejectFrom ?? [],
      perSource: true,
      backend: publicBackend,
      allowPaths: [],
    },
  ];
  if (tls) {
    views.push({
      name: "fe_https",
      binds: [`${tls.bind} ssl crt ${tls.certificate} alpn h2,http/1.1`],
      proto: "https",
      redirect: null,
      hsts: tls.hstsMaxAgeSeconds,
      secureCookies: true,
      trusted: null,
      onlyFrom: null,
      rejectFrom: model.publicRejectFrom ?? [],
      perSource: true,
      backend: publicBackend,
      allowPaths: [],
    });
  }
  const own = (name: string, bind: string, backend: string, trust: readonly string[] = [], onlyFrom: readonly string[] = [], allowPaths: readonly string[] = []): FrontendView => ({
    name: `fe_${name}`,
    binds: [bind],
    proto: "http",
    redirect: null,
    hsts: null,
    secureCookies: false,
    trusted: trust.length ? [...trust].sort(byCodeUnit).join(" ") : null,
    onlyFrom: onlyFrom.length ? [...onlyFrom].sort(byCodeUnit).join(" ") : null,
    rejectFrom: [],
    perSource: trust.length === 0,
    backend,
    allowPaths: allowPaths.map((re) => {
      // Written between single quotes, where HAProxy interprets nothing: a quote or a line break would end it.
      if (/['\r\n]/.test(re) || re === "") throw new Error(`listener ${name}: a path pattern may not be empty or hold ' or a line break`);
      return re;
    }),
  });
  for (const b of model.backends) {
    if (b.listen) views.push(own(b.name, b.listen.bind, b.name, b.listen.trustForwardedFrom, b.listen.onlyFrom));
  }
  for (const l of model.extraListeners ?? []) {
    if (!model.backends.some((b) => b.name === l.backend)) throw new Error(`listener ${l.name}: no backend named ${l.backend}`);
    views.push(own(l.name, l.bind, l.backend, l.trustForwardedFrom, l.onlyFrom, l.allowPaths));
  }
  return views;
}
