import * as path from "path";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Lazy, Token } from "cdktf";
import { Construct } from "constructs";
import { CONTAINER, DEFAULTS, withDefaults } from "../defaults";
import { FarmContainer, IWorkload } from "../lib/farm-container";
import { httpHealthcheck } from "../lib/http-healthcheck";
import { ResourceProps } from "../lib/resources";
import { farmImage } from "../lib/farm-image";
import { FarmValidationError } from "../lib/errors";
import { secretPlaceholder } from "../lib/secret-text";
import { asset } from "../lib/template";
import { FarmNetwork } from "../networks/farm-network";
import { OFFSETS } from "../networks/address-plan";
import { IPV4_ADDRESS, IPV4_ADDRESS_OR_CIDR } from "../networks/ipv4";
import { FarmSecrets } from "../secrets/farm-secrets";
import { BackendServer, IBalancerBackend } from "./balancer-backend";
import { certificatePathProblem } from "./certificate-path";
import {
  HaproxyBackend,
  HaproxyHealthCheck,
  HaproxyModel,
  processMaxConnections as processMaxConnectionsOf,
  renderHaproxyCfg,
  renderReleaseDownNodes,
} from "./render-haproxy-cfg";
import { HOST_NAME, haproxyVersionProblem, metricsPathProblem, portClashes, redirectHostProblem } from "./rules";

/**
 * The configuration lives in a volume, not in the balancer's `upload`s (which Docker's provider replaces the
 * container for): the config job installs each new version there and reloads the running HAProxy.
 */
const LIVE_DIR = "/usr/local/etc/haproxy/farm";
const CONFIG_PATH = `${LIVE_DIR}/haproxy.cfg`;
/** The Lua task haproxy.cfg loads (lua-load), beside it. */
const RELEASE_LUA_PATH = `${LIVE_DIR}/release-down-nodes.lua`;
/** Where the config job gets the new files (its own uploads), and its script. */
const STAGED_DIR = `${CONTAINER.farmDir}/staged`;
const INSTALL_SCRIPT = `${CONTAINER.farmDir}/install-haproxy-config.sh`;
/** HAProxy's home in the official image, owned by its user: runtime socket and server state file, kept in a volume. */
const RUN_DIR = "/var/lib/haproxy";
const SERVER_STATE_FILE = `${RUN_DIR}/servers.state`;
/** Short id of the balancer container the installed configuration is for. */
const INSTALLED_FOR = `${LIVE_DIR}/installed-for`;
/** The official image's entrypoint (it adds -W -db); the balancer starts it once the first configuration is there. */
const IMAGE_ENTRYPOINT = "/usr/local/bin/docker-entrypoint.sh";

export interface HaproxyTlsProps {
  /**
   * Absolute path, on the Docker host, of a PEM file holding the certificate chain and its private key. Its
   * directory is mounted read-only into the balancer, so the key never enters Terraform state or `cdktf.out/`.
   */
  readonly certificate: string;
  /** Host port published for HTTPS. @default 443 */
  readonly port?: number;
  /** Plain HTTP answers with a 301 to HTTPS. @default true */
  readonly redirectHttp?: boolean;
  /** Strict-Transport-Security max-age. @default 63072000 (two years) */
  readonly hstsMaxAgeSeconds?: number;
}

export interface HaproxyTimeoutProps {
  /** @default 60 */
  readonly clientSeconds?: number;
  /** Longest wait for a node's response to an ordinary request; also how long a hung node holds one. @default 60 */
  readonly serverSeconds?: number;
  /** Longest wait for a node's response to a request under `longOperationPaths`. @default 900 */
  readonly longOperationSeconds?: number;
  /**
   * Path prefixes (any case) of the Creatio operations that run for minutes in one request.
   * @default - WorkspaceExplorerService, AppInstallerService and PackageInstallerService, with and without /0
   */
  readonly longOperationPaths?: readonly string[];
  /** Idle timeout of a WebSocket after its upgrade. @default 3600 */
  readonly websocketIdleSeconds?: number;
}

export interface HaproxyLimitProps {
  /** Open connections of one source address. @default 200 */
  readonly connectionsPerSource?: number;
  /** Requests of one source address in any 10 s; more get 429. @default 2000 */
  readonly requestsPer10sPerSource?: number;
  /** Open WebSockets of one source address; more get 429. @default 50 */
  readonly websocketsPerSource?: number;
  /** Largest request body (Content-Length) in MB; more gets 413. @default 100 */
  readonly requestBodyMb?: number;
  /** Requests on one node at a time; the rest queue in HAProxy. @default 100 */
  readonly requestsPerNode?: number;
  /** Deadline of a client's TLS handshake. @default 5 */
  readonly tlsHandshakeSeconds?: number;
  /** IPv4 addresses or networks exempt from the per-source limits (an office's NAT). @default - none */
  readonly exemptSources?: readonly string[];
}

export interface HaproxyBalancerProps {
  /** Environment name: prefixes the container name. */
  readonly environment: string;
  /** HAProxy image, 2.8 or newer, pinned. */
  readonly image: string;
  /** The network the balancer shares with the nodes. */
  readonly network: FarmNetwork;
  readonly secrets: FarmSecrets;
  /** Host port published for HTTP. @default 80 */
  readonly httpPort?: number;
  /** Host address the HTTP (and HTTPS) ports are published on. @default "0.0.0.0" */
  readonly bindAddress?: string;
  /**
   * Connections each public listener accepts; HAProxy's process limit (and the container's nofile limit) is
   * derived from it. @default 4096
   */
  readonly maxConnections?: number;
  /** Host name clients use: the redirect from HTTP names it. Required when `tls.redirectHttp` is on. @default - none */
  readonly publicHost?: string;
  /** @default - see HaproxyLimitProps */
  readonly limits?: HaproxyLimitProps;
  /** @default - memory 256 MB + 64 KB per connection of the process limit; no CPU limit */
  readonly resources?: ResourceProps;
  /** HTTPS on `tls.port`. @default - HTTP only */
  readonly tls?: HaproxyTlsProps;
  /** @default - client 60 s, server 60 s, long operations 900 s, websocket idle 3600 s */
  readonly timeouts?: HaproxyTimeoutProps;
  /** @default - path /api/HealthCheck/Ping, Host localhost, every 2000 ms, fall 3, rise 2, timeout 2000 ms */
  readonly healthCheck?: Partial<HaproxyHealthCheck>;
  /**
   * @default - port 9000 on 127.0.0.1, uri /haproxy_stats, user admin, metrics on /metrics, 10 failed logins a
   * minute, no admin actions
   */
  readonly stats?: Partial<StatsSettings>;
}

export interface StatsSettings {
  /** Host port of the stats page. */
  readonly port: number;
  readonly uri: string;
  /** Stats user; its password is generated. */
  readonly user: string;
  /** Host address the stats port is published on. */
  readonly bindAddress: string;
  /** Prometheus endpoint on the stats port, answered without credentials. */
  readonly metricsPath: string;
  /** Wrong passwords one address may send per minute before it is refused without a check. */
  readonly failedLoginsPerMinute: number;
  /** The page's admin actions (drain, maintenance, weight), refused from other origins. */
  readonly admin: boolean;
}

export interface BackendOptions {
  /** Names the HAProxy backend (`be_<name>`) and, with `listenPort`, its frontend (`fe_<name>`). @default "creatio" */
  readonly name?: string;
  /**
   * Container port of a listener of the backend's own, published on no host port: another container (the DMZ
   * proxy in front of the portal nodes) reaches it over a Docker network.
   * @default - served by the public HTTP/HTTPS frontends; one backend per balancer can be public
   */
  readonly listenPort?: number;
  /**
   * Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto this listener keeps; from any other
   * source both are overwritten. Needs `listenPort`: the public frontends trust nobody.
   * @default - none
   */
  readonly trustForwardedFrom?: readonly string[];
  /**
   * The only addresses that may connect to this listener (a reverse proxy in front); every other connection is
   * refused before a byte is read. Needs `listenPort`. @default - anyone on the listener's networks
   */
  readonly onlyFrom?: readonly string[];
  /**
   * Network the backend's nodes are reached on; the balancer joins it. A portal's node set gets a network of its
   * own, so it shares none with the internal nodes. @default - the balancer's own network
   */
  readonly network?: FarmNetwork;
  /**
   * Network the backend's own listener is reached on (the DMZ, where the proxy is); the balancer joins it. Needs
   * `listenPort`. @default - the networks the balancer is on anyway
   */
  readonly listenOn?: FarmNetwork;
}

/** A listener of its own for a backend that already exists (e.g. the internal nodes' integration endpoints behind the DMZ proxy). */
export interface ListenerOptions {
  /** Names its frontend `fe_<name>`. */
  readonly name: string;
  /** The backend it serves, by name (`creatio` for the public one). */
  readonly backend: string;
  /** Container port; published on no host port. */
  readonly listenPort: number;
  /** Network the listener is reached on; the balancer joins it. */
  readonly network: FarmNetwork;
  /** As in `BackendOptions`. @default - none */
  readonly trustForwardedFrom?: readonly string[];
  /** As in `BackendOptions`. @default - anyone on the listener's networks */
  readonly onlyFrom?: readonly string[];
  /**
   * Case-insensitive regular expressions (PCRE) of the only paths the listener serves; anything else is 404 (the
   * integration endpoints a proxy in front may pass). @default - every path
   */
  readonly allowPaths?: readonly string[];
}

interface Backend {
  readonly backend: IBalancerBackend;
  readonly servers: readonly BackendServer[];
  readonly name: string;
  readonly listenPort?: number;
  readonly trustForwardedFrom: readonly string[];
  readonly onlyFrom: readonly string[];
}

const BACKEND_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/**
 * HAProxy in front of the Creatio nodes: roundrobin by weight, HTTP health checks, optional TLS with HSTS and
 * Secure cookies, WebSocket tunnels, stats page behind a user and a generated password with a Prometheus
 * endpoint beside it. The only container of the farm that publishes host ports.
 *
 * @example
 * const balancer = new HaproxyBalancer(stack, "balancer", { environment: "dev", image: "haproxy:2.8", network: app, secrets });
 * balancer.addBackend(nodes);
 */
export class HaproxyBalancer extends Construct {
  public readonly container: IWorkload;
  /**
   * The one-shot job that installs haproxy.cfg (and the Lua task) into the balancer's configuration volume and
   * reloads HAProxy; it is replaced, and so runs, whenever a file changes. The files are its uploads.
   */
  public readonly configJob: IWorkload;
  /** The balancer's address on the app network: what the nodes trust as their proxy. */
  public readonly address: string;
  /** Where clients reach the farm: HTTPS when TLS is on. */
  public readonly url: string;
  /** The stats page and the Prometheus endpoint, on the stats port. */
  public readonly statsUrl: string;
  public readonly metricsUrl: string;
  public readonly statsUser: string;
  private readonly backends: Backend[] = [];
  private readonly listeners: Array<Required<Omit<ListenerOptions, "network">>> = [];
  private readonly joined: FarmNetwork[] = [];
  private readonly network: FarmNetwork;

  constructor(scope: Construct, id: string, props: HaproxyBalancerProps) {
    super(scope, id);
    this.network = props.network;
    const httpPort = props.httpPort ?? DEFAULTS.balancer.httpPort;
    const bindAddress = props.bindAddress ?? DEFAULTS.balancer.bindAddress;
    const maxConnections = props.maxConnections ?? DEFAULTS.balancer.maxConnections;
    const healthCheck = withDefaults<HaproxyHealthCheck>(DEFAULTS.balancer.healthCheck, props.healthCheck);
    const stats = withDefaults<StatsSettings>(DEFAULTS.balancer.stats, props.stats);
    const timeouts = withDefaults<Required<HaproxyTimeoutProps>>(DEFAULTS.balancer.timeouts, props.timeouts);
    const tls = props.tls && withDefaults<Required<HaproxyTlsProps>>({ ...DEFAULTS.balancer.tls, certificate: props.tls.certificate }, props.tls);
    const limits = withDefaults<Required<HaproxyLimitProps>>(DEFAULTS.balancer.limits, props.limits);

    const [clash] = portClashes(props);
    if (clash) throw new FarmValidationError(`${clash.key}: ${clash.message}`, this);
    const metricsProblem = metricsPathProblem(props.stats);
    if (metricsProblem) throw new FarmValidationError(`${metricsProblem.key}: ${metricsProblem.message}`, this);
    const certificateProblem = tls && certificatePathProblem(tls.certificate);
    if (certificateProblem) throw new FarmValidationError(`tls.certificate: ${certificateProblem}, got "${tls!.certificate}"`, this);
    const versionProblem = haproxyVersionProblem(props.image);
    if (versionProblem) throw new FarmValidationError(`image: ${versionProblem}, got "${props.image}"`, this);
    if (props.publicHost !== undefined && !HOST_NAME.test(props.publicHost)) {
      throw new FarmValidationError(`publicHost: expected a host name such as crm.example.com, got "${props.publicHost}"`, this);
    }
    const redirectProblem = redirectHostProblem(props);
    if (redirectProblem) throw new FarmValidationError(`publicHost: ${redirectProblem}`, this);
    const exemptProblem = limits.exemptSources.find((s) => !IPV4_ADDRESS_OR_CIDR.test(s));
    if (exemptProblem !== undefined) throw new FarmValidationError(`limits.exemptSources: expected IPv4 addresses or networks, got "${exemptProblem}"`, this);

    // The model of haproxy.cfg, read at synth, when every backend is known: the file and the limits derived from
    // it (descriptors, memory) come from this one object.
    const model = (): HaproxyModel => ({
      releaseDownNodesLua: RELEASE_LUA_PATH,
      serverStateFile: SERVER_STATE_FILE,
      limits: {
        maxConnections,
        connectionsPerSource: limits.connectionsPerSource,
        requestsPer10sPerSource: limits.requestsPer10sPerSource,
        websocketsPerSource: limits.websocketsPerSource,
        requestBodyBytes: limits.requestBodyMb * 1024 * 1024,
        requestsPerNode: limits.requestsPerNode,
        exemptSources: limits.exemptSources,
      },
      longOperations: { paths: timeouts.longOperationPaths, serverMs: timeouts.longOperationSeconds * 1000 },
      runtimeSocket: CONTAINER.haproxyRuntimeSocket,
      httpBind: `:${CONTAINER.haproxyHttpPort}`,
      tls: tls && {
        bind: `:${CONTAINER.haproxyHttpsPort}`,
        certificate: path.posix.join(CONTAINER.haproxyCertDir, path.posix.basename(tls.certificate)),
        publicPort: tls.port,
        redirectHttp: tls.redirectHttp,
        hstsMaxAgeSeconds: tls.hstsMaxAgeSeconds,
        canonicalHost: props.publicHost,
      },
      timeouts: {
        clientMs: timeouts.clientSeconds * 1000,
        serverMs: timeouts.serverSeconds * 1000,
        tunnelMs: timeouts.websocketIdleSeconds * 1000,
        handshakeMs: limits.tlsHandshakeSeconds * 1000,
      },
      healthCheck,
      backends: this.backends.map((b) => this.renderBackend(b)),
      extraListeners: this.listeners.map((l) => ({
        name: l.name,
        bind: `:${l.listenPort}`,
        backend: l.backend,
        trustForwardedFrom: l.trustForwardedFrom,
        onlyFrom: l.onlyFrom,
        allowPaths: l.allowPaths,
      })),
      // The public listeners serve the app network and the host's published ports; a container on any other network
      // of the balancer (the DMZ proxy, the portal nodes) reaches only the listeners made for it.
      publicRejectFrom: this.otherNetworks().map((n) => ({ subnet: n.subnet, except: n.gateway })),
      stats: {
        bind: `:${CONTAINER.haproxyStatsPort}`,
        uri: stats.uri,
        user: stats.user,
        passwordHash: secretPlaceholder("stats-password-hash"),
        metricsPath: stats.metricsPath,
        rejectFrom: [this.network, ...this.otherNetworks()].map((n) => ({ subnet: n.subnet, except: n.gateway })),
        failedLoginsPerMinute: stats.failedLoginsPerMinute,
        admin: stats.admin,
      },
    });
    const processMaxConnections = () => processMaxConnectionsOf(model());

    const image = farmImage(this, props.image);
    const configVolume = new Volume(this, "config-volume", { name: `${props.environment}-haproxy-config` });
    const runVolume = new Volume(this, "run-volume", { name: `${props.environment}-haproxy-run` });
    const certificates = tls
      ? [{ hostPath: path.posix.dirname(tls.certificate), containerPath: CONTAINER.haproxyCertDir, readOnly: true }]
      : [];
    const balancer = new FarmContainer(this, "container", {
      name: `${props.environment}-haproxy`,
      image,
      role: "edge",
      secrets: props.secrets,
      // Waits until the config job has installed a configuration for this very container (a new container, e.g.
      // with other ports or certificates, must not start on the file written for the one it replaces; Docker's
      // hostname is the container's short id), then becomes HAProxy's master (PID 1).
      entrypoint: [
        "/bin/sh",
        "-c",
        `until [ -s ${CONFIG_PATH} ] && [ "$(cat ${INSTALLED_FOR} 2>/dev/null)" = "$(cat /etc/hostname)" ]; do sleep 1; done; ` +
          `exec /bin/sh ${IMAGE_ENTRYPOINT} haproxy -f ${CONFIG_PATH}`,
      ],
      ports: [
        { internal: CONTAINER.haproxyHttpPort, external: httpPort, ip: bindAddress, protocol: "tcp" },
        ...(tls ? [{ internal: CONTAINER.haproxyHttpsPort, external: tls.port, ip: bindAddress, protocol: "tcp" }] : []),
        { internal: CONTAINER.haproxyStatsPort, external: stats.port, ip: stats.bindAddress, protocol: "tcp" },
      ],
      // Only the certificate's directory, read-only: the private key stays on the Docker host.
      volumes: [
        { volumeName: configVolume.name, containerPath: LIVE_DIR, readOnly: true },
        { volumeName: runVolume.name, containerPath: RUN_DIR },
        ...certificates,
      ],
      // HAProxy needs about two descriptors per connection plus its own; it refuses to start when it cannot
      // raise the limit to what maxconn implies.
      ulimit: Lazy.anyValue({
        produce: () => [{ name: "nofile", soft: nofileFor(processMaxConnections()), hard: nofileFor(processMaxConnections()) }],
      }),
      // SIGUSR1 is HAProxy's graceful stop: established connections finish first.
      stopSignal: "SIGUSR1",
      // The image runs as its own user on ports above 1024: no capability at all.
      memoryMb: props.resources?.memoryMb ?? Token.asNumber(Lazy.numberValue({ produce: () => DEFAULTS.balancer.memoryMb(processMaxConnections()) })),
      cpus: props.resources?.cpus,
      // It writes only to its home (the run volume): the configuration reaches it through the other volume.
      readOnlyRoot: true,
      // Prometheus' endpoint answers without credentials and from inside the container (127.0.0.1 is let in).
      healthcheck: httpHealthcheck(CONTAINER.haproxyStatsPort, stats.metricsPath),
      healthcheckStartSeconds: 10,
    });
    this.container = balancer;
    this.address = balancer.attach(props.network, OFFSETS.balancer);
    const host = props.publicHost ?? (bindAddress === "0.0.0.0" ? "localhost" : bindAddress);
    this.url = tls ? `https://${host}:${tls.port}/` : `http://${host}:${httpPort}/`;
    this.statsUrl = `http://${stats.bindAddress}:${stats.port}${stats.uri}`;
    this.metricsUrl = `http://${stats.bindAddress}:${stats.port}${stats.metricsPath}`;
    this.statsUser = stats.user;

    const configJob = new FarmContainer(this, "config-job", {
      name: `${props.environment}-haproxy-config`,
      image,
      role: "edge",
      kind: { type: "job", runs: "on-change" },
      secrets: props.secrets,
      entrypoint: ["/bin/sh", INSTALL_SCRIPT],
      // In the balancer's process namespace, where HAProxy's master is PID 1: the reload is a signal to it. The
      // container's id makes a new balancer container a new job run, which installs the files for it.
      pidMode: `container:${balancer.resource.id}`,
      env: [`CREATIO_FARM_BALANCER_ID=${balancer.resource.id}`],
      networkMode: "none",
      // Root writes the volumes whoever owns them and signals the master, which runs as the image's user.
      user: "root",
      capabilities: ["DAC_OVERRIDE", "KILL"],
      volumes: [
        { volumeName: configVolume.name, containerPath: LIVE_DIR },
        { volumeName: runVolume.name, containerPath: RUN_DIR },
        ...certificates,
      ],
      memoryMb: 256,
    });
    this.configJob = configJob;
    configJob.addFile({
      path: INSTALL_SCRIPT,
      format: "sh",
      mode: 0o755,
      generated: false,
      render: () => asset(path.join(__dirname, "assets"), "install-haproxy-config.sh"),
    });
    configJob.addFile({
      path: `${STAGED_DIR}/haproxy.cfg`,
      format: "haproxy",
      render: () => renderHaproxyCfg(model()),
    });

    configJob.addFile({
      path: `${STAGED_DIR}/release-down-nodes.lua`,
      format: "lua",
      render: () => renderReleaseDownNodes(model()),
    });

    this.node.addValidation({
      validate: () => {
        if (this.backends.length === 0) return ["the balancer has no backend: call balancer.addBackend(nodes)"];
        if (this.backends.every((b) => b.listenPort !== undefined)) {
          return ["the balancer has no public backend: call balancer.addBackend(nodes) without listenPort"];
        }
        return [];
      },
    });
  }

  /**
   * Puts a backend (a node set) behind the balancer: attaches it to the balancer's network, adds one server per
   * member with its weight, and makes it trust this balancer's address for X-Forwarded-For.
   *
   * The first call without `listenPort` makes the public backend; a second node set (the portal's) takes a
   * `listenPort` of its own, with health checks, retries and timeouts like the first.
   */
  public addBackend(backend: IBalancerBackend, options: BackendOptions = {}): void {
    if (this.configJob.isRendered) {
      throw new FarmValidationError("addBackend is called after haproxy.cfg was rendered (synth): add every backend before synth", this);
    }
    const name = options.name ?? "creatio";
    const draft = {
      backend,
      name,
      listenPort: options.listenPort,
      trustForwardedFrom: [...(options.trustForwardedFrom ?? [])],
      onlyFrom: [...(options.onlyFrom ?? [])],
    };
    this.checkBackend(draft);
    if (options.listenOn && options.listenPort === undefined) throw new FarmValidationError(`backend "${name}": listenOn needs a listenPort`, this);
    const network = options.network ?? this.network;
    const address = this.join(network);
    if (options.listenOn) this.join(options.listenOn);
    this.backends.push({ ...draft, servers: backend._connectBalancer(network, address) });
  }

  /**
   * Serves an existing backend on a listener of its own, on `network` (which the balancer joins): what a reverse
   * proxy in front sends there goes to that backend's nodes, with the listener's own trust and source rules.
   */
  public addListener(options: ListenerOptions): void {
    if (this.configJob.isRendered) throw new FarmValidationError("addListener is called after haproxy.cfg was rendered (synth)", this);
    if (!this.backends.some((b) => b.name === options.backend)) throw new FarmValidationError(`addListener: no backend named "${options.backend}"`, this);
    this.checkListener(options.name, options.listenPort, options.trustForwardedFrom ?? [], options.onlyFrom ?? []);
    this.join(options.network);
    this.listeners.push({ ...options, trustForwardedFrom: options.trustForwardedFrom ?? [], onlyFrom: options.onlyFrom ?? [], allowPaths: options.allowPaths ?? [] });
  }

  /** Attaches the balancer to `network` (idempotent); its address there. */
  private join(network: FarmNetwork): string {
    if (!this.joined.includes(network)) this.joined.push(network);
    return this.container.attach(network, OFFSETS.balancer);
  }

  /** Networks the balancer joined besides its own, in the order it joined them. */
  private otherNetworks(): FarmNetwork[] {
    return this.joined.filter((n) => n !== this.network);
  }

  /** The balancer's address on `network`, once it is attached there (by `addBackend` or `addListener`). */
  public addressOn(network: FarmNetwork): string | undefined {
    return this.container.addressOn(network);
  }

  private checkBackend(b: Omit<Backend, "servers">): void {
    const fail = (message: string) => {
      throw new FarmValidationError(message, this);
    };
    if (this.backends.some((x) => x.backend === b.backend)) fail(`${b.backend.node.path} is already a backend of this balancer`);
    if (!BACKEND_NAME.test(b.name)) fail(`backend name must be lowercase letters, digits and '-', got "${b.name}"`);
    if (this.backends.some((x) => x.name === b.name)) fail(`a backend named "${b.name}" already exists`);
    // A backend with a listener gets the frontend fe_<name>, which a listener may already have.
    if (this.listeners.some((l) => l.name === b.name)) fail(`backend "${b.name}": a listener has that name`);
    if (b.listenPort === undefined) {
      if (this.backends.some((x) => x.listenPort === undefined)) {
        fail(`backend "${b.name}" needs a listenPort: the public frontends already serve another backend`);
      }
      if (b.trustForwardedFrom.length) fail(`backend "${b.name}": trustForwardedFrom needs a listenPort; the public frontends trust nobody`);
      if (b.onlyFrom.length) fail(`backend "${b.name}": onlyFrom needs a listenPort; the public frontends serve every client`);
      return;
    }
    this.checkListener(b.name, b.listenPort, b.trustForwardedFrom, b.onlyFrom, "backend");
  }

  private checkListener(name: string, port: number, trust: readonly string[], onlyFrom: readonly string[], what = "listener"): void {
    const fail = (message: string) => {
      throw new FarmValidationError(`${what} "${name}": ${message}`, this);
    };
    if (!BACKEND_NAME.test(name)) fail("the name must be lowercase letters, digits and '-'");
    if (what === "listener" && [...this.backends.map((b) => b.name), ...this.listeners.map((l) => l.name)].includes(name)) fail("the name is taken");
    if (!Number.isInteger(port) || port < 1024 || port > 65535) {
      fail(`listenPort must be 1024..65535 (the image runs as a non-root user), got ${port}`);
    }
    const taken = [CONTAINER.haproxyHttpPort, CONTAINER.haproxyHttpsPort, CONTAINER.haproxyStatsPort, ...this.backends.map((x) => x.listenPort), ...this.listeners.map((l) => l.listenPort)];
    if (taken.includes(port)) fail(`container port ${port} is already in use in the balancer`);
    for (const [key, list] of [["trustForwardedFrom", trust], ["onlyFrom", onlyFrom]] as const) {
      const bad = list.find((a) => !IPV4_ADDRESS.test(a));
      if (bad !== undefined) fail(`${key} takes IPv4 addresses, got "${bad}"`);
    }
  }

  private renderBackend(b: Backend): HaproxyBackend {
    return {
      name: b.name,
      servers: b.servers,
      listen: b.listenPort === undefined ? undefined : { bind: `:${b.listenPort}`, trustForwardedFrom: b.trustForwardedFrom, onlyFrom: b.onlyFrom },
    };
  }
}

/** Descriptors for `maxconn` connections: two each (client and node side) plus headroom for listeners, checks, logs. */
export function nofileFor(maxConnections: number): number {
  return 2 * maxConnections + 1024;
}
