/**
 * The DMZ proxy's rendered nginx.conf run by the REAL nginx, in front of the real haproxy (the portal's own listener,
 * trusting the proxy's forwarding headers) and stand-in nodes on 127.0.0.1: portal pages and SignalR reach the
 * portal nodes only, configuration files never reach any node however the path is written, unknown hosts and
 * switched-off endpoints are refused, an enabled endpoint reaches the internal nodes, the rate limit answers 429,
 * and every request is one JSON line in the access log.
 */
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import WebSocket from "ws";
import { INTEGRATION_ENDPOINTS } from "../../constructs/dmz-proxy/endpoints";
import { renderNginxConf } from "../../constructs/dmz-proxy/render-nginx-conf";
import { selfSignedCertificate } from "../support/self-signed";
import { tempDir } from "../support/farm";
import { rawRequest, Reply, request } from "./support/http-client";
import { startLoopbackBalancer } from "./support/loopback";
import { nginxPaths, Nginx, startNginx } from "./support/nginx-process";
import { freePort } from "./support/processes";
import { startStandIn, strayPids, Teardown } from "./support/stand-ins";

const teardown = new Teardown();
let nginx: Nginx;
let httpsPort = 0;
let httpPort = 0;
let cert = "";
let portalPort = 0;
let integrationPort = 0;
const standIns: Record<string, number> = {};
const HOST = "localhost";
/** What the Identity Service stand-in behind the token location received: method, path, Host, X-Forwarded-For, body. */
const tokenRequests: Array<{ method: string; url: string; host: string; xff: string; body: string }> = [];

beforeAll(async () => {
  const certDir = tempDir("dmz-cert");
  teardown.defer(() => fs.rmSync(certDir, { recursive: true, force: true }));
  const tls = selfSignedCertificate(certDir);
  cert = fs.readFileSync(tls.cert, "utf8");
  for (const name of ["c1", "p1", "p2"]) standIns[name] = teardown.add(await startStandIn({ name, port: await freePort() })).port;
  // The balancer: internal node c1 behind the public listener and the integration listener, portal nodes p1 and
  // p2 behind the portal's own. Both DMZ listeners take connections from the proxy (127.0.0.1) only and keep its
  // forwarding headers.
  [portalPort, integrationPort] = [await freePort(), await freePort()];
  const proxyOnly = { trustForwardedFrom: ["127.0.0.1"], onlyFrom: ["127.0.0.1"] };
  await startLoopbackBalancer(teardown, {
    servers: [{ name: "c1", port: standIns.c1 }],
    portal: { port: portalPort, servers: [{ name: "p1", port: standIns.p1 }, { name: "p2", port: standIns.p2 }], ...proxyOnly },
    // the integration listener serves the paths of the endpoints switched on, as app/portal.ts renders it
    integration: { port: integrationPort, ...proxyOnly, allowPaths: [...INTEGRATION_ENDPOINTS.bulkEmail, ...INTEGRATION_ENDPOINTS.scim].map((e) => e.pathPattern) },
  });
  const identity = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c)).on("end", () => {
      tokenRequests.push({ method: req.method ?? "", url: req.url ?? "", host: String(req.headers.host), xff: String(req.headers["x-forwarded-for"]), body });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end('{"access_token":"t","token_type":"Bearer","expires_in":3600}');
    });
  });
  await new Promise<void>((resolve) => identity.listen(0, "127.0.0.1", resolve));
  teardown.defer(() => new Promise<void>((resolve) => identity.close(() => resolve())));
  [httpPort, httpsPort] = [await freePort(), await freePort()];
  nginx = teardown.add(
    await startNginx(
      (dir) =>
        renderNginxConf({
          serverName: HOST,
          httpPort,
          httpsPort,
          publicHttpsPort: httpsPort,
          ...nginxPaths(dir),
          certificate: tls.pem,
          portalUpstream: `127.0.0.1:${portalPort}`,
          integrationUpstream: `127.0.0.1:${integrationPort}`,
          tokenUpstream: { address: `127.0.0.1:${(identity.address() as AddressInfo).port}`, host: "identity-service:8080" },
          extraAllowedPrefixes: [],
          // bulk email and SCIM on; web forms and chats off
          endpoints: [...INTEGRATION_ENDPOINTS.bulkEmail, ...INTEGRATION_ENDPOINTS.scim],
          limits: { requestsPerSecond: 50, burst: 200, connectionsPerSource: 50, bodyMb: 1, loginsPerMinute: 10 },
          hstsMaxAgeSeconds: 63072000,
          websocketIdleSeconds: 300,
        }),
      httpsPort,
    ),
  );
});

afterAll(() => teardown.run());

const get = (path: string, extra: { method?: string; headers?: Record<string, string>; servername?: string; body?: string } = {}): Promise<Reply> =>
  // The client names the portal's host in SNI and Host, as a browser does (the connection goes to 127.0.0.1).
  request({ port: httpsPort, path, method: extra.method, headers: { host: HOST, ...extra.headers }, body: extra.body, tls: { ca: cert, servername: extra.servername ?? HOST } });

/** Every request each stand-in received: "METHOD /path" → count (asked directly). */
async function counts(name: string): Promise<Record<string, number>> {
  return JSON.parse((await request({ port: standIns[name], path: "/__counts" })).body) as Record<string, number>;
}

test("portal pages go to the portal nodes only; / goes to the portal login; the login service takes POST only", async () => {
  const served = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r = await get("/Login/SSPLogin.html");
    expect(r.status).toBe(200);
    served.add(r.body.trim());
  }
  expect([...served].sort()).toEqual(["node p1", "node p2"]);
  expect((await get("/ssp/rest/UserInfoService/GetCurrentUserInfo", { method: "POST", body: "{}" })).status).toBe(200);
  const root = await get("/");
  expect([root.status, root.headers.location]).toEqual([302, "/Login/SSPLogin.html"]);
  expect((await get("/ServiceModel/AuthService.svc/Login", { method: "POST", body: "{}" })).status).toBe(200);
  expect((await get("/ServiceModel/AuthService.svc/Login")).status).toBe(403);
  expect(Object.keys(await counts("c1")).filter((k) => !k.startsWith("GET /api/HealthCheck"))).toEqual([]);
});

test("a node sees the proxy's view of the client: X-Forwarded-For is the real peer, whatever the client claims", async () => {
  const r = await get("/msg/negotiate", { method: "POST", headers: { "X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6", Forwarded: "for=6.6.6.6" } });
  const echo = JSON.parse(r.body);
  expect(echo.headers["x-forwarded-for"]).toBe("127.0.0.1");
  expect(echo.headers["x-forwarded-proto"]).toBe("https");
  expect(echo.headers["x-real-ip"]).toBeUndefined();
  expect(echo.headers.forwarded).toBeUndefined();
  expect(r.headers.server).toBe("nginx");
});

test("SignalR: negotiate, then a WebSocket that reaches the same portal node, every time", async () => {
  for (let i = 0; i < 6; i++) {
    const negotiate = await get("/msg/negotiate?negotiateVersion=1", { method: "POST" });
    const node = JSON.parse(negotiate.body).node as string;
    const cookie = String(negotiate.headers["set-cookie"] ?? "").split(";")[0];
    expect(cookie).toMatch(/=p[12]$/);
    const echoed = await new Promise<string>((resolve, reject) => {
      // ws hands its options to tls.connect: servername is the SNI nginx serves the portal on.
      const options = { headers: { cookie, host: HOST }, ca: cert, servername: HOST, handshakeTimeout: 5000 } as WebSocket.ClientOptions;
      const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/msg?id=${i}`, options);
      ws.on("open", () => ws.send("hello"));
      ws.on("message", (d) => {
        ws.close();
        resolve(d.toString());
      });
      ws.on("error", reject);
    });
    expect(echoed).toBe(`${node}: hello`);
  }
});

/** Configuration, source and backup files, spelled every way a path can be written to slip past a naive rule. */
const SENSITIVE = [
  "/Web.config",
  "/web.config",
  "/WEB.CONFIG",
  "/Login/Web.config",
  "/Login/../Web.config",
  "/Login/%2e%2e/Web.config",
  "/Login/%2E%2E/Web.config",
  "/Login/..%2fWeb.config",
  "/Login/Web%2Econfig",
  "/Login/Web%2econfig",
  "/Login//Web.config",
  "/Login/./Web.config",
  "/Login/Web.config.",
  "/Login/Web.config..",
  "/Login/Web.config;x=1",
  "/Login/Web.config%20",
  "/Login/Web.config%3bjsessionid=1",
  "/Login/Web.config::$DATA",
  "/Login/Web.config/",
  "/Login/Web.config~",
  "/Login/Web.config.bak",
  "/Login/Web.config.old",
  "/ssp/ConnectionStrings.config",
  "/ssp/CONNECTIONSTRINGS.CONFIG",
  "/Ssp/Terrasoft.WebHost.dll.config",
  "/Ssp/Terrasoft.WebHost.dll",
  "/core/appsettings.json",
  "/core/appsettings.Production.json",
  "/core/AppSettings.JSON",
  "/core/appsettings.json.",
  "/Shell/.git/config",
  "/Shell/.env",
  "/Shell/.htpasswd",
  "/Nui/Terrasoft.WebHost.pdb",
  "/Nui/backup.sql",
  "/Nui/db.zip",
  "/conf/content/%2e%2e/%2e%2e/Web.config",
  "/img/....//Web.config",
];

test(`${SENSITIVE.length} spellings of configuration and source files: refused, and no node ever sees one`, async () => {
  for (const path of SENSITIVE) {
    const r = await rawRequest(httpPort, `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
    expect([path, r.split("\r\n")[0]]).toEqual([path, "HTTP/1.1 301 Moved Permanently"]); // plain HTTP only redirects
    // 404 from a deny rule (or the default), 400 for an encoded separator
    const s = await get(path);
    expect([path, [400, 404].includes(s.status)]).toEqual([path, true]);
  }
  const reached = [...Object.keys(await counts("p1")), ...Object.keys(await counts("p2")), ...Object.keys(await counts("c1"))];
  expect(reached.filter((k) => /config|appsettings|\.dll|\.pdb|\.git|\.env|\.htpasswd|\.sql|\.zip|~/i.test(k))).toEqual([]);
});

test("a path with an encoded slash, backslash or control character is refused before routing; a query may have them", async () => {
  for (const path of ["/ServiceModel%2f..%2fLogin/x", "/Login/x%2f..%2f..%2fWeb.config", "/Login/Web.config%5c", "/Login/x%5c..%5cWeb.config", "/Login/SSPLogin.html%09", "/Login/SSPLogin.html%00"]) {
    expect([path, (await get(path)).status]).toEqual([path, 400]);
  }
  expect((await get("/Login/SSPLogin.html?ReturnUrl=%2FShell%2F")).status).toBe(200);
  const reached = [...Object.keys(await counts("p1")), ...Object.keys(await counts("p2"))];
  expect(reached.filter((k) => /%2f|%5c|%09|%00|\\/i.test(k))).toEqual([]);
});

test("unknown hosts are dropped: another SNI gets no TLS session, another Host over HTTP no answer", async () => {
  await expect(get("/Login/SSPLogin.html", { servername: "other.example.com" })).rejects.toThrow(/unrecognized name|alert|socket hang up|ECONNRESET/i);
  expect(await rawRequest(httpPort, "GET /Login/SSPLogin.html HTTP/1.1\r\nHost: other.example.com\r\nConnection: close\r\n\r\n")).toBe("");
  const redirect = await rawRequest(httpPort, `GET /Login/SSPLogin.html HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
  expect(redirect).toMatch(new RegExp(`^HTTP/1.1 301 [^]*\\r\\nLocation: https://${HOST}:${httpsPort}/Login/SSPLogin.html\\r\\n`));
});

test("internal paths and switched-off endpoints are refused; a switched-on endpoint reaches the internal nodes only", async () => {
  for (const path of ["/odata/Contact", "/DataService/json/SyncReply/SelectQuery", "/api/HealthCheck/Ping", "/0/Nui/ViewModule.aspx", "/ServiceModel/GeneratedObjectWebFormService.svc/SaveWebFormObjectData", "/ServiceModel/OmnichannelMessagingService.svc/x"]) {
    expect([path, (await get(path, { method: "POST", body: "{}" })).status]).toEqual([path, 404]);
  }
  // bulk email, in the cloud service's Framework spelling: rewritten to the .NET path, POST only
  expect((await get("/0/ServiceModel/CESWebhooksService.svc/HandleWebHooks", { method: "POST", body: "[]" })).status).toBe(200);
  expect((await get("/0/ServiceModel/CESWebhooksService.svc/HandleWebHooks")).status).toBe(403);
  // SCIM with PATCH and DELETE, a colon in the path
  expect((await get("/rest/scim/v2/Users/42", { method: "PATCH", body: "{}" })).status).toBe(200);
  expect((await get("/rest/scim/v2/Groups/7", { method: "DELETE" })).status).toBe(200);
  expect((await get("/rest/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User")).status).toBe(200);
  const internal = await counts("c1");
  expect(internal).toMatchObject({
    "POST /ServiceModel/CESWebhooksService.svc/HandleWebHooks": 1,
    "PATCH /rest/scim/v2/Users/42": 1,
    "DELETE /rest/scim/v2/Groups/7": 1,
  });
  const portal = [...Object.keys(await counts("p1")), ...Object.keys(await counts("p2"))];
  expect(portal.filter((k) => /CESWeb|scim|odata|DataService\/json|WebForm|Omnichannel/i.test(k))).toEqual([]);
});

test("each request is one JSON line in the access log, with the client, the status and the upstream", async () => {
  const before = nginx.accessLog().length;
  await get("/Login/SSPLogin.html?probe=log");
  await get("/Web.config");
  // nginx writes the line when the request ends; give the worker a moment
  await new Promise((r) => setTimeout(r, 200));
  const lines = nginx.accessLog().slice(before);
  expect(lines.map((l) => [l.method, l.uri, l.status, l.client, typeof l.req_id])).toEqual([
    ["GET", "/Login/SSPLogin.html?probe=log", 200, "127.0.0.1", "string"],
    ["GET", "/Web.config", 404, "127.0.0.1", "string"],
  ]);
  expect(lines[0].upstream).toMatch(/^127\.0\.0\.1:\d+$/);
  expect(lines[1].upstream).toBe("");
});

test("the rate limit answers 429 beyond the burst, and the node does not see those requests", async () => {
  const before = Object.values(await counts("p1")).reduce((a, b) => a + b, 0) + Object.values(await counts("p2")).reduce((a, b) => a + b, 0);
  const statuses = await Promise.all(Array.from({ length: 400 }, () => get("/Login/SSPLogin.html?burst").then((r) => r.status)));
  const tally = statuses.reduce<Record<number, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});
  console.log(`rate limit: 400 requests at once → ${JSON.stringify(tally)}`);
  expect(tally[429]).toBeGreaterThan(0);
  const after = Object.values(await counts("p1")).reduce((a, b) => a + b, 0) + Object.values(await counts("p2")).reduce((a, b) => a + b, 0);
  expect(after - before).toBe(tally[200]);
});

test("the balancer's DMZ listeners take connections from the proxy only", async () => {
  for (const [port, path] of [[portalPort, "/Login/SSPLogin.html"], [integrationPort, "/rest/scim/v2/Users"]] as const) {
    // from another address, even one the listener would otherwise serve: refused before a byte is read
    await expect(request({ port, path, localAddress: "127.0.0.2" })).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect((await request({ port, path, localAddress: "127.0.0.1" })).status).toBe(200);
  }
});

test("the integration listener serves the enabled endpoints' paths only, even to the proxy's own address (a proxy taken over)", async () => {
  const c1 = await counts("c1");
  const statuses: Record<string, number> = {};
  for (const path of ["/Login/SSPLogin.html", "/ServiceModel/AppInstallerService.svc/Install", "/0/odata/Contact", "/SERVICEMODEL/cesWEBHOOKSservice.svc/HandleWebHooks", "/rest/scim/v2/Users"]) {
    statuses[path] = (await request({ port: integrationPort, path, localAddress: "127.0.0.1" })).status;
  }
  expect(statuses).toEqual({
    "/Login/SSPLogin.html": 404,
    "/ServiceModel/AppInstallerService.svc/Install": 404,
    "/0/odata/Contact": 404,
    "/SERVICEMODEL/cesWEBHOOKSservice.svc/HandleWebHooks": 200,
    "/rest/scim/v2/Users": 200,
  });
  const seen = await counts("c1");
  expect(Object.values(seen).reduce((a, b) => a + b, 0) - Object.values(c1).reduce((a, b) => a + b, 0)).toBe(2);
});

describe("the Identity Service's token endpoint", () => {
  test("POST /connect/token reaches the service with its internal name as Host and the client's address, the form as sent", async () => {
    const before = tokenRequests.length;
    const r = await get("/connect/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=client_credentials&client_id=a&client_secret=b" });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body).token_type).toBe("Bearer");
    expect(tokenRequests.slice(before)).toEqual([
      { method: "POST", url: "/connect/token", host: "identity-service:8080", xff: "127.0.0.1", body: "grant_type=client_credentials&client_id=a&client_secret=b" },
    ]);
  });

  test.each([
    ["GET /connect/token", "GET", "/connect/token", 403],
    ["the discovery document", "GET", "/.well-known/openid-configuration", 404],
    ["the authorize endpoint", "GET", "/connect/authorize", 404],
    ["a path below the token endpoint", "POST", "/connect/token/x", 404],
  ])("%s is refused and reaches neither the service nor a node", async (_what, method, path, status) => {
    const before = tokenRequests.length;
    const r = await get(path, { method, body: method === "POST" ? "x=1" : undefined });
    expect(r.status).toBe(status);
    expect(tokenRequests.length).toBe(before);
  });
});

test("no process is left behind", async () => {
  await teardown.run();
  expect(strayPids()).toEqual([]);
});
