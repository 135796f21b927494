import * as fs from "fs";
import * as path from "path";
import { HaproxyModel, renderHaproxyCfg } from "../../constructs/balancer/render-haproxy-cfg";
import { STATS_TEST_HASH } from "../support/hashes";
import { tempDir } from "../support/farm";
import { requireProgram, run } from "../support/programs";

function model(overrides: Partial<HaproxyModel> = {}): HaproxyModel {
  return {
    environment: "dev",
    maxConnections: 4096,
    httpBind: ":8080",
    healthCheck: { path: "/0/ping", host: "localhost", intervalMs: 2000, fall: 3, rise: 2, timeoutMs: 5000 },
    servers: [
      { name: "node-1", address: "172.30.10.11", port: 5000, weight: 2 },
      { name: "node-2", address: "172.30.10.12", port: 5000, weight: 1 },
    ],
    stats: { bind: ":9000", uri: "/haproxy_stats", user: "admin", passwordHash: STATS_TEST_HASH },
    ...overrides,
  };
}

/** `haproxy -dW -c`: zero-warning mode, so a rule HAProxy would silently ignore fails the check too. */
function haproxyCheck(cfg: string) {
  const haproxy = requireProgram("haproxy", "haproxy");
  const dir = tempDir("haproxy");
  const file = path.join(dir, "haproxy.cfg");
  fs.writeFileSync(file, cfg);
  try {
    return run(haproxy, ["-dW", "-c", "-f", file]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("renderHaproxyCfg", () => {
  test("the rendered file passes haproxy -dW -c (warnings are errors)", () => {
    const result = haproxyCheck(renderHaproxyCfg(model()));
    expect(result.output).toContain("Configuration file is valid");
    expect(result.status).toBe(0);
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
    const cfg = renderHaproxyCfg(model({ servers: [...model().servers].reverse() }));
    expect(cfg).toContain("    balance roundrobin\n");
    expect(cfg).toMatch(/server node-1 172\.30\.10\.11:5000 weight 2\n\s+server node-2 172\.30\.10\.12:5000 weight 1\n/);
  });

  test("HTTP/1.1 health check with a Host header, 200 only, and the configured timings", () => {
    const cfg = renderHaproxyCfg(
      model({ healthCheck: { path: "/api/HealthCheck/Ping", host: "crm.internal", intervalMs: 3000, fall: 4, rise: 3, timeoutMs: 7000 } }),
    );
    expect(cfg).toContain("http-check send meth GET uri /api/HealthCheck/Ping ver HTTP/1.1 hdr Host crm.internal\n");
    expect(cfg).toContain("http-check expect status 200\n");
    expect(cfg).toContain("default-server check inter 3000ms fastinter 1000ms downinter 3000ms fall 4 rise 3\n");
    expect(cfg).toContain("timeout check 7000ms\n");
  });

  test("stats page behind a userlist hash, never a cleartext stats auth", () => {
    const cfg = renderHaproxyCfg(model());
    expect(cfg).toContain(`user admin password ${STATS_TEST_HASH}\n`);
    expect(cfg).toContain("stats http-request auth realm haproxy-stats unless stats_auth\n");
    expect(cfg).not.toMatch(/stats auth |insecure-password/);
  });

  test("a client's X-Forwarded-For is dropped before HAProxy writes the real one", () => {
    const cfg = renderHaproxyCfg(model());
    expect(cfg).toContain("http-request del-header X-Forwarded-For\n");
    expect(cfg).toContain("option forwardfor\n");
  });

  test("the same model renders the same bytes", () => {
    expect(renderHaproxyCfg(model())).toBe(renderHaproxyCfg(model()));
  });

  test("a backend without servers is refused", () => {
    expect(() => renderHaproxyCfg(model({ servers: [] }))).toThrow("at least one server");
  });
});
