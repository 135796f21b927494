import * as path from "path";
import { Construct } from "constructs";
import { CONTAINER, DEFAULTS, withDefaults } from "../defaults";
import { certificatePathProblem } from "../balancer/certificate-path";
import { HOST_NAME } from "../balancer/rules";
import { FarmValidationError } from "../lib/errors";
import { FarmContainer, IWorkload } from "../lib/farm-container";
import { farmImage } from "../lib/farm-image";
import { ResourceProps } from "../lib/resources";
import { FarmNetwork } from "../networks/farm-network";
import { IPV4_ADDRESS } from "../networks/ipv4";
import { FarmSecrets } from "../secrets/farm-secrets";
import { EndpointGroup, INTEGRATION_ENDPOINTS } from "./endpoints";
import { renderNginxConf } from "./render-nginx-conf";

export interface DmzProxyLimits {
  /** Requests per second one client address may send (then 429). @default 20 */
  readonly requestsPerSecond?: number;
  /** Requests above the rate answered at once before 429. @default 40 */
  readonly burst?: number;
  /** Open connections per client address. @default 50 */
  readonly connectionsPerSource?: number;
  /** Largest request body in MB (then 413). @default 20 */
  readonly bodyMb?: number;
  /** POSTs to the login service per minute and address. @default 10 */
  readonly loginsPerMinute?: number;
}

/** Where the proxy sends a kind of traffic: a balancer listener on the DMZ network. */
export interface ProxyTarget {
  readonly address: string;
  readonly port: number;
}

export interface DmzProxyProps {
  /** Environment name: prefixes the container name. */
  readonly environment: string;
  /** nginx image (official), pinned. */
  readonly image: string;
  /** The DMZ network: the proxy and the balancer's DMZ-facing listeners, nothing else. */
  readonly network: FarmNetwork;
  /** Host offset of the proxy on `network`. */
  readonly addressOffset: number;
  readonly secrets: FarmSecrets;
  /** Host name portal users use; every other Host and SNI is dropped. */
  readonly serverName: string;
  /** Path on the Docker host of a PEM with the chain and the key; its directory is mounted read-only. */
  readonly certificate: string;
  /** Host address the ports are published on. @default "0.0.0.0" */
  readonly bindAddress?: string;
  /** @default 80 */
  readonly httpPort?: number;
  /** @default 443 */
  readonly httpsPort?: number;
  /** Path prefixes (from `/` to `/`) portal pages use beyond the built-in list. @default - none */
  readonly extraAllowedPrefixes?: readonly string[];
  /** Public integration endpoints switched on, routed to the internal nodes. @default - none */
  readonly endpoints?: readonly EndpointGroup[];
  readonly limits?: DmzProxyLimits;
  /** @default 63072000 (two years) */
  readonly hstsMaxAgeSeconds?: number;
  /** How long SignalR's WebSocket may stay silent. @default 3600 */
  readonly websocketIdleSeconds?: number;
  /** @default - 256 MB, no CPU limit */
  readonly resources?: ResourceProps;
}

/**
 * The customer portal's reverse proxy in the DMZ (nginx, official image), the only component published to the
 * internet when a portal is deployed: TLS, one JSON log line per request, the portal's paths only (default deny),
 * configuration files refused however written, unknown hosts dropped, limits per client, and the integration
 * endpoints an environment switches on. `forwardPortalTo` and `forwardIntegrationsTo` name the balancer's
 * listeners it sends to (addresses on the DMZ network, known at synth).
 *
 * @example
 * const proxy = new DmzProxy(stack, "dmz-proxy", { environment: "prod", image: "nginx:1.27", network: dmz, addressOffset: 3,
 *   secrets, serverName: "portal.example.com", certificate: "/etc/creatio-farm/tls/portal.pem" });
 * proxy.forwardPortalTo({ address: "172.30.12.2", port: 8081 });
 */
export class DmzProxy extends Construct {
  public readonly container: IWorkload;
  /** The proxy's address on the DMZ network: the one source the balancer's portal listener trusts. */
  public readonly address: string;
  /** Where portal users go: `https://<serverName>[:<httpsPort>]/`. */
  public readonly url: string;
  private portal?: ProxyTarget;
  private integrations?: ProxyTarget;
  private token?: ProxyTarget & { readonly host: string };
  private readonly addressOffset: number;

  constructor(scope: Construct, id: string, props: DmzProxyProps) {
    super(scope, id);
    const defaults = DEFAULTS.dmzProxy;
    if (!HOST_NAME.test(props.serverName)) throw new FarmValidationError(`serverName: expected a host name such as portal.example.com, got "${props.serverName}"`, this);
    const certificateProblem = certificatePathProblem(props.certificate);
    if (certificateProblem) throw new FarmValidationError(`certificate: ${certificateProblem}, got "${props.certificate}"`, this);
    const bindAddress = props.bindAddress ?? defaults.bindAddress;
    if (!IPV4_ADDRESS.test(bindAddress)) throw new FarmValidationError(`bindAddress: expected an IPv4 address, got "${bindAddress}"`, this);
    const httpPort = props.httpPort ?? defaults.httpPort;
    const httpsPort = props.httpsPort ?? defaults.httpsPort;
    if (httpPort === httpsPort) throw new FarmValidationError(`httpsPort: expected a port other than httpPort (${httpPort})`, this);
    const limits = withDefaults<Required<DmzProxyLimits>>(defaults.limits, props.limits);
    const endpoints = [...new Set(props.endpoints ?? [])].sort().flatMap((g) => INTEGRATION_ENDPOINTS[g]);
    const certificate = `${CONTAINER.nginxCertDir}/${path.posix.basename(props.certificate)}`;

    const container = new FarmContainer(this, "container", {
      name: `${props.environment}-dmz-proxy`,
      image: farmImage(this, props.image),
      role: "edge",
      secrets: props.secrets,
      ports: [
        { internal: CONTAINER.nginxHttpPort, external: httpPort, ip: bindAddress, protocol: "tcp" },
        { internal: CONTAINER.nginxHttpsPort, external: httpsPort, ip: bindAddress, protocol: "tcp" },
      ],
      // Only the certificate's directory, read-only: the key stays on the Docker host.
      volumes: [{ hostPath: path.posix.dirname(props.certificate), containerPath: CONTAINER.nginxCertDir, readOnly: true }],
      // The master starts as root, creates its temp directories for the workers and drops them to nobody.
      capabilities: ["CHOWN", "SETGID", "SETUID"],
      // SIGQUIT is nginx's graceful stop: requests in flight finish first.
      stopSignal: "SIGQUIT",
      memoryMb: props.resources?.memoryMb ?? defaults.memoryMb,
      cpus: props.resources?.cpus,
    });
    this.container = container;
    this.address = container.attach(props.network, props.addressOffset);
    this.addressOffset = props.addressOffset;
    this.url = `https://${props.serverName}${httpsPort === 443 ? "" : `:${httpsPort}`}/`;
    container.addFile({
      path: "/etc/nginx/nginx.conf",
      format: "nginx",
      render: () =>
        renderNginxConf({
          serverName: props.serverName,
          httpPort: CONTAINER.nginxHttpPort,
          httpsPort: CONTAINER.nginxHttpsPort,
          publicHttpsPort: httpsPort,
          // The official image links both logs to the container's output: `docker logs` is the request log.
          accessLog: "/var/log/nginx/access.log",
          errorLog: "/var/log/nginx/error.log",
          pidFile: "/var/run/nginx.pid",
          certificate,
          portalUpstream: target(this.required(this.portal, "forwardPortalTo")),
          integrationUpstream: endpoints.length ? target(this.required(this.integrations, "forwardIntegrationsTo")) : undefined,
          tokenUpstream: this.token && { address: target(this.token), host: this.token.host },
          extraAllowedPrefixes: props.extraAllowedPrefixes ?? [],
          endpoints,
          limits,
          hstsMaxAgeSeconds: props.hstsMaxAgeSeconds ?? defaults.hstsMaxAgeSeconds,
          websocketIdleSeconds: props.websocketIdleSeconds ?? defaults.websocketIdleSeconds,
        }),
    });
  }

  /** The balancer's portal listener: portal pages and SignalR go there. */
  public forwardPortalTo(to: ProxyTarget): void {
    if (this.container.isRendered) throw new FarmValidationError("forwardPortalTo is called after nginx.conf was rendered (synth)", this);
    this.portal = to;
  }

  /** The balancer's listener for the integration endpoints (internal nodes). */
  public forwardIntegrationsTo(to: ProxyTarget): void {
    if (this.container.isRendered) throw new FarmValidationError("forwardIntegrationsTo is called after nginx.conf was rendered (synth)", this);
    this.integrations = to;
  }

  /**
   * Publishes an Identity Service's token endpoint (`POST /connect/token`) on the proxy's host name: the proxy joins
   * `network` (one the service is on, holding nothing else the proxy may reach) and calls the service there by its
   * address, with `host` (how the farm's nodes call it) as the Host header.
   */
  public forwardTokenEndpointTo(network: FarmNetwork, to: ProxyTarget & { readonly host: string }): void {
    if (this.container.isRendered) throw new FarmValidationError("forwardTokenEndpointTo is called after nginx.conf was rendered (synth)", this);
    if (this.token) throw new FarmValidationError("the token endpoint is already forwarded", this);
    this.container.attach(network, this.addressOffset);
    this.token = to;
  }

  private required(t: ProxyTarget | undefined, call: string): ProxyTarget {
    if (!t) throw new FarmValidationError(`the DMZ proxy has no upstream: call ${call} before synth`, this);
    return t;
  }
}

const target = (t: ProxyTarget) => `${t.address}:${t.port}`;
