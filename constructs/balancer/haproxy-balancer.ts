import { Construct } from "constructs";
import { CONTAINER, DEFAULTS } from "../defaults";
import { FarmContainer } from "../lib/farm-container";
import { farmImage } from "../lib/farm-image";
import { FarmValidationError } from "../lib/errors";
import { secretPlaceholder } from "../lib/secret-text";
import { FarmNetwork } from "../networks/farm-network";
import { OFFSETS } from "../networks/address-plan";
import { FarmSecrets } from "../secrets/farm-secrets";
import { CreatioNodeSet } from "../creatio-nodes/creatio-node-set";
import { HaproxyHealthCheck, renderHaproxyCfg } from "./render-haproxy-cfg";

/** Inside the official image the config lives here and the default command reads it. */
const CONFIG_PATH = "/usr/local/etc/haproxy/haproxy.cfg";
const STATS_CONTAINER_PORT = 9000;

export interface HaproxyBalancerProps {
  /** Environment name: prefixes the container name. */
  readonly environment: string;
  /** HAProxy image, 2.6 or newer, pinned. */
  readonly image: string;
  /** The network the balancer shares with the nodes. */
  readonly network: FarmNetwork;
  readonly secrets: FarmSecrets;
  /** Host port published for HTTP. @default 80 */
  readonly httpPort?: number;
  /** Host address the HTTP port is published on. @default "0.0.0.0" */
  readonly bindAddress?: string;
  /** HAProxy global maxconn; the container's nofile limit is derived from it. @default 4096 */
  readonly maxConnections?: number;
  /** @default - path /0/ping, Host localhost, every 2000 ms, fall 3, rise 2, timeout 5000 ms */
  readonly healthCheck?: Partial<HaproxyHealthCheck>;
  /** @default - port 9000 on 127.0.0.1, uri /haproxy_stats, user admin */
  readonly stats?: { readonly port?: number; readonly uri?: string; readonly user?: string; readonly bindAddress?: string };
}

/**
 * HAProxy in front of the Creatio nodes: roundrobin by weight, HTTP health checks, stats page behind a user and a
 * generated password. The only container of the farm that publishes host ports.
 *
 * @example
 * const balancer = new HaproxyBalancer(stack, "balancer", { environment: "dev", image: "haproxy:2.8", network: app, secrets });
 * balancer.addBackend(nodes);
 */
export class HaproxyBalancer extends Construct {
  public readonly container: FarmContainer;
  /** The balancer's address on the app network: what the nodes trust as their proxy. */
  public readonly address: string;
  private readonly backends: CreatioNodeSet[] = [];
  private readonly network: FarmNetwork;

  constructor(scope: Construct, id: string, props: HaproxyBalancerProps) {
    super(scope, id);
    this.network = props.network;
    const httpPort = props.httpPort ?? DEFAULTS.balancer.httpPort;
    const bindAddress = props.bindAddress ?? DEFAULTS.balancer.bindAddress;
    const maxConnections = props.maxConnections ?? DEFAULTS.balancer.maxConnections;
    const healthCheck = { ...DEFAULTS.balancer.healthCheck, ...props.healthCheck };
    const stats = { ...DEFAULTS.balancer.stats, ...props.stats };
    if (httpPort === stats.port) {
      throw new FarmValidationError(`HTTP and stats cannot both be published on host port ${httpPort}`, this);
    }

    this.container = new FarmContainer(this, "container", {
      name: `${props.environment}-haproxy`,
      image: farmImage(this, props.image),
      role: "edge",
      secrets: props.secrets,
      ports: [
        { internal: CONTAINER.haproxyHttpPort, external: httpPort, ip: bindAddress, protocol: "tcp" },
        { internal: STATS_CONTAINER_PORT, external: stats.port, ip: stats.bindAddress, protocol: "tcp" },
      ],
      // HAProxy needs about two descriptors per connection plus its own; it refuses to start when it cannot
      // raise the limit to what maxconn implies.
      ulimit: [{ name: "nofile", soft: 2 * maxConnections + 1024, hard: 2 * maxConnections + 1024 }],
      // SIGUSR1 is HAProxy's graceful stop: established connections finish first.
      stopSignal: "SIGUSR1",
    });
    this.address = this.container.attach(props.network, OFFSETS.balancer);

    this.container.addFile(CONFIG_PATH, () =>
      renderHaproxyCfg({
        environment: props.environment,
        maxConnections,
        httpBind: `:${CONTAINER.haproxyHttpPort}`,
        healthCheck,
        servers: this.backends.flatMap((set) =>
          set.members.map((m) => ({
            name: m.name,
            address: m.container.addressOn(props.network)!,
            port: set.httpPort,
            weight: m.weight,
          })),
        ),
        stats: {
          bind: `:${STATS_CONTAINER_PORT}`,
          uri: stats.uri,
          user: stats.user,
          passwordHash: secretPlaceholder("stats-password-hash"),
        },
      }),
    );

    this.node.addValidation({
      validate: () => (this.backends.length ? [] : ["the balancer has no backend: call balancer.addBackend(nodes)"]),
    });
  }

  /**
   * Puts a node set behind the balancer: attaches the nodes to the balancer's network, adds one server per node
   * with the node's weight, and makes every node trust this balancer's address for X-Forwarded-For.
   */
  public addBackend(nodes: CreatioNodeSet): void {
    if (this.backends.includes(nodes)) {
      throw new FarmValidationError(`${nodes.node.path} is already a backend of this balancer`, this);
    }
    nodes.attachTo(this.network);
    nodes.trustProxy(this.address);
    this.backends.push(nodes);
  }
}
