import { TerraformOutput } from "cdktf";
import type { FarmConfig } from "../schema/schema";
import { DEFAULTS } from "../constructs/defaults";
import { HaproxyBalancer } from "../constructs/balancer/haproxy-balancer";
import { CreatioNodeSet } from "../constructs/creatio-nodes/creatio-node-set";
import { PostgresDatabase } from "../constructs/database/postgres-database";
import { DmzProxy } from "../constructs/dmz-proxy/dmz-proxy";
import { EndpointGroup, ENDPOINT_GROUPS, INTEGRATION_ENDPOINTS } from "../constructs/dmz-proxy/endpoints";
import { balancerBehindPortalProblem } from "../constructs/dmz-proxy/rules";
import { FarmValidationError } from "../constructs/lib/errors";
import { farmSubnets, OFFSETS } from "../constructs/networks/address-plan";
import { FarmNetwork } from "../constructs/networks/farm-network";
import { RedisCache } from "../constructs/redis/redis-cache";
import { FarmSecrets } from "../constructs/secrets/farm-secrets";
import type { CreatioFarmStack } from "./farm-stack";
import { nodeSetProps } from "./node-set-props";

type PortalConfig = NonNullable<FarmConfig["portal"]>;

/** What the stack hands to the portal: the farm's components, already built and wired. */
export interface PortalScope {
  readonly stack: CreatioFarmStack;
  readonly environment: string;
  readonly config: FarmConfig;
  readonly secrets: FarmSecrets;
  readonly balancer: HaproxyBalancer;
  readonly redis: RedisCache;
  readonly database: PostgresDatabase;
}

/**
 * The customer portal (`portal:` of an environment file): the DMZ network with the nginx proxy, portal nodes of their
 * own on a network of their own, their own route to Redis and PostgreSQL, their own database role, and the
 * balancer's DMZ-facing listeners that trust the proxy alone. The stack has generated the portal's secrets
 * (`secrets.enablePortal()`). Construct ids are Terraform addresses.
 */
export function addPortal(p: PortalScope, portal: PortalConfig): { proxy: DmzProxy; nodes: CreatioNodeSet } {
  const { stack, environment, config, secrets } = p;
  const portalAddress = portal.bindAddress ?? DEFAULTS.dmzProxy.bindAddress;
  const published = [
    ["bindAddress", config.balancer.bindAddress ?? DEFAULTS.balancer.bindAddress, "the internal site"],
    ["stats.bindAddress", config.balancer.stats?.bindAddress ?? DEFAULTS.balancer.stats.bindAddress, "the stats page"],
  ] as const;
  for (const [key, address, what] of published) {
    const problem = balancerBehindPortalProblem(address, portalAddress, what);
    if (problem) throw new FarmValidationError(`balancer ${key}: ${problem}`, p.balancer);
  }
  const subnets = farmSubnets(config.network);
  const dmz = new FarmNetwork(stack, "network-dmz", { name: `${environment}-dmz`, subnet: subnets.dmzSubnet, dmz: true });
  const portalNet = new FarmNetwork(stack, "network-portal", { name: `${environment}-portal`, subnet: subnets.portalSubnet, internal: true });
  const portalData = new FarmNetwork(stack, "network-portal-data", { name: `${environment}-portal-data`, subnet: subnets.portalDataSubnet, internal: true });

  const nodes = new CreatioNodeSet(stack, "portal", {
    ...nodeSetProps(environment, config, secrets),
    component: "portal",
    nodes: portal.nodes.map((n) => ({ name: n.name, weight: n.weight })),
    authProviders: portal.authProviders ?? DEFAULTS.portal.authProviders,
  });

  const endpoints = ENDPOINT_GROUPS.map((g) => g.key).filter((k) => portal.endpoints?.[k] === true) as EndpointGroup[];
  const proxy = new DmzProxy(stack, "dmz-proxy", {
    environment,
    image: portal.image,
    network: dmz,
    addressOffset: OFFSETS.dmzProxy,
    secrets,
    serverName: portal.publicHost,
    certificate: portal.certificate,
    bindAddress: portal.bindAddress,
    httpPort: portal.httpPort,
    httpsPort: portal.httpsPort,
    extraAllowedPrefixes: portal.extraAllowedPaths,
    endpoints,
    limits: portal.limits && {
      requestsPerSecond: portal.limits.requestsPerSecond,
      burst: portal.limits.burst,
      connectionsPerSource: portal.limits.connectionsPerSource,
      bodyMb: portal.limits.bodyMb,
      loginsPerMinute: portal.limits.loginsPerMinute,
    },
    hstsMaxAgeSeconds: portal.hstsMaxAgeSeconds,
    websocketIdleSeconds: portal.websocketIdleSeconds,
    resources: portal.resources && { memoryMb: portal.resources.memoryMb, cpus: portal.resources.cpus },
  });

  // The portal nodes behind a listener of their own, on the DMZ, that only the proxy may reach and trust.
  const fromProxy = { trustForwardedFrom: [proxy.address], onlyFrom: [proxy.address] };
  p.balancer.addBackend(nodes, { name: "portal", network: portalNet, listenPort: DEFAULTS.portal.balancerPortalPort, listenOn: dmz, ...fromProxy });
  proxy.forwardPortalTo({ address: p.balancer.addressOn(dmz)!, port: DEFAULTS.portal.balancerPortalPort });
  if (endpoints.length) {
    p.balancer.addListener({
      name: "integrations",
      backend: "creatio",
      listenPort: DEFAULTS.portal.balancerIntegrationPort,
      network: dmz,
      ...fromProxy,
      // The endpoints switched on, and nothing else, even if the proxy were taken over.
      allowPaths: endpoints.flatMap((g) => INTEGRATION_ENDPOINTS[g].map((e) => e.pathPattern)),
    });
    proxy.forwardIntegrationsTo({ address: p.balancer.addressOn(dmz)!, port: DEFAULTS.portal.balancerIntegrationPort });
  }
  p.redis.allowFrom(nodes, { network: portalData });
  p.database.allowFrom(nodes, { network: portalData, role: { user: portal.databaseUser ?? DEFAULTS.portal.databaseUser, password: "database-portal-password" } });

  new TerraformOutput(stack, "portal_url", { value: proxy.url });
  new TerraformOutput(stack, "user_management_sau_password", { value: secrets.reference("user-management-sau-password"), sensitive: true });
  return { proxy, nodes };
}
