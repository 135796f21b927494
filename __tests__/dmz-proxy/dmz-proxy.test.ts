/** The DMZ proxy construct and its renderer: what Docker receives, and an nginx.conf the real nginx accepts. */
import { TerraformStack, Testing } from "cdktf";
import { DmzProxy, DmzProxyProps } from "../../constructs/dmz-proxy/dmz-proxy";
import { DENIED_PATHS, PORTAL_PREFIXES, renderNginxConf } from "../../constructs/dmz-proxy/render-nginx-conf";
import { INTEGRATION_ENDPOINTS } from "../../constructs/dmz-proxy/endpoints";
import { FarmNetwork } from "../../constructs/networks/farm-network";
import { FarmSecrets } from "../../constructs/secrets/farm-secrets";
import { nginxCheck } from "../support/nginx-check";

function proxy(props: Partial<DmzProxyProps> = {}) {
  const stack = new TerraformStack(Testing.app(), "s");
  const secrets = new FarmSecrets(stack, "secrets");
  const dmz = new FarmNetwork(stack, "dmz", { name: "s-dmz", subnet: "172.30.12.0/24", dmz: true });
  const p = new DmzProxy(stack, "dmz-proxy", {
    environment: "s",
    image: "nginx:1.27",
    network: dmz,
    addressOffset: 3,
    secrets,
    serverName: "portal.example.com",
    certificate: "/etc/creatio-farm/tls/portal.pem",
    ...props,
  });
  return { stack, p };
}

describe("DmzProxy", () => {
  test("GIVEN a proxy forwarding to the balancer WHEN synthesized THEN it publishes 80 and 443, mounts only the certificate's directory, read-only", () => {
    const { stack, p } = proxy({ bindAddress: "203.0.113.7" });
    p.forwardPortalTo({ address: "172.30.12.2", port: 8081 });
    const tf = JSON.parse(Testing.synth(stack));
    const c = Object.values<any>(tf.resource.docker_container)[0];
    expect(p.address).toBe("172.30.12.3");
    expect(c.ports).toEqual([
      { internal: 8080, external: 80, ip: "203.0.113.7", protocol: "tcp" },
      { internal: 8443, external: 443, ip: "203.0.113.7", protocol: "tcp" },
    ]);
    expect(c.volumes).toEqual([{ host_path: "/etc/creatio-farm/tls", container_path: "/etc/nginx/certs", read_only: true }]);
    expect(c.capabilities).toEqual({ drop: ["ALL"], add: ["CHOWN", "SETGID", "SETUID"] });
    expect(c.stop_signal).toBe("SIGQUIT");
    const conf = p.container.renderedFiles()[0].content;
    expect(conf).toContain("server 172.30.12.2:8081;");
    expect(conf).toContain("ssl_certificate /etc/nginx/certs/portal.pem;");
    expect(conf).not.toContain("upstream integration");
    expect(nginxCheck(conf)).toEqual({ status: 0, output: expect.stringContaining("test is successful") });
  });

  test("GIVEN every endpoint THEN each has its location, methods and zone, and nginx -t accepts the file", () => {
    const { p } = proxy({ endpoints: ["scim", "bulkEmail", "webForms", "chats"], extraAllowedPrefixes: ["/CustomPortal/"] });
    p.forwardPortalTo({ address: "172.30.12.2", port: 8081 });
    p.forwardIntegrationsTo({ address: "172.30.12.2", port: 8082 });
    const conf = p.container.renderedFiles()[0].content;
    for (const e of Object.values(INTEGRATION_ENDPOINTS).flat()) {
      expect(conf).toContain(`location ~* "${e.pathPattern}" {\n            limit_except ${e.methods.join(" ")} {`);
      expect(conf).toContain(`zone=ep_${e.name}:10m rate=${e.requestsPerMinute}r/m;`);
    }
    expect(conf).toContain("location /CustomPortal/ {");
    expect(conf).toMatchSnapshot();
    expect(nginxCheck(conf).status).toBe(0);
  });

  test("the deny rules come before every prefix, and no prefix is a ^~ one (it would skip them)", () => {
    const conf = renderNginxConf({
      serverName: "portal.example.com", httpPort: 8080, httpsPort: 8443, publicHttpsPort: 443, accessLog: "/a", errorLog: "/e", pidFile: "/p",
      certificate: "/c.pem", portalUpstream: "10.0.0.2:8081", extraAllowedPrefixes: [], endpoints: [],
      limits: { requestsPerSecond: 1, burst: 1, connectionsPerSource: 1, bodyMb: 1, loginsPerMinute: 1 }, hstsMaxAgeSeconds: 1, websocketIdleSeconds: 1,
    });
    const firstPrefix = Math.min(...PORTAL_PREFIXES.map((p) => conf.indexOf(`location ${p} {`)));
    for (const d of DENIED_PATHS) expect(conf.indexOf(`location ~* "${d}"`)).toBeLessThan(firstPrefix);
    expect(conf).not.toMatch(/location \^~/);
  });

  test.each([
    [{ serverName: "portal example" }, '[s/dmz-proxy] serverName: expected a host name such as portal.example.com, got "portal example"'],
    [{ certificate: "/etc/portal.pem" }, "[s/dmz-proxy] certificate: expected the certificate in a directory of its own"],
    [{ httpPort: 8443, httpsPort: 8443 }, "[s/dmz-proxy] httpsPort: expected a port other than httpPort (8443)"],
  ])("GIVEN %j THEN it is refused with the construct path", (props, message) => {
    expect(() => proxy(props)).toThrow(message);
  });

  test("GIVEN no forwardPortalTo, or endpoints without forwardIntegrationsTo, THEN synth fails saying which call is missing", () => {
    expect(() => Testing.synth(proxy().stack)).toThrow("[s/dmz-proxy] the DMZ proxy has no upstream: call forwardPortalTo before synth");
    const { stack, p } = proxy({ endpoints: ["scim"] });
    p.forwardPortalTo({ address: "172.30.12.2", port: 8081 });
    expect(() => Testing.synth(stack)).toThrow("[s/dmz-proxy] the DMZ proxy has no upstream: call forwardIntegrationsTo before synth");
  });

  test("an extra allowed path must be a plain prefix", () => {
    const { p } = proxy({ extraAllowedPrefixes: ["/Custom"] });
    p.forwardPortalTo({ address: "172.30.12.2", port: 8081 });
    expect(() => p.container.renderedFiles()).toThrow('extra allowed path "/Custom": expected a path prefix from / to / of letters, digits and ._~-');
  });
});
