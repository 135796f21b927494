/**
 * `app/` maps the environment file to props key by key. A key it forgot would be accepted by the schema and then
 * silently ignored. Here every leaf key of the published JSON Schema is set to a value other than its default, and
 * the synthesized stack must change; a new key without a value in this table fails the first test.
 */
import * as fs from "fs";
import * as path from "path";
import { FarmConfigInput } from "../../schema/schema";
import { config, minimalInput, REPO, synthFarmStack } from "../support/farm";

/** A valid value other than the default (or than the baseline's) for every leaf key; `[]` stands for "each item". */
const NON_DEFAULT: Record<string, unknown> = {
  "docker.host": "ssh://deploy@docker-2.example.com",
  "network.appSubnet": "172.30.20.0/24",
  "network.dataSubnet": "172.30.21.0/24",
  "creatio.image": "registry.example.com/creatio-net8:8.3.2",
  "creatio.tenantId": 2,
  "creatio.httpPort": 5001,
  "creatio.appDir": "/opt/creatio",
  "creatio.nodes[].name": "node-9",
  "creatio.nodes[].weight": 5,
  "creatio.resources.memoryMb": 4096,
  "creatio.resources.cpus": 1.5,
  "balancer.resources.memoryMb": 512,
  "balancer.resources.cpus": 0.5,
  "redis.resources.memoryMb": 512,
  "redis.resources.cpus": 0.5,
  "database.resources.memoryMb": 2048,
  "database.resources.cpus": 1,
  "balancer.image": "haproxy:2.9",
  "balancer.httpPort": 8080,
  "balancer.bindAddress": "127.0.0.2",
  "balancer.maxConnections": 5000,
  "balancer.publicHost": "crm2.example.com",
  "balancer.limits.connectionsPerSource": 201,
  "balancer.limits.requestsPer10sPerSource": 2001,
  "balancer.limits.websocketsPerSource": 51,
  "balancer.limits.requestBodyMb": 101,
  "balancer.limits.requestsPerNode": 101,
  "balancer.limits.tlsHandshakeSeconds": 6,
  "balancer.limits.exemptSources[]": "203.0.113.0/24",
  "balancer.tls.certificate": "/etc/creatio-farm/tls/other.pem",
  "balancer.tls.port": 8443,
  "balancer.tls.redirectHttp": false,
  "balancer.tls.hstsMaxAgeSeconds": 0,
  "balancer.timeouts.clientSeconds": 61,
  "balancer.timeouts.serverSeconds": 61,
  "balancer.timeouts.longOperationSeconds": 901,
  "balancer.timeouts.longOperationPaths[]": "/ServiceModel/Other.svc/",
  "balancer.timeouts.websocketIdleSeconds": 3601,
  "balancer.healthCheck.path": "/0/ping",
  "balancer.healthCheck.host": "crm.example.com",
  "balancer.healthCheck.intervalMs": 3000,
  "balancer.healthCheck.fall": 4,
  "balancer.healthCheck.rise": 3,
  "balancer.healthCheck.timeoutMs": 6000,
  "balancer.stats.port": 9001,
  "balancer.stats.uri": "/stats",
  "balancer.stats.user": "ops",
  "balancer.stats.bindAddress": "127.0.0.2",
  "balancer.stats.metricsPath": "/prom",
  "balancer.stats.failedLoginsPerMinute": 11,
  "balancer.stats.admin": true,
  "redis.image": "redis:7.4",
  "redis.db": 1,
  "redis.maxMemoryMb": 2048,
  "redis.tls.enabled": false,
  "redis.tls.certificateDays": 400,
  "database.image": "postgres:17",
  "database.name": "crm",
  "database.user": "crm",
  "database.maxConnections": 600,
  "database.nodePoolSize": 40,
  "database.restore.backup": "/srv/creatio/db/BPMonline831.backup",
  "database.restore.typeCasts": "/srv/creatio/db/CreateTypeCastsPostgreSql.sql",
  "network.dmzSubnet": "172.30.22.0/24",
  "network.portalSubnet": "172.30.23.0/24",
  "network.portalDataSubnet": "172.30.24.0/24",
  "portal.image": "nginx:1.28",
  "portal.publicHost": "portal2.example.com",
  "portal.certificate": "/etc/creatio-farm/tls/portal2.pem",
  "portal.bindAddress": "203.0.113.5",
  "portal.httpPort": 81,
  "portal.httpsPort": 444,
  "portal.nodes[].name": "portal-9",
  "portal.nodes[].weight": 3,
  "portal.databaseUser": "crm_portal",
  "portal.authProviders[]": "SSPSsoAuthProvider",
  "portal.extraAllowedPaths[]": "/custom/",
  "portal.endpoints.bulkEmail": false,
  "portal.endpoints.webForms": true,
  "portal.endpoints.chats": true,
  "portal.endpoints.scim": true,
  "portal.limits.requestsPerSecond": 21,
  "portal.limits.burst": 41,
  "portal.limits.connectionsPerSource": 51,
  "portal.limits.bodyMb": 21,
  "portal.limits.loginsPerMinute": 11,
  "portal.hstsMaxAgeSeconds": 0,
  "portal.websocketIdleSeconds": 60,
  "network.identityEdgeSubnet": "172.30.25.0/24",
  "identityService.image": "registry.example.com/creatio-identity-service:8.3.2",
  "identityService.logLevel": "Debug",
  "identityService.databaseUser": "crm_identity",
  "identityService.publishTokenEndpoint": false,
  "identityService.certificateDays": 365,
  "identityService.resources.memoryMb": 1024,
  "identityService.resources.cpus": 0.5,
  systemSettings: { SiteUrl: "https://crm2.example.com" },
  "portal.resources.memoryMb": 512,
  "portal.resources.cpus": 0.5,
};

/** Keys with no other value to set, and why. */
const NO_OTHER_VALUE: Record<string, string> = {
  "creatio.quartz": "removed: a file that has it is refused",
  "database.engine": "postgres is its only value in this version",
};

function leafKeys(node: any, prefix = ""): string[] {
  if (node.properties) return Object.entries(node.properties).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
  if (node.type === "array" && node.items) return leafKeys(node.items, `${prefix}[]`);
  return [prefix];
}

/**
 * The baseline: the minimal environment with TLS on (balancer and Redis), a restore, a portal with one endpoint
 * on, and the Identity Service with its token endpoint published, so the tls, restore, portal and identityService
 * keys have something to change.
 */
function baseline(): FarmConfigInput {
  const input = minimalInput();
  return {
    ...input,
    balancer: { ...input.balancer, bindAddress: "10.0.0.5", publicHost: "crm.example.com", tls: { certificate: "/etc/creatio-farm/tls/crm.pem" } },
    redis: { ...input.redis, tls: { enabled: true } },
    database: { ...input.database, restore: { backup: "/srv/creatio/db/a.backup", typeCasts: "/srv/creatio/db/casts.sql" } },
    portal: {
      image: "nginx:1.27",
      publicHost: "portal.example.com",
      certificate: "/etc/creatio-farm/tls/portal.pem",
      bindAddress: "198.51.100.7",
      nodes: [{ name: "portal-1" }],
      endpoints: { bulkEmail: true },
    },
    identityService: { image: "registry.example.com/creatio-identity-service:8.3.1", publishTokenEndpoint: true },
  };
}

function withKey(input: FarmConfigInput, key: string, value: unknown): FarmConfigInput {
  const copy = structuredClone(input) as any;
  const parts = key.split(".");
  let targets: any[] = [copy];
  for (const part of parts.slice(0, -1)) {
    targets = targets.flatMap((t) => {
      const name = part.replace(/\[\]$/, "");
      t[name] ??= {};
      return part.endsWith("[]") ? t[name] : [t[name]];
    });
  }
  const last = parts[parts.length - 1];
  if (last.endsWith("[]")) {
    // A list of plain values: the list becomes that one value.
    targets.forEach((t) => (t[last.slice(0, -2)] = [value]));
    return copy;
  }
  // A list item's key changes the first item only, so names stay unique.
  (key.includes("[]") ? targets.slice(0, 1) : targets).forEach((t) => (t[last] = value));
  return copy;
}

const stackJson = (input: FarmConfigInput) => synthFarmStack(config(input)).json;

test("every leaf key of the published schema has a value in this table (or a reason it has none)", () => {
  const schema = JSON.parse(fs.readFileSync(path.join(REPO, "config/creatio-farm.schema.json"), "utf8"));
  expect(leafKeys(schema).sort()).toEqual([...Object.keys(NON_DEFAULT), ...Object.keys(NO_OTHER_VALUE)].sort());
});

const base = stackJson(baseline());
test.each(Object.entries(NON_DEFAULT))("%s = %j changes the synthesized stack", (key, value) => {
  expect(stackJson(withKey(baseline(), key, value))).not.toBe(base);
});

test("a balancer given only a certificate gets the documented TLS defaults: port 443, HTTP redirected, two years of HSTS", () => {
  const { tf } = synthFarmStack(config(baseline()));
  const haproxy = Object.values<any>(tf.resource.docker_container).find((c) => c.name === "test-haproxy");
  expect(haproxy.ports.map((p: any) => [p.internal, p.external])).toContainEqual([8443, 443]);
  const job = Object.values<any>(tf.resource.docker_container).find((c) => c.name === "test-haproxy-config");
  const cfg: string = job.upload.find((u: any) => u.file.endsWith("/haproxy.cfg")).content;
  expect(cfg).toMatch(/\n    http-request redirect location \S+ code 301\n/);
  expect(cfg).toContain('http-after-response set-header Strict-Transport-Security "max-age=63072000"');
});
