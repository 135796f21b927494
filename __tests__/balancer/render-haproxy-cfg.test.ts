import * as fs from "fs";
import * as path from "path";
import { haproxyDuration, HaproxyModel, renderHaproxyCfg, renderReleaseDownNodes } from "../../constructs/balancer/render-haproxy-cfg";
import { STATS_TEST_HASH } from "../support/hashes";
import { tempDir } from "../support/farm";
import { requireProgram, run } from "../support/programs";
import { selfSignedCertificate } from "../support/self-signed";
import { haproxyVersionAtLeast } from "../live/support/haproxy-process";

const workDir = tempDir("haproxy");
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));
const certificate = selfSignedCertificate(workDir).pem;

const luaPath = path.join(workDir, "release-down-nodes.lua");

function model(overrides: Partial<HaproxyModel> = {}): HaproxyModel {
  return {
    releaseDownNodesLua: luaPath,
    limits: {
      maxConnections: 4096,
      connectionsPerSource: 200,
      requestsPer10sPerSource: 2000,
      websocketsPerSource: 50,
      requestBodyBytes: 100 * 1024 * 1024,
      requestsPerNode: 100,
      exemptSources: [],
    },
    runtimeSocket: "/var/lib/haproxy/admin.sock",
    httpBind: ":8080",
    // `timeout client-hs` needs HAProxy 2.8: rendered only when the haproxy that checks the file knows it (the
    // product refuses older images; Debian 12 hosts have 2.6). Its own test below checks the line.
    timeouts: { clientMs: 60000, serverMs: 60000, tunnelMs: 3600000, handshakeMs: haproxyVersionAtLeast(2, 8) ? 5000 : undefined },
    healthCheck: { path: "/api/HealthCheck/Ping", host: "localhost", intervalMs: 2000, fall: 3, rise: 2, timeoutMs: 5000 },
    backends: [
      {
        name: "creatio",
        servers: [
          { name: "node-1", address: "172.30.10.11", port: 5000, weight: 2 },
          { name: "node-2", address: "172.30.10.12", port: 5000, weight: 1 },
        ],
      },
    ],
    stats: {
      bind: ":9000",
      uri: "/haproxy_stats",
      user: "admin",
      passwordHash: STATS_TEST_HASH,
      metricsPath: "/metrics",
      rejectFrom: [{ subnet: "172.30.10.0/24", except: "172.30.10.1" }],
      failedLoginsPerMinute: 10,
      admin: false,
    },
    ...overrides,
  };
}

const tls = (overrides: Partial<NonNullable<HaproxyModel["tls"]>> = {}): HaproxyModel["tls"] => ({
  bind: ":8443",
  certificate,
  publicPort: 443,
  redirectHttp: true,
  hstsMaxAgeSeconds: 63072000,
  canonicalHost: "crm.example.com",
  ...overrides,
});

const portal = { name: "portal", listen: { bind: ":8081" }, servers: [{ name: "portal-1", address: "172.30.10.21", port: 5000, weight: 1 }] };

/** `haproxy -dW -c`: zero-warning mode, so a rule HAProxy would silently ignore fails the check too. */
function haproxyCheck(cfg: string, lua = renderReleaseDownNodes(model())) {
  const haproxy = requireProgram("haproxy", "haproxy");
  fs.writeFileSync(luaPath, lua);
  const file = path.join(workDir, "haproxy.cfg");
  fs.writeFileSync(file, cfg);
  return run(haproxy, ["-dW", "-c", "-f", file]);
}

/** The lines of one section (`frontend fe_https`, `backend be_creatio`, …), without comments. */
function section(cfg: string, header: string): string[] {
  const lines = cfg.split("\n");
  const start = lines.indexOf(header);
  if (start < 0) throw new Error(`no section "${header}" in:\n${cfg}`);
  const end = lines.findIndex((l, i) => i > start && l !== "" && !l.startsWith(" "));
  return lines
    .slice(start + 1, end < 0 ? undefined : end)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

describe("renderHaproxyCfg", () => {
  test.each([
    ["HTTP only", model()],
    ["TLS with redirect", model({ tls: tls() })],
    ["TLS serving HTTP too", model({ tls: tls({ redirectHttp: false, publicPort: 8443 }) })],
    ["a portal backend on its own listener", model({ backends: [...model().backends, { ...portal, listen: { bind: ":8081", trustForwardedFrom: ["172.30.30.2"] } }] })],
  ])("%s passes haproxy -dW -c (warnings are errors), with the Lua task it loads", (_, m) => {
    const result = haproxyCheck(renderHaproxyCfg(m), renderReleaseDownNodes(m));
    expect(result.output).toContain("Configuration file is valid");
    expect(result.status).toBe(0);
  });

  test("the Lua task watches every backend, the sticky ones too, and waits timeout connect + 500 ms", () => {
    const lua = renderReleaseDownNodes(model({ backends: [...model().backends, portal] }));
    expect(lua).toContain('local BACKENDS = { "be_creatio", "be_creatio_msg", "be_portal", "be_portal_msg" }');
    expect(lua).toContain("local GRACE_MS = 1500\n");
    expect(section(renderHaproxyCfg(model()), "defaults")).toContain("timeout connect 1s");
    expect(section(renderHaproxyCfg(model()), "global")).toContain(`lua-load ${luaPath}`);
  });

  test("server states: saved where the model says and read by both backends of each node set; the file passes -dW -c", () => {
    const state = path.join(workDir, "servers.state");
    fs.writeFileSync(state, "1\n");
    const cfg = renderHaproxyCfg(model({ serverStateFile: state }));
    expect(section(cfg, "global")).toContain(`server-state-file ${state}`);
    for (const backend of ["backend be_creatio", "backend be_creatio_msg"]) expect(section(cfg, backend)).toContain("load-server-state-from-file global");
    expect(haproxyCheck(cfg).status).toBe(0);
    expect(renderHaproxyCfg(model())).not.toMatch(/server-state/);
  });

  test("the Lua check is a real gate: a syntax error fails haproxy -c", () => {
    expect(haproxyCheck(renderHaproxyCfg(model()), "core.register_task(function(\n").status).not.toBe(0);
  });

  test("the check is a real gate: a legacy 1.8 directive fails it", () => {
    // GIVEN the seed document's rspirep rule, removed in HAProxy 2.1
    const legacy = renderHaproxyCfg(model()).replace(
      "default_backend be_creatio",
      "rspirep ^(set-cookie:.*) \\1;\\ Secure\n    default_backend be_creatio",
    );
    // THEN haproxy refuses it
    expect(haproxyCheck(legacy).status).not.toBe(0);
  });

  test("roundrobin with each node's weight, sorted by server name", () => {
    const [creatio] = model().backends;
    const cfg = renderHaproxyCfg(model({ backends: [{ ...creatio, servers: [...creatio.servers].reverse() }] }));
    expect(section(cfg, "backend be_creatio")).toEqual(
      expect.arrayContaining(["balance roundrobin", "server node-1 172.30.10.11:5000 weight 2", "server node-2 172.30.10.12:5000 weight 1"]),
    );
    expect(cfg.indexOf("server node-1")).toBeLessThan(cfg.indexOf("server node-2"));
  });

  test("HTTP/1.1 health check with a Host header, 200 only, and the configured timings", () => {
    const cfg = renderHaproxyCfg(
      model({ healthCheck: { path: "/api/HealthCheck/Ping", host: "crm.internal", intervalMs: 3000, fall: 4, rise: 3, timeoutMs: 7500 } }),
    );
    expect(section(cfg, "backend be_creatio")).toEqual(
      expect.arrayContaining([
        "option httpchk",
        "http-check send meth GET uri /api/HealthCheck/Ping ver HTTP/1.1 hdr Host crm.internal",
        "http-check expect status 200",
        "default-server check inter 3s fastinter 1s downinter 3s fall 4 rise 3 observe layer7 error-limit 10 on-error fastinter maxconn 100",
      ]),
    );
    expect(section(cfg, "defaults")).toContain("timeout check 7500ms");
  });

  test("fastinter never exceeds the interval", () => {
    const cfg = renderHaproxyCfg(model({ healthCheck: { ...model().healthCheck, intervalMs: 400 } }));
    expect(cfg).toContain("default-server check inter 400ms fastinter 400ms downinter 400ms");
  });

  test.each([
    [600000, "10m"],
    [3600000, "1h"],
    [60000, "1m"],
    [90000, "90s"],
    [1500, "1500ms"],
    [5000, "5s"],
  ])("durations are written in the largest whole unit: %d ms → %s", (ms, text) => {
    expect(haproxyDuration(ms)).toBe(text);
  });

  test("timeouts: short server side, websocket idle in timeout tunnel, the TLS handshake its own deadline", () => {
    const cfg = renderHaproxyCfg(model({ timeouts: { clientMs: 30000, serverMs: 45000, tunnelMs: 7200000, handshakeMs: 4000 } }));
    expect(section(cfg, "defaults")).toEqual(
      expect.arrayContaining(["timeout client 30s", "timeout client-hs 4s", "timeout server 45s", "timeout tunnel 2h", "option abortonclose"]),
    );
    // headers, and the first buffer of a body, within timeout http-request
    expect(section(cfg, "defaults")).toEqual(expect.arrayContaining(["timeout http-request 10s", "option http-buffer-request"]));
  });

  test("long Creatio operations get their own server timeout, by path prefix in any case", () => {
    const cfg = renderHaproxyCfg(model({ longOperations: { paths: ["/ServiceModel/B.svc/", "/ServiceModel/A.svc/"], serverMs: 900000 } }));
    expect(section(cfg, "backend be_creatio")).toEqual(
      expect.arrayContaining([
        "acl long_operation path_beg -i /ServiceModel/A.svc/ /ServiceModel/B.svc/",
        "http-request set-timeout server 15m if long_operation",
      ]),
    );
    expect(renderHaproxyCfg(model())).not.toContain("http-request set-timeout");
  });

  test("a hung node: errors on live traffic speed up its checks, maxconn bounds what it holds", () => {
    const main = section(renderHaproxyCfg(model()), "backend be_creatio").find((l) => l.startsWith("default-server"));
    expect(main).toMatch(/ observe layer7 error-limit 10 on-error fastinter /);
    expect(main).toMatch(/ maxconn 100$/);
    // HAProxy's own on-marked-down shutdown-sessions would also fail the requests still connecting to a dead node:
    // the Lua task ends them later (tested live)
    expect(renderHaproxyCfg(model())).not.toContain("on-marked-down");
    // WebSockets are long by nature: no maxconn
    expect(section(renderHaproxyCfg(model()), "backend be_creatio_msg").join("\n")).not.toContain("maxconn");
  });

  test("per-source limits: connections at accept, request rate with 429, WebSockets apart; exempt sources skip them", () => {
    const fe = section(renderHaproxyCfg(model()), "frontend fe_http");
    expect(fe.slice(0, 5)).toEqual([
      "bind :8080",
      "maxconn 4096",
      "tcp-request connection track-sc0 src table st_per_source",
      "tcp-request connection reject if { sc0_conn_cur gt 200 }",
      "http-request deny deny_status 429 if { sc0_http_req_rate gt 2000 }",
    ]);
    expect(fe).toEqual(
      expect.arrayContaining([
        "http-request track-sc1 src table st_websockets_per_source if websocket_upgrade",
        "http-request deny deny_status 429 if websocket_upgrade { sc1_conn_cur gt 50 }",
      ]),
    );
    const exempt = section(renderHaproxyCfg(model({ limits: { ...model().limits, exemptSources: ["10.1.0.0/16", "10.0.0.7"] } })), "frontend fe_http");
    expect(exempt).toEqual(
      expect.arrayContaining([
        "acl exempt_source src 10.0.0.7 10.1.0.0/16",
        "tcp-request connection track-sc0 src table st_per_source unless exempt_source",
        "http-request track-sc1 src table st_websockets_per_source if websocket_upgrade !exempt_source",
      ]),
    );
  });

  test("only the methods Creatio answers pass; an Upgrade other than websocket and oversized bodies are refused", () => {
    const fe = section(renderHaproxyCfg(model()), "frontend fe_http");
    expect(fe).toEqual(
      expect.arrayContaining([
        "acl allowed_method method GET HEAD POST PUT PATCH DELETE OPTIONS",
        "http-request deny deny_status 405 unless allowed_method",
        "http-request deny deny_status 400 if { req.hdr(upgrade) -m found } !websocket_upgrade",
        "http-request deny deny_status 413 if { req.hdr_val(content-length) gt 104857600 }",
      ]),
    );
  });

  test("headers a client could use to pass for another address, URL or method are removed", () => {
    const fe = section(renderHaproxyCfg(model()), "frontend fe_http");
    for (const h of ["X-Real-IP", "X-Rewrite-URL", "X-HTTP-Method-Override", "X-Forwarded-Prefix", "Forwarded", "X-Forwarded-Host"]) {
      expect(fe).toContain(`http-request del-header ${h}`);
    }
    expect(fe).toContain("http-request del-header X-Original- -m beg");
  });

  test("retries: a failed connection is redispatched; only GET and HEAD are replayed after a node received them", () => {
    const cfg = renderHaproxyCfg(model({ backends: [...model().backends, portal] }));
    expect(section(cfg, "defaults")).toEqual(
      expect.arrayContaining(["option redispatch 1", "retries 3", "retry-on conn-failure empty-response junk-response 503"]),
    );
    for (const backend of ["backend be_creatio", "backend be_portal", "backend be_creatio_msg", "backend be_portal_msg"]) {
      expect(section(cfg, backend)).toContain("http-request disable-l7-retry unless METH_GET");
    }
  });

  test("graceful reloads: master-worker, bounded old workers, a runtime socket for operators", () => {
    const cfg = renderHaproxyCfg(model());
    expect(section(cfg, "global")).toEqual(
      expect.arrayContaining([
        "master-worker",
        "mworker-max-reloads 5",
        "hard-stop-after 15m",
        "stats socket /var/lib/haproxy/admin.sock mode 600 level admin",
      ]),
    );
  });

  test("each listener has its own maxconn; the process limit is their sum plus the stats listener's", () => {
    const cfg = renderHaproxyCfg(model({ limits: { ...model().limits, maxConnections: 10000 }, tls: tls(), backends: [...model().backends, portal] }));
    for (const fe of ["frontend fe_http", "frontend fe_https", "frontend fe_portal"]) expect(section(cfg, fe)).toContain("maxconn 10000");
    expect(section(cfg, "listen stats")).toContain("maxconn 32");
    expect(section(cfg, "global")).toContain("maxconn 30032");
  });

  test("stats page behind a userlist hash, never a cleartext stats auth; metrics answered before any limit or auth", () => {
    const cfg = renderHaproxyCfg(model({ stats: { ...model().stats, metricsPath: "/prom" } }));
    expect(cfg).toContain(`user admin password ${STATS_TEST_HASH}\n`);
    const stats = section(cfg, "listen stats");
    expect(stats[5]).toBe("http-request use-service prometheus-exporter if { path /prom }");
    expect(stats).toContain("stats http-request auth realm haproxy-stats unless { var(txn.stats_auth) -m bool }");
    expect(cfg).not.toMatch(/stats auth |insecure-password/);
  });

  test("stats: after failedLoginsPerMinute wrong passwords an address is refused before its password is checked", () => {
    const stats = section(renderHaproxyCfg(model()), "listen stats");
    const deny = stats.indexOf("http-request deny deny_status 429 if { sc0_gpc0_rate gt 10 }");
    const check = stats.findIndex((l) => l.includes("http_auth(stats_users)"));
    expect(deny).toBeGreaterThan(0);
    expect(check).toBeGreaterThan(deny);
    expect(stats).toContain("http-request sc-inc-gpc0(0) if { req.hdr(authorization) -m found } !{ var(txn.stats_auth) -m bool }");
  });

  test("stats admin actions: off by default; when on, a POST from another origin is refused", () => {
    expect(section(renderHaproxyCfg(model()), "listen stats").join("\n")).not.toMatch(/stats admin|origin/);
    const on = section(renderHaproxyCfg(model({ stats: { ...model().stats, admin: true } })), "listen stats");
    expect(on).toContain("stats admin if { var(txn.stats_auth) -m bool }");
    expect(on).toContain(
      "http-request deny deny_status 403 if METH_POST { req.hdr(origin) -m found } !{ req.hdr(origin),regsub(^https?://,),strcmp(txn.stats_host) eq 0 }",
    );
  });

  test("SignalR: /msg (any case, and under /msg/) and WebSocket upgrades go to a cookie-sticky twin of the backend", () => {
    const cfg = renderHaproxyCfg(model());
    expect(section(cfg, "backend be_creatio_msg")).toEqual([
      "balance roundrobin",
      "cookie creatio_farm_node insert indirect nocache httponly",
      "http-request disable-l7-retry unless METH_GET",
      "server node-1 172.30.10.11:5000 weight 2 track be_creatio/node-1 cookie node-1",
      "server node-2 172.30.10.12:5000 weight 1 track be_creatio/node-2 cookie node-2",
    ]);
    // Everything else is balanced by weight, without affinity.
    expect(section(cfg, "backend be_creatio").join("\n")).not.toMatch(/cookie/);
  });

  test("the affinity cookie is Secure only when HTTP answers with a redirect (a Secure cookie never comes back over HTTP)", () => {
    const cookie = (m: HaproxyModel) => section(renderHaproxyCfg(m), "backend be_creatio_msg")[1];
    expect(cookie(model({ tls: tls() }))).toBe("cookie creatio_farm_node insert indirect nocache httponly secure");
    expect(cookie(model({ tls: tls({ redirectHttp: false }) }))).toBe("cookie creatio_farm_node insert indirect nocache httponly");
  });

  test("the stats listener refuses connections from the farm's networks, except Docker's gateway (published ports)", () => {
    const stats = section(renderHaproxyCfg(model()), "listen stats");
    expect(stats.slice(0, 3)).toEqual(["bind :9000", "maxconn 32", "tcp-request connection reject if { src 172.30.10.0/24 } !{ src 172.30.10.1 }"]);
  });

  test("the client's forwarding headers never reach a node: X-Forwarded-For and -Proto are overwritten", () => {
    const http = section(renderHaproxyCfg(model()), "frontend fe_http");
    expect(http).toEqual(
      expect.arrayContaining(["http-request set-header X-Forwarded-For %[src]", "http-request set-header X-Forwarded-Proto http"]),
    );
    expect(http.filter((l) => /X-Forwarded-(For|Proto)/.test(l) && !l.includes("del-header"))).toHaveLength(2);
    expect(http.slice(-4)).toEqual([
      "http-request track-sc1 src table st_websockets_per_source if websocket_upgrade",
      "http-request deny deny_status 429 if websocket_upgrade { sc1_conn_cur gt 50 }",
      "use_backend be_creatio_msg if signalr || websocket_upgrade",
      "default_backend be_creatio",
    ]);
    expect(renderHaproxyCfg(model())).not.toContain("option forwardfor");
  });

  describe("without TLS", () => {
    const cfg = renderHaproxyCfg(model());
    test("no HTTPS frontend, no TLS settings, no cookie rewrite", () => {
      expect(cfg).not.toMatch(/fe_https|ssl|Strict-Transport-Security|Set-Cookie/);
    });
  });

  describe("with TLS", () => {
    test("HTTPS serves the public backend with Mozilla intermediate settings, HSTS and Secure cookies", () => {
      const cfg = renderHaproxyCfg(model({ tls: tls({ certificate: "/usr/local/etc/haproxy/certs/crm.pem" }) }));
      expect(section(cfg, "global")).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:.*:DHE-RSA-CHACHA20-POLY1305$/),
          "ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256",
          "ssl-default-bind-options prefer-client-ciphers ssl-min-ver TLSv1.2 no-tls-tickets",
        ]),
      );
      const https = section(cfg, "frontend fe_https");
      expect(https[0]).toBe("bind :8443 ssl crt /usr/local/etc/haproxy/certs/crm.pem alpn h2,http/1.1");
      expect(https).toEqual(
        expect.arrayContaining([
          "http-request set-header X-Forwarded-For %[src]",
          "http-request set-header X-Forwarded-Proto https",
          "http-response replace-header Set-Cookie '(?i)^((?:(?!;\\s*secure\\b).)*)$' '\\1; Secure'",
          'http-after-response set-header Strict-Transport-Security "max-age=63072000"',
          "default_backend be_creatio",
        ]),
      );
    });

    test("plain HTTP redirects to the configured host (never the client's Host), naming the port only when it is not 443", () => {
      const on443 = section(renderHaproxyCfg(model({ tls: tls() })), "frontend fe_http");
      expect(on443.at(-1)).toBe("http-request redirect location https://crm.example.com%[capture.req.uri] code 301");
      expect(on443.join("\n")).not.toMatch(/req\.hdr\(host\)/);
      const on8443 = section(renderHaproxyCfg(model({ tls: tls({ publicPort: 8443 }) })), "frontend fe_http");
      expect(on8443.at(-1)).toBe("http-request redirect location https://crm.example.com:8443%[capture.req.uri] code 301");
      expect(() => renderHaproxyCfg(model({ tls: tls({ canonicalHost: undefined }) }))).toThrow(/open redirect/);
    });

    test("redirectHttp false: plain HTTP serves too, without Secure cookies or HSTS", () => {
      const http = section(renderHaproxyCfg(model({ tls: tls({ redirectHttp: false }) })), "frontend fe_http");
      expect(http).toContain("default_backend be_creatio");
      expect(http.join("\n")).not.toMatch(/redirect|Secure|Strict-Transport-Security/);
    });
  });

  describe("a second backend on its own listener (the portal hook)", () => {
    test("gets its own frontend and backend; the public frontends keep serving the first", () => {
      const cfg = renderHaproxyCfg(model({ tls: tls(), backends: [portal, ...model().backends] }));
      const fe = section(cfg, "frontend fe_portal");
      expect(fe.slice(0, 2)).toEqual(["bind :8081", "maxconn 4096"]);
      expect(fe.slice(-2)).toEqual(["use_backend be_portal_msg if signalr || websocket_upgrade", "default_backend be_portal"]);
      expect(section(cfg, "frontend fe_https")).toContain("default_backend be_creatio");
      expect(section(cfg, "backend be_portal")).toContain("server portal-1 172.30.10.21:5000 weight 1");
    });

    test("keeps the forwarding headers of the proxies it trusts, and only theirs", () => {
      const trusted = { ...portal, listen: { bind: ":8081", trustForwardedFrom: ["172.30.30.3", "172.30.30.2"] } };
      const fe = section(renderHaproxyCfg(model({ backends: [...model().backends, trusted] })), "frontend fe_portal");
      // every connection comes from the proxy: per-source limits would throttle all clients together
      expect(fe.join("\n")).not.toMatch(/track-sc|sc0_|sc1_/);
      expect(fe.filter((l) => /trusted_proxy/.test(l))).toEqual([
        "acl trusted_proxy src 172.30.30.2 172.30.30.3",
        "http-request set-header X-Forwarded-For %[src] unless trusted_proxy { req.hdr(X-Forwarded-For) -m found }",
        "http-request set-header X-Forwarded-Proto http unless trusted_proxy { req.hdr(X-Forwarded-Proto) -m found }",
      ]);
    });

    test.each([
      ["no public backend", [portal], "exactly one public backend (without its own listener), got 0"],
      ["two public backends", [model().backends[0], { ...model().backends[0], name: "other" }], "exactly one public backend (without its own listener), got 2"],
      ["a name used twice", [model().backends[0], { ...portal, name: "creatio" }], 'backend "creatio" is defined twice'],
      ["a backend without servers", [model().backends[0], { ...portal, servers: [] }], 'backend "portal" needs at least one server'],
    ])("%s is refused", (_, backends, message) => {
      expect(() => renderHaproxyCfg(model({ backends }))).toThrow(message);
    });
  });

  test("the same model renders the same bytes", () => {
    const m = model({ tls: tls(), backends: [...model().backends, portal] });
    expect(renderHaproxyCfg(m)).toBe(renderHaproxyCfg(m));
  });
});
