/**
 * The published JSON Schema (config/creatio-farm.schema.json, what editors check against) and synth agree: one
 * corpus of environment files goes to a real validator (ajv, JSON Schema 2020-12) and to synth's loader. Where
 * they disagree, the case must be one JSON Schema cannot express (a rule between keys), listed below with the
 * schema description that tells the reader about it.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv2020 from "ajv/dist/2020";
import { parse } from "yaml";
import { loadEnvironment } from "../../schema/load";
import { REPO } from "../support/farm";

const schema = JSON.parse(fs.readFileSync(path.join(REPO, "config/creatio-farm.schema.json"), "utf8"));
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

const BASE = `creatio:
  image: registry.example.com/creatio-net8:8.3.1
  nodes: [{ name: node-1 }, { name: node-2 }]
balancer: { image: haproxy:3.0 }
redis: { image: redis:7.2 }
database: { image: postgres:16 }
`;

/** The base file with one line replaced or added (`key: value` under a section is written as YAML flow). */
const variant = (from: string, to: string) => {
  if (!BASE.includes(from)) throw new Error(`not in the base file: ${from}`);
  return BASE.replace(from, to);
};

/** The Identity Service section. */
const IDS = "identityService: { image: registry.example.com/creatio-identity-service:8.3.1 }\n";

/** [name, file, valid for synth]. */
const CORPUS: Array<[string, string, boolean]> = [
  ["the base file", BASE, true],
  ["image with a digest", variant("haproxy:3.0", "haproxy@sha256:" + "a".repeat(64)), true],
  ["image from a registry with a port", variant("registry.example.com/creatio-net8:8.3.1", "registry.example.com:5000/creatio:8.3.1"), true],
  ["image without a tag (implicit latest)", variant("redis:7.2", "redis"), false],
  ["image :latest", variant("redis:7.2", "redis:latest"), false],
  ["image with a space", variant("redis:7.2", '"redis 7.2"'), false],
  ["image with a port but no tag", variant("registry.example.com/creatio-net8:8.3.1", "registry.example.com:5000/creatio"), false],
  ["HAProxy 2.6", variant("haproxy:3.0", "haproxy:2.6"), false],
  ["HAProxy 2.8", variant("haproxy:3.0", "haproxy:2.8"), true],
  ["HAProxy 2.10", variant("haproxy:3.0", "haproxy:2.10-alpine"), true],
  ["PostgreSQL 15", variant("postgres:16", "postgres:15"), false],
  ["PostgreSQL 17.2-bookworm", variant("postgres:16", "postgres:17.2-bookworm"), true],
  ["PostgreSQL 18beta1", variant("postgres:16", "postgres:18beta1"), false],
  ["PostgreSQL 18", variant("postgres:16", "postgres:18"), false],
  ["subnet outside the private ranges", `network: { appSubnet: 8.8.8.0/24 }\n${BASE}`, false],
  ["subnet 127.0.0.0/16", `network: { appSubnet: 127.0.0.0/16 }\n${BASE}`, false],
  ["subnet 0.0.0.0/16", `network: { appSubnet: 0.0.0.0/16 }\n${BASE}`, false],
  ["subnet 224.0.0.0/24", `network: { dataSubnet: 224.0.0.0/24 }\n${BASE}`, false],
  ["subnet /8 (too large)", `network: { appSubnet: 10.0.0.0/8 }\n${BASE}`, false],
  ["subnet /30 (too small)", `network: { appSubnet: 10.0.0.0/30 }\n${BASE}`, false],
  ["subnet with host bits set", `network: { appSubnet: 10.1.2.3/24 }\n${BASE}`, false],
  ["private subnets of their own", `network: { appSubnet: 10.1.0.0/24, dataSubnet: 192.168.7.0/24 }\n${BASE}`, true],
  ["certificate under /etc directly", variant("haproxy:3.0 }", "haproxy:3.0, publicHost: crm.example.com, tls: { certificate: /etc/crm.pem } }"), false],
  ["certificate under /var/lib/docker", variant("haproxy:3.0 }", "haproxy:3.0, publicHost: crm.example.com, tls: { certificate: /var/lib/docker/x/crm.pem } }"), false],
  ["certificate under /run", variant("haproxy:3.0 }", "haproxy:3.0, publicHost: crm.example.com, tls: { certificate: /run/crm.pem } }"), false],
  ["certificate path with ..", variant("haproxy:3.0 }", "haproxy:3.0, publicHost: crm.example.com, tls: { certificate: /srv/../etc/crm.pem } }"), false],
  ["certificate in a directory of its own", variant("haproxy:3.0 }", "haproxy:3.0, publicHost: crm.example.com, tls: { certificate: /etc/creatio-farm/tls/crm.pem } }"), true],
  ["database name postgres", variant("postgres:16 }", "postgres:16, name: postgres }"), false],
  ["database name template1", variant("postgres:16 }", "postgres:16, name: template1 }"), false],
  ["database user postgres", variant("postgres:16 }", "postgres:16, user: postgres }"), false],
  ["database user pg_monitor", variant("postgres:16 }", "postgres:16, user: pg_monitor }"), false],
  ["database user public", variant("postgres:16 }", "postgres:16, user: public }"), false],
  ["database name and user of their own", variant("postgres:16 }", "postgres:16, name: crm, user: crm_app }"), true],
  ["appDir /", variant("  nodes:", "  appDir: /\n  nodes:"), false],
  ["appDir with ..", variant("  nodes:", "  appDir: /opt/../app\n  nodes:"), false],
  ["appDir of 5,000 characters", variant("  nodes:", `  appDir: /${"a".repeat(5000)}\n  nodes:`), false],
  ["appDir /opt/creatio", variant("  nodes:", "  appDir: /opt/creatio\n  nodes:"), true],
  ["docker.host over ssh", `docker: { host: "ssh://deploy@docker-1.example.com:2222" }\n${BASE}`, true],
  ["docker.host tcp 2375", `docker: { host: "tcp://docker-1.example.com:2375" }\n${BASE}`, false],
  ["docker.host tcp 02375", `docker: { host: "tcp://docker-1.example.com:02375" }\n${BASE}`, false],
  ["docker.host https", `docker: { host: "https://docker-1.example.com" }\n${BASE}`, false],
  ["unknown key", `${BASE}extra: 1\n`, false],
  ["an x- key for anchors", `x-shared: &img { image: redis:7.2 }\n${BASE.replace("redis: { image: redis:7.2 }", "redis: { <<: *img }")}`, true],
  ["a node name with capitals", variant("{ name: node-2 }", "{ name: Node-2 }"), false],
  ["a weight of 0", variant("{ name: node-2 }", "{ name: node-2, weight: 0 }"), false],
  ["redis tls with a certificate of 30 days", variant("redis: { image: redis:7.2 }", "redis: { image: redis:7.2, tls: { enabled: true, certificateDays: 30 } }"), false],
  ["stats uri equal to the metrics path", variant("haproxy:3.0 }", "haproxy:3.0, stats: { uri: /metrics } }"), false],
  ["two nodes with one name", variant("{ name: node-2 }", "{ name: node-1 }"), false],
  ["stats port equal to the HTTP port", variant("haproxy:3.0 }", "haproxy:3.0, httpPort: 9000, stats: { port: 9000 } }"), false],
  ["data subnet overlapping the app subnet", `network: { appSubnet: 10.1.0.0/16, dataSubnet: 10.1.2.0/24 }\n${BASE}`, false],
  ["tls redirect without publicHost", variant("haproxy:3.0 }", "haproxy:3.0, tls: { certificate: /etc/creatio-farm/tls/crm.pem } }"), false],
  ["more nodes than the subnet holds", `network: { appSubnet: 10.1.0.0/28 }\n${BASE.replace("[{ name: node-1 }, { name: node-2 }]", `[${Array.from({ length: 5 }, (_, i) => `{ name: n${i} }`).join(", ")}]`)}`, false],
  ["database connections too few for the nodes", variant("postgres:16 }", "postgres:16, maxConnections: 20, nodePoolSize: 50 }"), false],
  ["a portal beside a balancer on its own address", withPortal("", "10.0.0.5"), true],
  ["a portal extra path without a trailing /", withPortal("extraAllowedPaths: [/custom]", "10.0.0.5"), false],
  ["a portal extra path of / alone", withPortal("extraAllowedPaths: [/]", "10.0.0.5"), false],
  ["a portal provider that is not a portal users' one", withPortal("authProviders: [InternalUserPassword]", "10.0.0.5"), false],
  ["a portal role named like a reserved one", withPortal("databaseUser: pg_portal", "10.0.0.5"), false],
  ["a portal beside a balancer on 0.0.0.0", withPortal("", "0.0.0.0"), false],
  ["a portal extra path that is built in", withPortal("extraAllowedPaths: [/Login/]", "10.0.0.5"), false],
  ["a portal beside stats published on 0.0.0.0", withPortal("", "10.0.0.5, stats: { bindAddress: 0.0.0.0 }"), false],
  ["a portal whose default role is the nodes' role", withPortal("", "10.0.0.5").replace("postgres:16 }", "postgres:16, user: creatio_portal }"), false],
  ["a portal whose HTTP port is the default HTTPS port", withPortal("httpPort: 443", "10.0.0.5"), false],
  ["the Identity Service", `${BASE}${IDS}`, true],
  ["the Identity Service with a reserved role", `${BASE}${IDS.replace(" }", ", databaseUser: pg_ids }")}`, false],
  ["the Identity Service with a log level .NET does not have", `${BASE}${IDS.replace(" }", ", logLevel: Verbose }")}`, false],
  ["the Identity Service's token endpoint published without a portal", `${BASE}${IDS.replace(" }", ", publishTokenEndpoint: true }")}`, false],
  ["the Identity Service's token endpoint published beside a portal", `${withPortal("", "10.0.0.5")}${IDS.replace(" }", ", publishTokenEndpoint: true }")}`, true],
  ["the Identity Service's role the nodes' role", `${BASE}${IDS.replace(" }", ", databaseUser: creatio }")}`, false],
  ["system settings of each type", `${BASE}systemSettings: { SiteUrl: https://crm.example.com, Enabled: true, Max: 3 }\n`, true],
  ["a system setting code with a space", `${BASE}systemSettings: { "Site Url": x }\n`, false],
  ["a system setting whose value is a list", `${BASE}systemSettings: { SiteUrl: [a] }\n`, false],
  ["an OAuth setting beside the Identity Service", `${BASE}${IDS}systemSettings: { OAuth20IdentityServerClientId: x }\n`, false],
];


/** The base file with a portal (published on 198.51.100.7) and the balancer on `balancerAddress`. */
function withPortal(extra: string, balancerAddress: string): string {
  const portal = `portal: { image: nginx:1.27, publicHost: portal.example.com, certificate: /etc/creatio-farm/tls/portal.pem, bindAddress: 198.51.100.7, nodes: [{ name: p1 }]${extra ? `, ${extra}` : ""} }\n`;
  return variant("haproxy:3.0 }", `haproxy:3.0, bindAddress: ${balancerAddress} }`) + portal;
}

/**
 * Rules between keys, which JSON Schema cannot express: the schema's description of the file names each of them
 * (checked below), and synth reports them with the key to change.
 */
const BETWEEN_KEYS: Record<string, string> = {
  "two nodes with one name": "node names unique",
  "stats port equal to the HTTP port": "host ports distinct",
  "data subnet overlapping the app subnet": "subnets apart",
  "tls redirect without publicHost": "publicHost with tls.redirectHttp",
  "more nodes than the subnet holds": "nodes fit the subnets",
  "database connections too few for the nodes": "maxConnections covers the nodes' pools",
  "stats uri equal to the metrics path": "metricsPath other than stats.uri",
  "a portal beside a balancer on 0.0.0.0": "balancer.bindAddress and balancer.stats.bindAddress neither 0.0.0.0 nor portal.bindAddress",
  "a portal extra path that is built in": "extraAllowedPaths not built in",
  "a portal beside stats published on 0.0.0.0": "balancer.bindAddress and balancer.stats.bindAddress neither 0.0.0.0 nor portal.bindAddress",
  "a portal whose default role is the nodes' role": "portal.databaseUser other than database.user",
  "a portal whose HTTP port is the default HTTPS port": "host ports distinct (httpPort, tls.port, stats.port, portal.httpPort, portal.httpsPort)",
  "the Identity Service's token endpoint published without a portal": "identityService.publishTokenEndpoint needs a portal",
  "the Identity Service's role the nodes' role": "identityService.databaseUser other than database.user and portal.databaseUser",
  "an OAuth setting beside the Identity Service": "with identityService, systemSettings without the OAuth20IdentityServer codes",
};

test.each(CORPUS)("%s: schema and synth agree", (name, text, synthValid) => {
  const synth = loadEnvironment("config/dev.yaml", text);
  // synth's verdict is what the corpus says it is
  expect([name, synth.ok, synth.ok ? [] : synth.errors]).toEqual([name, synthValid, synthValid ? [] : expect.any(Array)]);
  // one line per problem, each saying once what it got
  if (!synth.ok) for (const line of synth.errors) expect(line.split(", got ").length).toBeLessThanOrEqual(2);
  const editor = validate(parse(text, { merge: true }));
  const expected = BETWEEN_KEYS[name] ? true : synthValid;
  expect([name, editor, editor ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message}`)]).toEqual([name, expected, expected ? [] : expect.any(Array)]);
});

test("each rule JSON Schema cannot express is named in the schema's description of the file", () => {
  for (const rule of Object.values(BETWEEN_KEYS)) expect([rule, String(schema.description)]).toEqual([rule, expect.stringContaining(rule)]);
});
