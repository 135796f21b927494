/**
 * The customer portal in the real Engine. From a client container on a network that stands for the internet, only
 * the DMZ proxy answers, and through it the portal nodes (portal users only) and the integration endpoint switched
 * on (internal nodes). From a portal node, no internal node, neither the balancer's internal frontend nor its stats
 * is reachable. Redis and PostgreSQL share no network with the proxy; the portal nodes sign in to PostgreSQL as
 * their own role, created by the bootstrap job.
 */
import { engine, exec } from "./support/engine";
import { ENV, loadDeployment } from "./support/farm";
import { login } from "./support/http";
import { internetClient } from "./support/internet";

const docker = engine();
const d = loadDeployment();
const p = d.portal;
const { fromInternet, https } = internetClient(docker, d);

/** TCP connect from a client or node container: "open", or why not, within 3 s. */
const TCP = (host: string, port: number) =>
  `new Promise((resolve) => { const s = require("net").connect({ host: ${JSON.stringify(host)}, port: ${port}, timeout: 3000 }, () => { s.destroy(); resolve("open"); });
    s.on("error", (e) => resolve(e.code)); s.on("timeout", () => { s.destroy(); resolve("timeout"); }); })`;

async function address(container: string, network: string): Promise<string> {
  return (await docker.getContainer(container).inspect()).NetworkSettings.Networks[`${ENV}-${network}`].IPAddress;
}

/** The stand-in names itself (X-Stand-In-Node) by its hostname: hostname → container name. */
const byHostname: Record<string, string> = {};
const named = (hostname: string) => byHostname[hostname] ?? `unknown node ${hostname || "(none)"}`;

beforeAll(async () => {
  for (const name of [...d.containers.nodes, ...p.nodes]) byHostname[(await docker.getContainer(name).inspect()).Config.Hostname] = name;
  // The stand-in's login table is created by the role that owns the database, as Creatio's schema is.
  await login(d.httpPort);
});

test("from the internet only the proxy answers: the balancer, its stats and every container behind the proxy are out of reach", async () => {
  const targets = {
    proxyHttps: [p.address, p.httpsPort],
    proxyHttp: [p.address, p.httpPort],
    balancerOnTheGateway: [p.address, d.httpPort],
    statsOnTheGateway: [p.address, d.statsPort],
    internalNode: [await address(d.containers.nodes[0], "app"), 5000],
    portalNode: [await address(p.nodes[0], "portal"), 5000],
    balancerDmzListener: [await address(d.containers.balancer, "dmz"), 8081],
    redis: [await address(d.containers.redis, "data"), 6379],
    postgres: [await address(d.containers.postgres, "portal-data"), 5432],
  } as const;
  const js = `(async () => { const out = {}; ${Object.entries(targets)
    .map(([k, [h, port]]) => `out[${JSON.stringify(k)}] = await ${TCP(h as string, port as number)};`)
    .join(" ")} console.log("RESULT " + JSON.stringify(out)); })();`;
  const result = JSON.parse(await fromInternet(js)) as Record<string, string>;
  expect(result.proxyHttps).toBe("open");
  expect(result.proxyHttp).toBe("open");
  for (const k of Object.keys(targets).filter((k) => !k.startsWith("proxy"))) expect([k, result[k]]).not.toEqual([k, "open"]);
});

test("through the proxy a portal user signs in on a portal node; an internal user cannot open a session there", async () => {
  const r = await https(`
    const page = await req("GET", "/Login/SSPLogin.html");
    const portal = await req("POST", "/ServiceModel/AuthService.svc/Login", { body: JSON.stringify({ UserName: "PortalUser", UserPassword: "PortalUser" }) });
    const who = await req("GET", "/ssp/rest/StandIn/WhoAmI", { cookie: portal.cookies });
    const internal = await req("POST", "/ServiceModel/AuthService.svc/Login", { body: JSON.stringify({ UserName: "Supervisor", UserPassword: "Supervisor" }) });
    return { page, portal, who, internal };`);
  expect([r.page.status, p.nodes.includes(named(r.page.node))]).toEqual([200, true]);
  expect(JSON.parse(r.portal.body).Code).toBe(0);
  expect(JSON.parse(r.who.body)).toMatchObject({ user: "PortalUser" });
  expect(p.nodes).toContain(named(JSON.parse(r.who.body).node));
  expect(JSON.parse(r.internal.body)).toMatchObject({ Code: 1, Message: expect.stringContaining("InternalUserPassword is not in providerNames") });
  expect(r.internal.cookies).not.toMatch(/\.ASPXAUTH/);
});

test("through the proxy: HTTP is redirected, an unknown host and a configuration file never reach a node, the enabled endpoint reaches an internal node", async () => {
  const r = await https(`
    const http = await new Promise((resolve) => require("http").get({ host: ${JSON.stringify(p.address)}, port: ${p.httpPort}, path: "/Login/SSPLogin.html", headers: { host: ${JSON.stringify(p.publicHost)} } }, (res) => { res.resume(); resolve({ status: res.statusCode, location: res.headers.location }); }).on("error", (e) => resolve({ status: e.code })));
    const unknownHost = await req("GET", "/Login/SSPLogin.html", { host: "other.test" });
    const config = await req("GET", "/Login/..%2fWeb.config");
    const config2 = await req("GET", "/Login/ConnectionStrings.config");
    const internalOnly = await req("GET", "/0/ServiceModel/AppInstallerService.svc/Install");
    const webhook = await req("POST", "/0/ServiceModel/CESWebhooksService.svc/HandleWebHooks", { body: "{}" });
    return { http, unknownHost, config, config2, internalOnly, webhook };`);
  expect(r.http).toEqual({ status: 301, location: `https://${p.publicHost}:${p.httpsPort}/Login/SSPLogin.html` });
  // another SNI gets no TLS session: no HTTP status at all
  expect([r.unknownHost.node, typeof r.unknownHost.status]).toEqual(["", "string"]);
  // answered by the proxy itself (no node header): an encoded slash 400, a configuration file and an internal path 404
  expect([r.config.status, r.config.node]).toEqual([400, ""]);
  expect([r.config2.status, r.config2.node]).toEqual([404, ""]);
  expect([r.internalOnly.status, r.internalOnly.node]).toEqual([404, ""]);
  expect(d.containers.nodes).toContain(named(r.webhook.node));
});

test("SignalR through the proxy: negotiate and the WebSocket reach the same portal node", async () => {
  const r = await https(`
    const s = await req("POST", "/ServiceModel/AuthService.svc/Login", { body: JSON.stringify({ UserName: "PortalUser", UserPassword: "PortalUser" }) });
    let cookie = s.cookies;
    const results = [];
    for (let i = 0; i < 4; i++) {
      const n = await req("POST", "/msg/negotiate?negotiateVersion=1", { cookie });
      if (n.cookies) cookie = [cookie, n.cookies].join("; ");
      const token = JSON.parse(n.body).connectionToken;
      const WebSocket = require("ws");
      const connected = await new Promise((resolve) => {
        const ws = new WebSocket("wss://${p.address}:${p.httpsPort}/msg?id=" + encodeURIComponent(token), { headers: { host: ${JSON.stringify(p.publicHost)}, cookie }, servername: ${JSON.stringify(p.publicHost)}, ca: CA_PEM });
        ws.on("open", () => ws.send(JSON.stringify({ protocol: "json", version: 1 }) + "\\u001e"));
        ws.on("message", (m) => { for (const f of m.toString().split("\\u001e").filter(Boolean)) { const x = JSON.parse(f); if (x.target === "node") { ws.close(); resolve(x.arguments[0]); } } });
        ws.on("unexpected-response", (_q, res) => resolve("status " + res.statusCode));
        ws.on("error", (e) => resolve(e.message));
      });
      results.push({ negotiated: n.node, connected });
    }
    return results;`);
  expect(r).toHaveLength(4);
  for (const x of r) {
    expect(p.nodes).toContain(named(x.negotiated));
    expect(x.connected).toBe(x.negotiated);
  }
});

test("from a portal node no internal node, neither the balancer's internal frontend, its stats nor its DMZ listeners are reachable; Redis and PostgreSQL are", async () => {
  const balancer = await address(d.containers.balancer, "portal");
  const targets: Record<string, [string, number]> = {
    internalNodeApp: [await address(d.containers.nodes[0], "app"), 5000],
    internalNodeData: [await address(d.containers.nodes[0], "data"), 5000],
    proxy: [await address(p.proxy, "dmz"), 8443],
    redis: ["redis", 6379],
    postgres: ["postgres", 5432],
  };
  const js = `(async () => { const out = {}; ${Object.entries(targets)
    .map(([k, [h, port]]) => `out[${JSON.stringify(k)}] = await ${TCP(h, port)};`)
    .join(" ")}
    const get = (port, path) => new Promise((resolve) => require("http").get({ host: ${JSON.stringify(balancer)}, port, path, timeout: 3000 }, (r) => { r.resume(); resolve(r.statusCode); }).on("error", (e) => resolve(e.code || e.message)).on("timeout", function () { this.destroy(); }));
    out.internalFrontend = await get(8080, "/api/StandIn/Node");
    out.stats = await get(9000, "/metrics");
    out.portalListener = await get(8081, "/api/StandIn/Node");
    out.integrationListener = await get(8082, "/api/StandIn/Node");
    console.log(JSON.stringify(out)); })();`;
  const r = await exec(docker, p.nodes[0], ["node", "-e", js]);
  const out = JSON.parse(r.stdout.trim()) as Record<string, string | number>;
  expect([out.redis, out.postgres]).toEqual(["open", "open"]);
  for (const k of ["internalNodeApp", "internalNodeData", "proxy"]) expect([k, out[k]]).not.toEqual([k, "open"]);
  for (const k of ["internalFrontend", "stats", "portalListener", "integrationListener"]) expect([k, typeof out[k]]).toEqual([k, "string"]);
});

test("a proxy taken over reaches no more than the proxy's own routes: the balancer's public frontend and stats refuse it, the integration listener serves the enabled endpoint only", async () => {
  // bash's /dev/tcp and printf inside the nginx container: a raw HTTP/1.0 request, the status line back
  const balancer = await address(d.containers.balancer, "dmz");
  const raw = async (port: number, path: string) => {
    const script = `exec 3<>/dev/tcp/${balancer}/${port} || { echo refused; exit 0; }; printf 'GET ${path} HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n' >&3; timeout 5 cat <&3 || true`;
    const head = (await exec(docker, p.proxy, ["bash", "-c", script])).stdout.split("\r\n\r\n")[0];
    // the status line, and whether a node answered (the stand-in names itself in a header)
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? "no answer";
    return `${status}${/^x-stand-in-node:/im.test(head) ? " from a node" : ""}`;
  };
  // the public frontend and stats close the connection at once (tcp-request connection reject): no status line
  expect(await raw(8080, "/api/StandIn/Node")).toBe("no answer");
  expect(await raw(9000, "/metrics")).toBe("no answer");
  // the portal listener serves the proxy (control), the integration listener only the endpoint switched on
  expect(await raw(8081, "/Login/SSPLogin.html")).toBe("200 from a node");
  expect(await raw(8082, "/ServiceModel/AppInstallerService.svc/Install")).toBe("404");
  expect(await raw(8082, "/api/StandIn/Node")).toBe("404");
  // the stand-in has no such service (404), but the request reached it
  expect(await raw(8082, "/ServiceModel/CESWebHooksService.svc/HandleWebHooks")).toBe("404 from a node");
});

test("Redis and PostgreSQL share no network with the proxy; the proxy is on the DMZ and, for the token endpoint, the identity edge alone", async () => {
  const networks = async (c: string) => Object.keys((await docker.getContainer(c).inspect()).NetworkSettings.Networks).sort();
  expect(await networks(p.proxy)).toEqual(["dockertier-dmz", "dockertier-identity-edge"]);
  for (const c of [d.containers.redis, d.containers.postgres]) expect(await networks(c)).toEqual(["dockertier-data", "dockertier-portal-data"]);
  for (const c of p.nodes) expect(await networks(c)).toEqual(["dockertier-portal", "dockertier-portal-data"]);
  for (const n of ["dockertier-portal", "dockertier-portal-data"]) expect((await docker.getNetwork(n).inspect()).Internal).toBe(true);
});

test("the portal nodes sign in to PostgreSQL as their own role; their config keeps SSPUserPassword only; every node has the generated SAU password", async () => {
  const psql = async (sql: string) => (await exec(docker, d.containers.postgres, ["psql", "-U", "postgres", "-d", "creatio", "-tAc", sql])).stdout.trim();
  const portalNet = d.config.network.portalDataSubnet as string;
  expect(await psql(`SELECT DISTINCT usename FROM pg_stat_activity WHERE client_addr << '${portalNet}' AND backend_type = 'client backend'`)).toBe("creatio_portal");
  expect(await psql("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'creatio_portal'")).toBe("f|f|f");
  const sau = d.outputs.user_management_sau_password;
  expect(sau).toMatch(/^[A-Za-z0-9]{32}$/);
  for (const node of [...p.nodes, ...d.containers.nodes]) {
    const config = (await exec(docker, node, ["cat", "/app/Terrasoft.WebHost.dll.config"])).stdout;
    expect(config).toContain(`<add key="UserManagementSauPassword" value="${sau}" />`);
    expect(config).toMatch(p.nodes.includes(node) ? /<auth providerNames="SSPUserPassword" autoLoginProviderNames="" / : /<auth providerNames="InternalUserPassword,SSPUserPassword" /);
  }
  // the bootstrap job ran once, with no network, and finished
  const job = await docker.getContainer("dockertier-postgres-bootstrap").inspect();
  expect([job.State.Status, job.State.ExitCode, job.HostConfig.NetworkMode]).toEqual(["exited", 0, "none"]);
});
