/**
 * An environment with `portal:`: what the stack wires between the DMZ proxy, the balancer, the portal nodes and the
 * data services, read from the synthesized Terraform.
 */
import { Testing } from "cdktf";
import { CreatioFarmStack } from "../../app/farm-stack";
import { FarmConfig, FarmConfigInput } from "../../schema/schema";
import { config, containers, minimalInput, synthFarmStack, uploadContent } from "../support/farm";

function portalInput(extra: Partial<NonNullable<FarmConfigInput["portal"]>> = {}): FarmConfigInput {
  const input = minimalInput();
  return {
    ...input,
    balancer: { ...input.balancer, bindAddress: "10.0.0.5" },
    portal: {
      image: "nginx:1.27",
      publicHost: "portal.example.com",
      certificate: "/etc/creatio-farm/tls/portal.pem",
      bindAddress: "198.51.100.7",
      nodes: [{ name: "p1" }, { name: "p2", weight: 2 }],
      ...extra,
    },
  };
}

/** A provisioned file's content as Terraform gets it. */
const file = (tf: any, container: string, path: string): string => {
  const upload = containers(tf)[container].upload.find((u: any) => u.file === path);
  if (!upload) throw new Error(`${container} has no ${path}`);
  return uploadContent(tf, upload);
};

const nets = (tf: any, name: string) => containers(tf)[name].networks_advanced.map((n: any) => [n.name.replace(/^\$\{docker_network\.network-([a-z-]+)\.name\}$/, "$1"), n.ipv4_address]);

describe("GIVEN an environment with a portal", () => {
  const { tf, stack } = synthFarmStack(config(portalInput()));

  test("THEN only the proxy and the balancer publish ports, the proxy alone on the public address", () => {
    const published = Object.values<any>(tf.resource.docker_container)
      .filter((c) => c.ports?.length)
      .flatMap((c) => c.ports.map((p: any) => `${c.name} ${p.ip}:${p.external}`))
      .sort();
    expect(published).toEqual(["test-dmz-proxy 198.51.100.7:443", "test-dmz-proxy 198.51.100.7:80", "test-haproxy 10.0.0.5:80", "test-haproxy 127.0.0.1:9000"]);
  });

  test("THEN the proxy is on the DMZ only; the portal nodes share no network with the internal nodes; Redis and PostgreSQL never with the proxy", () => {
    expect(nets(tf, "test-dmz-proxy")).toEqual([["dmz", "172.30.12.3"]]);
    expect(nets(tf, "test-haproxy")).toEqual([["app", "172.30.10.2"], ["dmz", "172.30.12.2"], ["portal", "172.30.13.2"]]);
    expect(nets(tf, "test-portal-p1")).toEqual([["portal", "172.30.13.11"], ["portal-data", "172.30.14.11"]]);
    expect(nets(tf, "test-creatio-node-1")).toEqual([["app", "172.30.10.11"], ["data", "172.30.11.11"]]);
    expect(nets(tf, "test-redis")).toEqual([["data", "172.30.11.2"], ["portal-data", "172.30.14.2"]]);
    expect(nets(tf, "test-postgres")).toEqual([["data", "172.30.11.3"], ["portal-data", "172.30.14.3"]]);
    const internal = Object.values<any>(tf.resource.docker_network).filter((n) => n.internal).map((n) => n.name).sort();
    expect(internal).toEqual(["test-data", "test-portal", "test-portal-data"]);
  });

  test("THEN the portal nodes sign in as their own role, which PostgreSQL lets in from their network only, and the bootstrap job creates", () => {
    const connectionStrings = file(tf, "test-portal-p1", "/app/ConnectionStrings.config");
    expect(connectionStrings).toContain("User ID=creatio_portal;");
    expect(connectionStrings).toMatch(/password=\$\{random_password\.secrets_database-portal-password_\w+\.result\}/);
    expect(file(tf, "test-creatio-node-1", "/app/ConnectionStrings.config")).toContain("User ID=creatio;");
    const hba = file(tf, "test-postgres", "/opt/creatio-farm/pg_hba.conf");
    expect(hba.split("\n").filter((l) => l.startsWith("host"))).toEqual([
      "host    creatio  creatio  172.30.11.0/24  scram-sha-256",
      "host    creatio  creatio_portal  172.30.14.0/24  scram-sha-256",
    ]);
    const job = containers(tf)["test-postgres-bootstrap"];
    const role = job.upload.find((u: any) => u.file === "/opt/creatio-farm/role-password-creatio_portal");
    expect([role.permissions, role.content]).toEqual(["0600", expect.stringMatching(/^\$\{random_password\.secrets_database-portal-password_\w+\.result\}$/)]);
    expect(file(tf, "test-postgres-bootstrap", "/opt/creatio-farm/bootstrap.sql")).toContain("\\set data_role_0 'creatio_portal'");
    // every node starts after the bootstrap
    for (const name of ["test-portal-p1", "test-creatio-node-1"]) expect(containers(tf)[name].depends_on).toEqual([expect.stringMatching(/^docker_container\.database_bootstrap_/)]);
  });

  test("THEN portal nodes keep SSPUserPassword only; every node gets the generated UserManagementSauPassword", () => {
    const dockerfile = (set: "portal" | "nodes") => (set === "portal" ? stack.portal!.nodes : stack.nodes).nodeImage.contextFiles().find((f) => f.path === "Dockerfile")!.content;
    expect(dockerfile("portal")).toContain("\nENV CREATIO_AUTH_PROVIDERS=SSPUserPassword\n");
    expect(dockerfile("nodes")).not.toContain("CREATIO_AUTH_PROVIDERS");
    for (const name of ["test-portal-p1", "test-portal-p2", "test-creatio-node-1", "test-creatio-node-2"]) {
      expect(containers(tf)[name].env).toContain("CREATIO_SAU_PASSWORD_FILE=/opt/creatio-farm/user-management-sau-password");
      expect(file(tf, name, "/opt/creatio-farm/user-management-sau-password")).toMatch(/^\$\{random_password\.secrets_user-management-sau-password_\w+\.result\}$/);
    }
    expect(tf.output.user_management_sau_password.sensitive).toBe(true);
    expect(tf.output.portal_url.value).toBe("https://portal.example.com/");
  });

  test("THEN the balancer serves the portal nodes on a DMZ listener that only the proxy may reach and whose X-Forwarded-For it trusts; no integration listener without endpoints", () => {
    const cfg = file(tf, "test-haproxy-config", "/opt/creatio-farm/staged/haproxy.cfg");
    expect(cfg).toMatch(/frontend fe_portal\n[\s\S]*?bind :8081/);
    expect(cfg).toMatch(/backend be_portal\n[\s\S]*?server p2 172\.30\.13\.12:5000[^\n]*weight 2/);
    expect(cfg).toContain("172.30.12.3");
    expect(cfg).not.toContain("fe_integrations");
    const nginx = file(tf, "test-dmz-proxy", "/etc/nginx/nginx.conf");
    expect(nginx).toContain("server 172.30.12.2:8081");
  });
});

test("GIVEN a portal with endpoints THEN the balancer gets the integration listener for the internal nodes, and the proxy sends them there", () => {
  const { tf } = synthFarmStack(config(portalInput({ endpoints: { scim: true } })));
  const cfg = file(tf, "test-haproxy-config", "/opt/creatio-farm/staged/haproxy.cfg");
  expect(cfg).toMatch(/frontend fe_integrations\n[\s\S]*?bind :8082[\s\S]*?default_backend be_creatio/);
  expect(file(tf, "test-dmz-proxy", "/etc/nginx/nginx.conf")).toContain("server 172.30.12.2:8082");
});

test("GIVEN no portal THEN nothing of it exists", () => {
  const { tf } = synthFarmStack();
  expect(Object.keys(containers(tf)).filter((n) => /portal|dmz/.test(n))).toEqual([]);
  expect(Object.values<any>(tf.resource.docker_network).map((n) => n.name).sort()).toEqual(["test-app", "test-data"]);
  expect(tf.output.portal_url).toBeUndefined();
});

test.each([
  ["the balancer", { bindAddress: "0.0.0.0" }, /\[test\/balancer\] balancer bindAddress: expected the host address of the internal network/],
  ["the stats page", { stats: { bindAddress: "198.51.100.7" } }, /\[test\/balancer\] balancer stats\.bindAddress: expected another host address than the portal's/],
])("GIVEN a config that skipped the schema, with %s on the public address beside a portal THEN the construct tier refuses it with the balancer's path", (_, balancer, message) => {
  const valid = config(portalInput());
  const cfg = { ...valid, balancer: { ...valid.balancer, ...balancer } } as FarmConfig;
  expect(() => new CreatioFarmStack(Testing.app(), "test", cfg)).toThrow(message);
});

test("GIVEN endpoints THEN the integration listener serves their paths only, the patterns the proxy uses", () => {
  const { tf } = synthFarmStack(config(portalInput({ endpoints: { bulkEmail: true } })));
  const cfg = file(tf, "test-haproxy-config", "/opt/creatio-farm/staged/haproxy.cfg");
  const integration = cfg.slice(cfg.indexOf("frontend fe_integrations"), cfg.indexOf("\nfrontend ", cfg.indexOf("frontend fe_integrations") + 1));
  expect(integration.match(/acl allowed_path path_reg -i '[^']+'/g)).toEqual([
    "acl allowed_path path_reg -i '^/(?:0/)?ServiceModel/CESWebHooksService\\.svc/HandleWebHooks$'",
    "acl allowed_path path_reg -i '^/(?:0/)?ServiceModel/CESTroubleshootingService\\.svc/emailstate$'",
  ]);
  expect(integration).toContain("http-request deny deny_status 404 unless allowed_path");
  // the portal's own listener has no such list: the proxy's allow-list and the nodes decide
  expect(cfg.slice(cfg.indexOf("frontend fe_portal"), cfg.indexOf("frontend fe_integrations"))).not.toContain("allowed_path");
});
