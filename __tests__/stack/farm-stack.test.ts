import { TerraformStack, Testing } from "cdktf";
import { Network } from "@cdktf/provider-docker/lib/network";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Container } from "@cdktf/provider-docker/lib/container";
import { CreatioFarmStack } from "../../constructs/farm-stack";
import { HaproxyBalancer } from "../../constructs/balancer/haproxy-balancer";
import { CreatioNodeSet } from "../../constructs/creatio-nodes/creatio-node-set";
import { FarmNetwork } from "../../constructs/networks/farm-network";
import { FarmSecrets } from "../../constructs/secrets/farm-secrets";
import { config, containers, minimalInput, synthFarmStack } from "../support/farm";

describe("CreatioFarmStack", () => {
  test("networks: app with a fixed subnet, data internal", () => {
    const { json } = synthFarmStack();
    expect(json).toHaveResourceWithProperties(Network, {
      name: "test-app",
      internal: false,
      ipam_config: [{ subnet: "172.30.10.0/24", gateway: "172.30.10.1" }],
    });
    expect(json).toHaveResourceWithProperties(Network, {
      name: "test-data",
      internal: true,
      ipam_config: [{ subnet: "172.30.11.0/24", gateway: "172.30.11.1" }],
    });
  });

  test("only the balancer publishes host ports; stats on loopback by default", () => {
    const { tf } = synthFarmStack();
    const byName = containers(tf);
    expect(Object.keys(byName).sort()).toEqual([
      "test-creatio-node-1",
      "test-creatio-node-2",
      "test-haproxy",
      "test-postgres",
      "test-redis",
    ]);
    for (const [name, c] of Object.entries(byName)) {
      if (name !== "test-haproxy") expect(c.ports).toBeUndefined();
    }
    expect(byName["test-haproxy"].ports).toEqual([
      { internal: 8080, external: 80, ip: "0.0.0.0", protocol: "tcp" },
      { internal: 9000, external: 9000, ip: "127.0.0.1", protocol: "tcp" },
    ]);
  });

  test("nodes are on app and data; Redis and PostgreSQL on data only; the balancer on app only", () => {
    const { tf } = synthFarmStack();
    const nets = (name: string) => containers(tf)[name].networks_advanced.map((n: any) => [n.name, n.ipv4_address]);
    expect(nets("test-haproxy")).toEqual([["${docker_network.network-app.name}", "172.30.10.2"]]);
    expect(nets("test-creatio-node-2")).toEqual([
      ["${docker_network.network-app.name}", "172.30.10.12"],
      ["${docker_network.network-data.name}", "172.30.11.12"],
    ]);
    expect(nets("test-redis")).toEqual([["${docker_network.network-data.name}", "172.30.11.2"]]);
    expect(nets("test-postgres")).toEqual([["${docker_network.network-data.name}", "172.30.11.3"]]);
  });

  test("KnownProxiesIP on every node is the balancer's app address, derived from the topology", () => {
    const { stack, tf } = synthFarmStack(config({ ...minimalInput(), network: { appSubnet: "10.20.0.0/24" } }));
    expect(stack.balancer.address).toBe("10.20.0.2");
    for (const member of stack.nodes.members) {
      const upload = containers(tf)[member.container.name].upload.find((u: any) => u.file === "/opt/creatio-farm/appsettings.farm.json");
      expect(JSON.parse(upload.content).ForwardedHeaders.KnownProxiesIP).toEqual(["10.20.0.2"]);
    }
  });

  test("the database volume is protected from destroy; the Redis volume exists", () => {
    const { json } = synthFarmStack();
    expect(json).toHaveResourceWithProperties(Volume, { name: "test-postgres-data", lifecycle: { prevent_destroy: true } });
    expect(json).toHaveResourceWithProperties(Volume, { name: "test-redis-data" });
  });

  test("secrets come from the random provider and are referenced, never inlined", () => {
    const { tf, json } = synthFarmStack();
    expect(Object.keys(tf.resource.random_password).length).toBe(3);
    const pg = containers(tf)["test-postgres"];
    expect(pg.env).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^POSTGRES_PASSWORD=\$\{random_password\.secrets_database-superuser-password_\w+\.result\}$/),
        expect.stringMatching(/^CREATIO_DB_PASSWORD=\$\{random_password\.secrets_database-password_\w+\.result\}$/),
      ]),
    );
    expect(json).toMatch(/user admin password \$\{random_password\.secrets_stats-password_\w+\.bcrypt_hash\}/);
    expect(tf.output.stats_password.sensitive).toBe(true);
    expect(json).not.toContain("@@secret:");
  });

  test("the node entrypoint runs the patch step before Creatio", () => {
    const { tf } = synthFarmStack();
    const node = containers(tf)["test-creatio-node-1"];
    expect(node.entrypoint).toEqual(["/bin/sh", "/opt/creatio-farm/entrypoint.sh"]);
    expect(node.command).toEqual(["dotnet", "Terrasoft.WebHost.dll"]);
    expect(node.env).toEqual(["CREATIO_APP_DIR=/app", "CREATIO_FARM_DIR=/opt/creatio-farm", "CREATIO_TENANT_ID=1"]);
    expect(node.upload.map((u: any) => u.file)).toEqual([
      "/app/ConnectionStrings.config",
      "/opt/creatio-farm/appsettings.farm.json",
      "/opt/creatio-farm/entrypoint.sh",
      "/opt/creatio-farm/merge-appsettings.awk",
      "/opt/creatio-farm/patch-webhost-config.awk",
    ]);
  });

  test("operations: rotated logs everywhere, health checks on the data services, time to stop cleanly", () => {
    const { tf } = synthFarmStack();
    for (const c of Object.values(containers(tf))) {
      expect(c.log_driver).toBe("json-file");
      expect(c.log_opts).toEqual({ "max-file": "5", "max-size": "50m" });
    }
    const pg = containers(tf)["test-postgres"];
    expect(pg.healthcheck.test).toEqual(["CMD", "pg_isready", "--username=postgres", "--dbname=postgres"]);
    expect([pg.stop_signal, pg.stop_timeout, pg.destroy_grace_seconds]).toEqual(["SIGINT", 120, 120]);
    expect(containers(tf)["test-redis"].healthcheck.test).toEqual(["CMD", "redis-cli", "ping"]);
  });

  test("the database passwords cannot be replaced by a plan (PostgreSQL applies them only at initialization)", () => {
    const { tf } = synthFarmStack();
    const passwords = Object.entries(tf.resource.random_password).map(([id, p]) => [id.replace(/_\w{8}$/, ""), p.lifecycle]);
    expect(passwords).toEqual([
      ["secrets_database-password", { prevent_destroy: true }],
      ["secrets_database-superuser-password", { prevent_destroy: true }],
      ["secrets_stats-password", undefined],
    ]);
  });

  test("Redis memory is bounded", () => {
    const { stack } = synthFarmStack(config({ ...minimalInput(), redis: { image: "redis:7.2", maxMemoryMb: 2048 } }));
    expect(stack.redis.container.renderedFiles()[0].content).toContain("maxmemory 2048mb\nmaxmemory-policy noeviction\n");
  });

  test("the balancer's nofile limit follows maxconn", () => {
    const { json } = synthFarmStack(config({ ...minimalInput(), balancer: { image: "haproxy:2.8", maxConnections: 10000 } }));
    expect(json).toHaveResourceWithProperties(Container, {
      name: "test-haproxy",
      ulimit: [{ name: "nofile", soft: 21024, hard: 21024 }],
    });
  });

  test("both connection strings carry the configured pool size; max_connections reaches the server", () => {
    const { tf } = synthFarmStack(config({ ...minimalInput(), database: { image: "postgres:16", maxConnections: 100, nodePoolSize: 22 } }));
    const cs = containers(tf)["test-creatio-node-1"].upload.find((u: any) => u.file === "/app/ConnectionStrings.config").content;
    expect(cs).toContain("MaxPoolSize=22;");
    expect(cs).toContain("Maximum Pool Size=22\"");
    expect(containers(tf)["test-postgres"].command).toEqual(["postgres", "-c", "max_connections=100", "-c", "shared_buffers=24MB"]);
  });
});

describe("relationship methods and construct validation", () => {
  function bareNodes() {
    const app = Testing.app();
    const stack = new TerraformStack(app, "s");
    const secrets = new FarmSecrets(stack, "secrets");
    const network = new FarmNetwork(stack, "net", { name: "s-app", subnet: "172.30.10.0/24" });
    const nodes = new CreatioNodeSet(stack, "creatio", { environment: "s", image: "c:1", nodes: [{ name: "a" }], secrets });
    return { stack, secrets, network, nodes };
  }

  test("a node set nobody wired fails synth with its construct path and the call to make", () => {
    const { stack } = bareNodes();
    expect(() => Testing.synth(stack, true)).toThrow(/\[s\/creatio\] no proxy in front of the nodes: call balancer\.addBackend\(nodes\)/);
  });

  test("a balancer without backend fails synth", () => {
    const { stack, secrets, network } = bareNodes();
    new HaproxyBalancer(stack, "balancer", { environment: "s", image: "haproxy:2.8", network, secrets });
    expect(() => Testing.synth(stack, true)).toThrow(/\[s\/balancer\] the balancer has no backend/);
  });

  test("the same node set cannot be added twice", () => {
    const { stack, secrets, network, nodes } = bareNodes();
    const balancer = new HaproxyBalancer(stack, "balancer", { environment: "s", image: "haproxy:2.8", network, secrets });
    balancer.addBackend(nodes);
    expect(() => balancer.addBackend(nodes)).toThrow("[s/balancer] s/creatio is already a backend of this balancer");
  });

  test("contradictory props carry the construct path", () => {
    const { stack, secrets, network } = bareNodes();
    expect(
      () => new HaproxyBalancer(stack, "lb", { environment: "s", image: "haproxy:2.8", network, secrets, httpPort: 9000 }),
    ).toThrow("[s/lb] HTTP and stats cannot both be published on host port 9000");
    expect(
      () => new CreatioNodeSet(stack, "dup", { environment: "s", image: "c:1", nodes: [{ name: "a" }, { name: "a" }], secrets }),
    ).toThrow('[s/dup] node name "a" is used twice');
  });

  test("a database too small for the node set says what max_connections it needs", () => {
    const cfg = config();
    const app = Testing.app();
    expect(
      () => new CreatioFarmStack(app, "x", { ...cfg, database: { ...cfg.database, maxConnections: 20 } }),
    ).toThrow("[x/database] max_connections 20 cannot serve 2 nodes × 2 pools × 50 + 10 reserved = 210 connections");
  });
});
