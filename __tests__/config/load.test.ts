import YAML from "yaml";
import { loadEnvironment } from "../../schema/load";

const VALID = `creatio:
  image: registry.example.com/creatio-net8:8.3.1
  tenantId: 1
  nodes:
    - { name: node-1, weight: 2 }
    - { name: node-2, weight: 1 }
balancer:
  image: haproxy:2.8
  httpPort: 80
  healthCheck: { path: /0/ping, intervalMs: 2000, fall: 3, rise: 2 }
  stats: { port: 9000, uri: /haproxy_stats, user: admin }
redis: { image: redis:7.2, db: 0 }
database: { engine: postgres, image: postgres:16, name: creatio, user: creatio }
`;

/** VALID with one line replaced (1-based), so every expected line number is visible in the test. */
function withLine(line: number, text: string): string {
  const lines = VALID.split("\n");
  lines[line - 1] = text;
  return lines.join("\n");
}

/** VALID with TLS on line 10 and, on line 9 (httpPort 80, the default anyway), the host the redirect names. */
function withTls(tlsLine: string): string {
  return withLine(10, tlsLine).replace("  httpPort: 80\n", "  publicHost: crm.example.com\n");
}

function errorsOf(text: string, file = "config/dev.yaml"): string[] {
  const result = loadEnvironment(file, text);
  if (result.ok) throw new Error("expected the config to be rejected");
  return result.errors;
}

describe("config: accepted", () => {
  test("the issue's example is taken as written: the schema adds no default (the constructs apply them, once)", () => {
    // WHEN
    const result = loadEnvironment("config/dev.yaml", VALID);
    // THEN
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.environment.name).toBe("dev");
    expect(result.environment.config).toEqual(YAML.parse(VALID));
  });

  test("TLS given only its certificate stays so; the balancer fills in the rest", () => {
    const result = loadEnvironment("config/dev.yaml", withTls("  tls: { certificate: /etc/creatio-farm/tls/crm.example.com.pem }"));
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(result.environment.config.balancer.tls).toEqual({ certificate: "/etc/creatio-farm/tls/crm.example.com.pem" });
  });
});

describe("config: rejected, one line per problem with file, line and key path", () => {
  test("a weight that is not an integer (the issue's example message)", () => {
    expect(errorsOf(withLine(6, "    - { name: node-2, weight: heavy }"))).toEqual([
      'config/dev.yaml:6 creatio.nodes[1].weight: expected an integer 1..256, got "heavy"',
    ]);
  });

  test.each([
    [0, "0"],
    [257, "257"],
    [1.5, "1.5"],
  ])("a weight out of HAProxy's range: %s", (weight, shown) => {
    expect(errorsOf(withLine(5, `    - { name: node-1, weight: ${weight} }`))).toEqual([
      `config/dev.yaml:5 creatio.nodes[0].weight: expected an integer 1..256, got ${shown}`,
    ]);
  });

  test("an unknown key names the keys that are accepted", () => {
    expect(errorsOf(withLine(3, "  tenantid: 1"))).toEqual([
      "config/dev.yaml:3 creatio.tenantid: unknown key; expected one of: image, tenantId, httpPort, appDir, resources, nodes",
    ]);
  });

  test("an unknown top-level section", () => {
    expect(errorsOf(`${VALID}rabbitmq: { image: rabbitmq:3 }\n`)).toEqual([
      "config/dev.yaml:14 rabbitmq: unknown key; expected one of: docker, network, creatio, balancer, redis, database, portal, identityService, systemSettings",
    ]);
  });

  test("a wrong type", () => {
    expect(errorsOf(withLine(9, "  httpPort: eighty"))).toEqual([
      'config/dev.yaml:9 balancer.httpPort: expected a TCP port 1..65535, got "eighty"',
    ]);
  });

  test("a missing required key points at its parent", () => {
    expect(errorsOf(withLine(8, "  bindAddress: 0.0.0.0"))).toEqual([
      "config/dev.yaml:7 balancer.image: expected an image reference such as haproxy:2.8, got nothing",
    ]);
  });

  test("duplicate node names", () => {
    expect(errorsOf(withLine(6, "    - { name: node-1, weight: 1 }"))).toEqual([
      'config/dev.yaml:6 creatio.nodes[1].name: duplicate node name "node-1" (already used by creatio.nodes[0].name)',
    ]);
  });

  test.each(["{ instanceId: AUTO }", "{ instanceId: auto }"])("creatio.quartz, which older versions took, says it was removed and what to do: %s", (value) => {
    expect(errorsOf(withLine(3, `  quartz: ${value}`))).toEqual([
      "config/dev.yaml:3 creatio.quartz: creatio.quartz was removed: every node gets instanceId AUTO, clustered and acquireTriggersWithinLock in every scheduler; delete the key",
    ]);
  });

  test("a port clash between published ports", () => {
    expect(errorsOf(withLine(11, "  stats: { port: 80, uri: /haproxy_stats, user: admin }"))).toEqual([
      "config/dev.yaml:11 balancer.stats.port: host port 80 is already published by balancer.httpPort",
    ]);
  });

  test("the HTTPS port clashes with another published port", () => {
    expect(errorsOf(withTls("  tls: { certificate: /etc/creatio-farm/tls/crm.pem, port: 80 }"))).toEqual([
      "config/dev.yaml:10 balancer.tls.port: host port 80 is already published by balancer.httpPort",
    ]);
  });

  test.each([
    ["crm.pem", "a relative path"],
    ["/crm.pem", "a file directly in / (its directory is what gets mounted)"],
    ["/etc/tls/crm.crt", "not a .pem"],
    ["/etc/tls/../crm.pem", "a '..' segment"],
    ['"/etc/my tls/crm.pem"', "a space HAProxy would split on"],
  ])("a TLS certificate path that cannot work: %s (%s)", (certificate) => {
    const [error] = errorsOf(withTls(`  tls: { certificate: ${certificate} }`));
    expect(error).toMatch(
      /^config\/dev\.yaml:10 balancer\.tls\.certificate: expected an absolute path on the Docker host to a \.pem file \(chain and key\) in a directory other than \/, .*, got "/,
    );
  });

  test.each(["/etc/crm.pem", "/run/crm.pem", "/root/crm.pem", "/var/lib/docker/volumes/x/crm.pem", "/proc/self/crm.pem", "/home/crm.pem"])(
    "a certificate whose directory is a system directory (the whole directory would be mounted into the balancer): %s",
    (certificate) => {
      const dir = certificate.slice(0, certificate.lastIndexOf("/"));
      expect(errorsOf(withTls(`  tls: { certificate: ${certificate} }`))).toEqual([
        `config/dev.yaml:10 balancer.tls.certificate: expected the certificate in a directory of its own (e.g. /etc/creatio-farm/tls): its directory, ${dir}, is what gets mounted into the balancer, got "${certificate}"`,
      ]);
    },
  );

  test.each([
    ["/", "/", '"/"'],
    ["/app/../etc", "/app/../etc", '"/app/../etc"'],
    ["/app/./x", "/app/./x", '"/app/./x"'],
    ["app", "app", '"app"'],
    // a very long value is shown by its start and length
    ["5,000 characters", `/${"a".repeat(4999)}`, `"/${"a".repeat(79)}…" (5000 characters)`],
  ])("an appDir that cannot be the application root: %s", (_, appDir, got) => {
    expect(errorsOf(withLine(3, `  appDir: ${appDir}`))).toEqual([
      `config/dev.yaml:3 creatio.appDir: expected an absolute directory path below / such as /app (letters, digits, '.', '_', '-'; no '.' or '..' segments; at most 200 characters), got ${got}`,
    ]);
  });

  test.each(["postgres:18beta1", "postgres:18rc1-bookworm", "postgres:19"])("a PostgreSQL image from 18 on, however its tag goes on: %s", (image) => {
    const [error] = errorsOf(VALID.replace("image: postgres:16", `image: ${image}`));
    expect(error).toMatch(/^config\/dev\.yaml:13 database\.image: expected PostgreSQL 16 or 17: from 1[89] the image keeps data under/);
  });

  test.each(["0.0.0.0/16", "127.0.0.0/16", "224.0.0.0/24", "169.254.0.0/16", "8.8.0.0/16"])("a farm subnet outside the private ranges: %s", (subnet) => {
    expect(errorsOf(`network: { appSubnet: ${subnet} }\n${VALID}`)).toEqual([
      `config/dev.yaml:1 network.appSubnet: expected a private network (inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16), got "${subnet}"`,
    ]);
  });

  test("TLS without a certificate", () => {
    expect(errorsOf(withTls("  tls: { port: 443 }"))).toEqual([
      "config/dev.yaml:10 balancer.tls.certificate: expected a path on the Docker host such as /etc/creatio-farm/tls/crm.example.com.pem, got nothing",
    ]);
  });

  test("redirectHttp must be a boolean, not a string", () => {
    expect(errorsOf(withTls('  tls: { certificate: /etc/tls/crm.pem, redirectHttp: "yes" }'))).toEqual([
      'config/dev.yaml:10 balancer.tls.redirectHttp: expected true or false, got "yes"',
    ]);
  });

  test("a redirect to HTTPS without the host it should name (the client's Host would make it an open redirect)", () => {
    expect(errorsOf(withLine(10, "  tls: { certificate: /etc/tls/crm.pem }"))).toEqual([
      "config/dev.yaml:7 balancer.publicHost: required when tls.redirectHttp is on (the default with tls): the redirect to HTTPS names this host, never the client's Host header",
    ]);
    // without the redirect, no host is needed
    expect(loadEnvironment("config/dev.yaml", withLine(10, "  tls: { certificate: /etc/tls/crm.pem, redirectHttp: false }")).ok).toBe(true);
  });

  test.each([
    ["haproxy:2.6", "2.6"],
    ["haproxy:2.7.10-alpine", "2.7"],
    ["registry.example.com/mirror/haproxy:1.8", "1.8"],
  ])("an HAProxy image older than 2.8: %s", (ref, version) => {
    expect(errorsOf(withLine(8, `  image: ${ref}`))).toEqual([
      `config/dev.yaml:8 balancer.image: expected HAProxy 2.8 or newer (the TLS handshake deadline, timeout client-hs, needs it); this tag is ${version}, got "${ref}"`,
    ]);
  });

  test("an exempt source that is not an address or network", () => {
    expect(errorsOf(withLine(10, "  limits: { exemptSources: [office] }"))).toEqual([
      'config/dev.yaml:10 balancer.limits.exemptSources[0]: expected an IPv4 address or network such as 203.0.113.0/24, got "office"',
    ]);
  });

  test("a timeout out of range", () => {
    expect(errorsOf(withLine(10, "  timeouts: { serverSeconds: 0 }"))).toEqual([
      "config/dev.yaml:10 balancer.timeouts.serverSeconds: expected an integer 1..86400, got 0",
    ]);
  });

  test("the metrics path cannot take over the stats page", () => {
    expect(errorsOf(withLine(11, "  stats: { port: 9000, uri: /haproxy_stats, user: admin, metricsPath: /haproxy_stats }"))).toEqual([
      'config/dev.yaml:11 balancer.stats.metricsPath: expected a path other than balancer.stats.uri (/haproxy_stats): the metrics endpoint would hide the stats page, got "/haproxy_stats"',
    ]);
  });

  test("a stats uri set to the default metrics path blames the uri, the key that was written", () => {
    expect(errorsOf(withLine(11, "  stats: { port: 9000, uri: /metrics, user: admin }"))).toEqual([
      'config/dev.yaml:11 balancer.stats.uri: expected a path other than balancer.stats.metricsPath (/metrics): the metrics endpoint would hide the stats page, got "/metrics"',
    ]);
  });

  test("an unpinned image", () => {
    expect(errorsOf(withLine(12, "redis: { image: redis:latest, db: 0 }"))).toEqual([
      "config/dev.yaml:12 redis.image: expected an image pinned to a tag or digest, not :latest (a pull could change the farm silently), got \"redis:latest\"",
    ]);
  });

  test.each([
    ["postgres:18", 'expected PostgreSQL 16 or 17: from 18 the image keeps data under /var/lib/postgresql/18/docker, which this version does not mount, got "postgres:18"'],
    ["registry.example.com/library/postgres:15.6-bookworm", 'expected PostgreSQL 16 or 17 (Creatio requires 16+); this tag is major version 15, got "registry.example.com/library/postgres:15.6-bookworm"'],
  ])("a PostgreSQL image this version cannot run: %s", (image, message) => {
    expect(errorsOf(withLine(13, `database: { image: ${image} }`))).toEqual([`config/dev.yaml:13 database.image: ${message}`]);
  });

  test("another database engine is refused, not silently ignored", () => {
    expect(errorsOf(withLine(13, "database: { engine: mssql, image: postgres:16 }"))).toEqual([
      'config/dev.yaml:13 database.engine: expected "postgres" (the only engine this version deploys), got "mssql"',
    ]);
  });

  test("overlapping subnets", () => {
    const text = `network: { appSubnet: 10.9.0.0/16, dataSubnet: 10.9.8.0/24 }\n${VALID}`;
    expect(errorsOf(text)).toEqual([
      "config/dev.yaml:1 network.dataSubnet: 10.9.8.0/24 overlaps network.appSubnet 10.9.0.0/16",
    ]);
  });

  // Nodes take an address on both networks, so either subnet can bound the node count.
  test.each([
    ["appSubnet", "172.30.10.0/28", 6],
    ["dataSubnet", "172.30.11.0/28", 5],
  ])("more nodes than network.%s holds", (key, subnet, count) => {
    const nodes = Array.from({ length: count }, (_, i) => `    - { name: n${i} }`).join("\n");
    const text = `network: { ${key}: ${subnet} }\ncreatio:\n  image: c:1\n  nodes:\n${nodes}\nbalancer: { image: haproxy:2.8 }\nredis: { image: redis:7.2 }\ndatabase: { image: postgres:16, maxConnections: 2000 }\n`;
    expect(errorsOf(text)).toEqual([
      `config/dev.yaml:4 creatio.nodes: ${count} nodes do not fit in network.${key} ${subnet} (room for 4); use a larger subnet`,
    ]);
  });

  test("max_connections that cannot hold every node's two pools", () => {
    expect(errorsOf(withLine(13, "database: { image: postgres:16, maxConnections: 200 }"))).toEqual([
      "config/dev.yaml:13 database.maxConnections: max_connections 200 cannot serve 4 connection pools × 50 + 10 reserved = 210 connections; raise it to 210 or lower the pool size",
    ]);
  });

  test("the superuser as application role", () => {
    expect(errorsOf(withLine(13, "database: { image: postgres:16, user: postgres }"))).toEqual([
      "config/dev.yaml:13 database.user: expected a role name that is not reserved (public, none, postgres, current_user, current_role, session_user, information_schema, creatio_farm_restorer, pg_*), got \"postgres\"",
    ]);
  });

  test("a reserved database name", () => {
    expect(errorsOf(withLine(13, "database: { image: postgres:16, name: template1 }"))).toEqual([
      'config/dev.yaml:13 database.name: expected a database name other than postgres, template0 or template1, got "template1"',
    ]);
  });

  test("several problems: every one is reported, in file order", () => {
    const text = withLine(3, "  tenantId: zero").replace("weight: 1 }", "weight: 999 }");
    expect(errorsOf(text)).toEqual([
      'config/dev.yaml:3 creatio.tenantId: expected an integer 1..2147483647, got "zero"',
      "config/dev.yaml:6 creatio.nodes[1].weight: expected an integer 1..256, got 999",
    ]);
  });

  test("field errors and cross-key errors are reported together, in one pass", () => {
    // GIVEN a bad weight, a duplicate node name and a port clash in one file
    const text = withLine(5, "    - { name: node-2, weight: 0 }").replace("stats: { port: 9000", "stats: { port: 80");
    expect(errorsOf(text)).toEqual([
      "config/dev.yaml:5 creatio.nodes[0].weight: expected an integer 1..256, got 0",
      'config/dev.yaml:6 creatio.nodes[1].name: duplicate node name "node-2" (already used by creatio.nodes[0].name)',
      "config/dev.yaml:11 balancer.stats.port: host port 80 is already published by balancer.httpPort",
    ]);
  });

  test("a port that is not an integer does not hide a clash between the other two", () => {
    // GIVEN stats.port mistyped and tls.port equal to httpPort
    const text = withTls("  tls: { certificate: /etc/creatio-farm/tls/crm.pem, port: 80 }").replace("stats: { port: 9000", "stats: { port: nine");
    // THEN both are reported
    expect(errorsOf(text)).toEqual([
      "config/dev.yaml:10 balancer.tls.port: host port 80 is already published by balancer.httpPort",
      'config/dev.yaml:11 balancer.stats.port: expected a TCP port 1..65535, got "nine"',
    ]);
  });

  test("a YAML alias bomb is refused with a line, not a crash", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
      .concat(Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`))
      .join("\n");
    expect(errorsOf(bomb)).toEqual([expect.stringMatching(/^config\/dev\.yaml:1 \(yaml\): Excessive alias count/)]);
  });

  test("YAML syntax errors carry their line", () => {
    expect(errorsOf(withLine(9, "  httpPort: 80: 90"))).toEqual([
      "config/dev.yaml:9 (yaml): Nested mappings are not allowed in compact mappings",
    ]);
  });

  test("a key written twice is an error, not a silent override", () => {
    expect(errorsOf(withLine(9, "  image: haproxy:2.9"))).toEqual(["config/dev.yaml:9 (yaml): Map keys must be unique"]);
  });

  test("an empty file", () => {
    expect(errorsOf("")).toEqual([
      "config/dev.yaml:1 (root): expected an environment file with keys docker, network, creatio, balancer, redis, database, portal, identityService, systemSettings, got nothing",
    ]);
  });

  test("a file name that cannot be a stack name", () => {
    expect(errorsOf(VALID, "config/Dev_1.yaml")).toEqual([
      `config/Dev_1.yaml:1 (file name): expected a lowercase environment name of letters, digits and '-' (max 20), got "Dev_1"`,
    ]);
  });
});

describe("config: a portal", () => {
  /** VALID with the balancer on an internal address (line 9) and a portal appended (lines 17…). */
  const PORTAL = (extra = "", balancerLine = "  bindAddress: 10.0.0.5") =>
    withLine(9, balancerLine) +
    `portal:
  image: nginx:1.27
  publicHost: portal.example.com
  certificate: /etc/creatio-farm/tls/portal.pem
  bindAddress: 198.51.100.7
  nodes: [{ name: p1 }]
${extra}`;

  test("GIVEN a portal with its own address THEN it is accepted", () => {
    const result = loadEnvironment("config/dev.yaml", PORTAL());
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(result.environment.config.portal?.nodes).toEqual([{ name: "p1" }]);
  });

  test.each([
    [
      "the balancer left on 0.0.0.0",
      PORTAL("", "  httpPort: 80"),
      [
        "config/dev.yaml:7 balancer.bindAddress: expected the host address of the internal network: with a portal, 0.0.0.0 publishes the internal site on the address the portal is published on too, got nothing",
        "config/dev.yaml:14 portal.httpPort: host port 198.51.100.7:80 is also published by balancer.httpPort (0.0.0.0:80); give one of them another port or address",
      ],
    ],
    [
      "the balancer on the portal's address",
      PORTAL("", "  bindAddress: 198.51.100.7"),
      [
        "config/dev.yaml:9 balancer.bindAddress: expected another host address than the portal's (198.51.100.7): the portal's proxy is the only component published there, got \"198.51.100.7\"",
        "config/dev.yaml:14 portal.httpPort: host port 198.51.100.7:80 is also published by balancer.httpPort (198.51.100.7:80); give one of them another port or address",
      ],
    ],
    [
      "the portal's role the same as the nodes'",
      PORTAL("  databaseUser: creatio\n"),
      ["config/dev.yaml:20 portal.databaseUser: expected a role other than database.user (creatio): the portal nodes need their own, got \"creatio\""],
    ],
    [
      "a provider that is not a portal users' one",
      PORTAL("  authProviders: [InternalUserPassword]\n"),
      ['config/dev.yaml:20 portal.authProviders[0]: expected SSPUserPassword, SSPSsoAuthProvider or SSPLdapProvider (portal users\' providers), got "InternalUserPassword"'],
    ],
    [
      "an extra path that would open everything, and one that is built in",
      PORTAL("  extraAllowedPaths: [/, /Login/]\n"),
      [
        'config/dev.yaml:20 portal.extraAllowedPaths[0]: expected a narrower prefix than /: it would allow every path (the proxy denies by default), got "/"',
        'config/dev.yaml:20 portal.extraAllowedPaths[1]: expected a prefix that is not built in (/Login/ is allowed already), got "/Login/"',
      ],
    ],
    [
      "a DMZ subnet on the app network",
      PORTAL().replace("balancer:", "network: { dmzSubnet: 172.30.10.0/24 }\nbalancer:"),
      ["config/dev.yaml:7 network.dmzSubnet: 172.30.10.0/24 overlaps network.appSubnet 172.30.10.0/24"],
    ],
    [
      "the stats page published on 0.0.0.0 beside a portal",
      PORTAL().replace("  stats: { port: 9000, uri: /haproxy_stats, user: admin }", "  stats: { port: 9000, uri: /haproxy_stats, user: admin, bindAddress: 0.0.0.0 }"),
      ["config/dev.yaml:11 balancer.stats.bindAddress: expected the host address of the internal network: with a portal, 0.0.0.0 publishes the stats page on the address the portal is published on too, got \"0.0.0.0\""],
    ],
    [
      "the nodes' role named like the portal's default one",
      PORTAL().replace("user: creatio }", "user: creatio_portal }"),
      ["config/dev.yaml:14 portal.databaseUser: expected a role other than database.user (creatio_portal): the portal nodes need their own, got nothing"],
    ],
    [
      "the portal's HTTP port on its default HTTPS port",
      PORTAL("  httpPort: 443\n"),
      ["config/dev.yaml:14 portal.httpsPort: expected a port other than portal.httpPort (443), got nothing"],
    ],
  ])("GIVEN %s THEN it is refused at the key to change", (_, text, expected) => {
    expect(errorsOf(text)).toEqual(expected);
  });
});

test("a restore file under /proc is refused at its key, with the line", () => {
  expect(errorsOf(VALID.replace("user: creatio }", "user: creatio, restore: { backup: /srv/db/a.backup, typeCasts: /proc/self/environ } }"))).toEqual([
    'config/dev.yaml:13 database.restore.typeCasts: expected a file outside the kernel\'s, the devices\' and Docker\'s own trees, got "/proc/self/environ"',
  ]);
});

describe("config: identityService", () => {
  const IDS = (lines: string, withPortal = false) =>
    (withPortal
      ? withLine(9, "  bindAddress: 10.0.0.5") +
        "portal:\n  image: nginx:1.27\n  publicHost: portal.example.com\n  certificate: /etc/creatio-farm/tls/portal.pem\n  bindAddress: 198.51.100.7\n  nodes: [{ name: p1 }]\n"
      : VALID) + `identityService:\n  image: registry.example.com/creatio-identity-service:8.3.1\n${lines}`;

  test("GIVEN an image THEN it is accepted, with the token endpoint unpublished by default", () => {
    const result = loadEnvironment("config/dev.yaml", IDS(""));
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(result.environment.config.identityService).toEqual({ image: "registry.example.com/creatio-identity-service:8.3.1" });
  });

  test.each([
    [
      "the token endpoint published without a portal",
      IDS("  publishTokenEndpoint: true\n"),
      ["config/dev.yaml:16 identityService.publishTokenEndpoint: expected a portal: the token endpoint is published through the portal's DMZ proxy, and this environment has none, got true"],
    ],
    [
      "its role the same as the nodes'",
      IDS("  databaseUser: creatio\n"),
      ["config/dev.yaml:16 identityService.databaseUser: expected a role other than database.user (creatio): the Identity Service needs its own, got \"creatio\""],
    ],
    [
      "its role the same as the portal's default",
      IDS("  databaseUser: creatio_portal\n", true),
      ["config/dev.yaml:22 identityService.databaseUser: expected a role other than portal.databaseUser (creatio_portal): the Identity Service needs its own, got \"creatio_portal\""],
    ],
    [
      "a log level .NET does not have",
      IDS("  logLevel: Verbose\n"),
      ['config/dev.yaml:16 identityService.logLevel: expected Trace, Debug, Information, Warning, Error or Critical, got "Verbose"'],
    ],
    [
      "an image without a pinned tag",
      IDS("").replace("creatio-identity-service:8.3.1", "creatio-identity-service"),
      [expect.stringMatching(/^config\/dev\.yaml:15 identityService\.image: /)],
    ],
  ])("GIVEN %s THEN it is refused at the key to change", (_, text, expected) => {
    expect(errorsOf(text)).toEqual(expected);
  });

  test("GIVEN the identity edge subnet on the DMZ's THEN the overlap is named", () => {
    const text = IDS("  publishTokenEndpoint: true\n", true).replace("balancer:", "network: { identityEdgeSubnet: 172.30.12.0/24 }\nbalancer:");
    expect(errorsOf(text)).toEqual(["config/dev.yaml:7 network.identityEdgeSubnet: 172.30.12.0/24 overlaps network.dmzSubnet 172.30.12.0/24"]);
  });
});

describe("config: systemSettings", () => {
  test("GIVEN codes with text, a boolean and a number THEN they are accepted as written", () => {
    const result = loadEnvironment("config/dev.yaml", `${VALID}systemSettings:\n  SiteUrl: https://crm.example.com\n  Enabled: true\n  Max: 5\n`);
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(result.environment.config.systemSettings).toEqual({ SiteUrl: "https://crm.example.com", Enabled: true, Max: 5 });
  });

  test.each([
    ["a code that is not one", `systemSettings:\n  "Site Url": x\n`, [expect.stringMatching(/^config\/dev\.yaml:15 systemSettings\.Site Url: expected a system setting code/)]],
    ["a value that is a mapping", `systemSettings:\n  SiteUrl: { a: 1 }\n`, [expect.stringMatching(/^config\/dev\.yaml:15 systemSettings\.SiteUrl: expected text, a number or true\/false/)]],
    [
      "an OAuth setting the farm sets itself beside identityService",
      `identityService:\n  image: registry.example.com/creatio-identity-service:8.3.1\nsystemSettings:\n  OAuth20IdentityServerUrl: http://elsewhere\n`,
      ["config/dev.yaml:17 systemSettings.OAuth20IdentityServerUrl: expected no value: with identityService the farm sets it (the service's URL and generated client), got \"http://elsewhere\""],
    ],
  ])("GIVEN %s THEN it is refused at the key", (_, tail, expected) => {
    expect(errorsOf(`${VALID}${tail}`)).toEqual(expected);
  });
});

test("a system setting value holding the farm's secret mark is refused at its key: it would pull a generated secret into Creatio", () => {
  expect(errorsOf(`${VALID}systemSettings:\n  SiteUrl: "x@@secret:database-superuser-password@@"\n`)).toEqual([
    'config/dev.yaml:15 systemSettings.SiteUrl: expected text without "@@secret:", which marks where the farm puts a generated secret, got "x@@secret:database-superuser-password@@"',
  ]);
});
