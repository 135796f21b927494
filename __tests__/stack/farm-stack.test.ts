import { TerraformStack, Testing } from "cdktf";
import { Network } from "@cdktf/provider-docker/lib/network";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Container } from "@cdktf/provider-docker/lib/container";
import { CertRequest } from "@cdktf/provider-tls/lib/cert-request";
import { LocallySignedCert } from "@cdktf/provider-tls/lib/locally-signed-cert";
import { PrivateKey } from "@cdktf/provider-tls/lib/private-key";
import { SelfSignedCert } from "@cdktf/provider-tls/lib/self-signed-cert";
import { CreatioFarmStack } from "../../app/farm-stack";
import { HaproxyBalancer } from "../../constructs/balancer/haproxy-balancer";
import { CreatioNodeSet } from "../../constructs/creatio-nodes/creatio-node-set";
import { FarmNetwork } from "../../constructs/networks/farm-network";
import { FarmSecrets } from "../../constructs/secrets/farm-secrets";
import { config, containers, minimalInput, synthFarmStack, uploadContent } from "../support/farm";

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
      "test-haproxy-config",
      "test-postgres",
      "test-postgres-bootstrap",
      "test-redis",
    ]);
    for (const [name, c] of Object.entries(byName)) {
      if (name !== "test-haproxy") expect(c.ports).toBeUndefined();
    }
    expect(byName["test-haproxy"].ports).toEqual([
      { internal: 8080, external: 80, ip: "0.0.0.0", protocol: "tcp" },
      { internal: 9000, external: 9000, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    // the configuration volume (read-only) and HAProxy's home; no bind mount without TLS
    expect(byName["test-haproxy"].volumes).toEqual([
      { volume_name: expect.stringMatching(/^\$\{docker_volume\.balancer_config-volume_\w+\.name\}$/), container_path: "/usr/local/etc/haproxy/farm", read_only: true },
      { volume_name: expect.stringMatching(/^\$\{docker_volume\.balancer_run-volume_\w+\.name\}$/), container_path: "/var/lib/haproxy" },
    ]);
    expect(Object.values<any>(tf.resource.docker_volume).map((v) => v.name).sort()).toEqual(
      expect.arrayContaining(["test-haproxy-config", "test-haproxy-run"]),
    );
  });

  test("a configuration change reaches the balancer through the config job, never by replacing the balancer", () => {
    const { tf } = synthFarmStack();
    const balancer = containers(tf)["test-haproxy"];
    const job = containers(tf)["test-haproxy-config"];
    // the balancer has no upload (the provider replaces a container whose uploads change): it waits for its first
    // configuration, then runs the image's entrypoint on it
    expect(balancer.upload).toBeUndefined();
    // so its root file system can be read-only: it writes only to its home, a volume
    expect(balancer.read_only).toBe(true);
    expect(balancer.entrypoint).toEqual([
      "/bin/sh",
      "-c",
      'until [ -s /usr/local/etc/haproxy/farm/haproxy.cfg ] && [ "$(cat /usr/local/etc/haproxy/farm/installed-for 2>/dev/null)" = "$(cat /etc/hostname)" ]; do sleep 1; done; ' +
        "exec /bin/sh /usr/local/bin/docker-entrypoint.sh haproxy -f /usr/local/etc/haproxy/farm/haproxy.cfg",
    ]);
    // the job carries the files, runs in the balancer's process namespace with no network, and is waited for
    expect(job.upload.map((u: any) => [u.file, u.permissions])).toEqual([
      ["/opt/creatio-farm/install-haproxy-config.sh", "0755"],
      ["/opt/creatio-farm/staged/haproxy.cfg", "0644"],
      ["/opt/creatio-farm/staged/release-down-nodes.lua", "0644"],
    ]);
    // the balancer container's id: a new balancer container is a new job run, which installs the files for it
    expect([job.network_mode, job.user, job.capabilities.add, job.attach, job.must_run]).toEqual(["none", "root", ["DAC_OVERRIDE", "KILL"], true, false]);
    expect(job.pid_mode).toMatch(/^container:\$\{docker_container\.balancer_container_\w+\.id\}$/);
    expect(job.env).toEqual([expect.stringMatching(/^CREATIO_FARM_BALANCER_ID=\$\{docker_container\.balancer_container_\w+\.id\}$/)]);
    // the same two volumes as the balancer, writable here
    expect(job.volumes.map((v: any) => [v.volume_name, v.container_path, v.read_only])).toEqual(
      balancer.volumes.map((v: any) => [v.volume_name, v.container_path, undefined]),
    );
  });

  test("TLS: HTTPS published beside HTTP, the certificate's directory mounted read-only, the URL output on https", () => {
    // GIVEN a certificate on the Docker host
    const cfg = config({
      ...minimalInput(),
      balancer: {
        image: "haproxy:2.8",
        bindAddress: "192.0.2.10",
        publicHost: "crm.example.com",
        tls: { certificate: "/etc/creatio-farm/tls/crm.example.com.pem" },
      },
    });
    // WHEN
    const { tf, stack } = synthFarmStack(cfg);
    // THEN
    const haproxy = containers(tf)["test-haproxy"];
    expect(haproxy.ports).toEqual([
      { internal: 8080, external: 80, ip: "192.0.2.10", protocol: "tcp" },
      { internal: 8443, external: 443, ip: "192.0.2.10", protocol: "tcp" },
      { internal: 9000, external: 9000, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    expect(haproxy.volumes).toContainEqual({ host_path: "/etc/creatio-farm/tls", container_path: "/usr/local/etc/haproxy/certs", read_only: true });
    // the config job checks the file with the certificate in place
    expect(containers(tf)["test-haproxy-config"].volumes).toContainEqual({
      host_path: "/etc/creatio-farm/tls",
      container_path: "/usr/local/etc/haproxy/certs",
      read_only: true,
    });
    const haproxyCfg = stack.balancer.configJob.renderedFiles().find((f) => f.path.endsWith("/haproxy.cfg"))!.content;
    expect(haproxyCfg).toContain("bind :8443 ssl crt /usr/local/etc/haproxy/certs/crm.example.com.pem alpn h2,http/1.1\n");
    // the URL names the public host, not the bind address
    expect(tf.output.url.value).toBe("https://crm.example.com:443/");
  });

  test("outputs name the stats page and the metrics endpoint", () => {
    const { tf } = synthFarmStack();
    expect([tf.output.url.value, tf.output.stats_url.value, tf.output.metrics_url.value]).toEqual([
      "http://localhost:80/",
      "http://127.0.0.1:9000/haproxy_stats",
      "http://127.0.0.1:9000/metrics",
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

  test("KnownProxiesIP in the node image is the balancer's app address, derived from the topology", () => {
    const { stack } = synthFarmStack(config({ ...minimalInput(), network: { appSubnet: "10.20.0.0/24" } }));
    expect(stack.balancer.address).toBe("10.20.0.2");
    const overlay = stack.nodes.nodeImage.contextFiles().find((f) => f.path === "opt/creatio-farm/appsettings.farm.json")!;
    expect(JSON.parse(overlay.content).ForwardedHeaders.KnownProxiesIP).toEqual(["10.20.0.2"]);
  });

  test("every node shares one DataProtection key ring: the set's volume at the key directory the image configures", () => {
    const { stack, tf } = synthFarmStack();
    const overlay = JSON.parse(stack.nodes.nodeImage.contextFiles().find((f) => f.path === "opt/creatio-farm/appsettings.farm.json")!.content);
    expect(overlay.DataProtection).toEqual({ ApplicationName: "Creatio", CustomizeDataProtection: true, KeysDirectory: "/app/DataProtectionKeys" });
    const [keysVolume] = Object.entries<any>(tf.resource.docker_volume).find(([, v]) => v.name === "test-creatio-data-protection-keys")!;
    const keyMounts = stack.nodes.members.map((m) => containers(tf)[m.container.name].volumes.find((v: any) => v.container_path === "/app/DataProtectionKeys"));
    expect(keyMounts).toEqual(stack.nodes.members.map(() => ({ container_path: "/app/DataProtectionKeys", volume_name: `\${docker_volume.${keysVolume}.name}` })));
    expect(stack.nodes.nodeImage.contextFiles().find((f) => f.path === "Dockerfile")!.content).toContain(" CREATIO_DATA_PROTECTION_KEYS=/app/DataProtectionKeys");
  });

  test("the database volume is protected from destroy; the Redis volume exists", () => {
    const { json } = synthFarmStack();
    expect(json).toHaveResourceWithProperties(Volume, { name: "test-postgres-data", lifecycle: { prevent_destroy: true } });
    expect(json).toHaveResourceWithProperties(Volume, { name: "test-redis-data" });
  });

  test("secrets come from the random provider and are referenced, never inlined", () => {
    const { tf, json } = synthFarmStack();
    expect(Object.keys(tf.resource.random_password).length).toBe(4);
    const pg = containers(tf)["test-postgres"];
    expect(pg.env).toEqual(["POSTGRES_USER=postgres", "POSTGRES_DB=postgres", "POSTGRES_PASSWORD_FILE=/opt/creatio-farm/superuser-password"]);
    // the app role's password is not in the server's container at all: the bootstrap job has it, as a 0600 file
    expect(pg.upload.map((u: any) => u.file)).toEqual(["/opt/creatio-farm/pg_hba.conf", "/opt/creatio-farm/superuser-password"]);
    const job = containers(tf)["test-postgres-bootstrap"];
    expect(job.env).toEqual(["POSTGRES_USER=postgres", "PGHOST=/var/run/postgresql", "CREATIO_DB_PASSWORD_FILE=/opt/creatio-farm/app-password"]);
    expect(job.env.some((e: string) => e.startsWith("CREATIO_DB_PASSWORD="))).toBe(false);
    const app = job.upload.find((u: any) => u.file === "/opt/creatio-farm/app-password");
    expect([app.permissions, app.content]).toEqual(["0600", expect.stringMatching(/^\$\{random_password\.secrets_database-password_\w+\.result\}$/)]);
    expect(json).toMatch(/user admin password \$\{random_password\.secrets_stats-password_\w+\.bcrypt_hash\}/);
    expect(json).toMatch(/user farm-admin on #\$\{sha256\(random_password\.secrets_redis-admin-password_\w+\.result\)\}/);
    expect(tf.output.stats_password.sensitive).toBe(true);
    expect(json).not.toContain("@@secret:");
    // the superuser password is a 0600 file, not an environment variable
    expect(pg.env.some((e: string) => e.startsWith("POSTGRES_PASSWORD="))).toBe(false);
    const file = pg.upload.find((u: any) => u.file === "/opt/creatio-farm/superuser-password");
    expect(file.permissions).toBe("0600");
    expect(file.content).toMatch(/^\$\{random_password\.secrets_database-superuser-password_\w+\.result\}$/);
  });

  test("nodes run the node image, which runs the patch step before Creatio; each gets only its ConnectionStrings.config", () => {
    const { stack, tf } = synthFarmStack();
    const node = containers(tf)["test-creatio-node-1"];
    expect(node.image).toMatch(/^\$\{docker_image\.creatio_node-image_\w+\.image_id\}$/);
    // The image's ENTRYPOINT and CMD, not an override: the container names neither.
    expect([node.entrypoint, node.command, node.env, node.working_dir]).toEqual([undefined, undefined, undefined, undefined]);
    // The Dockerfile line by line is the renderer's test; here: built FROM the environment's image, entrypoint first.
    const dockerfile = stack.nodes.nodeImage.contextFiles().find((f) => f.path === "Dockerfile")!.content;
    expect(dockerfile).toContain("\nFROM registry.example.com/creatio-net8:8.3.1\n");
    expect(dockerfile).toContain('\nENTRYPOINT ["/bin/sh", "/opt/creatio-farm/entrypoint.sh"]\n');
    expect(node.upload.map((u: any) => u.file)).toEqual(["/app/ConnectionStrings.config"]);
    // Identical on every node, so held once: each node's upload refers to the one local.
    const nodes = Object.values(containers(tf)).filter((c) => c.name.startsWith("test-creatio-"));
    expect(nodes.length).toBe(minimalInput().creatio.nodes.length);
    expect(new Set(nodes.map((c) => c.upload[0].content))).toEqual(new Set([expect.stringMatching(/^\$\{local\.creatio_connection-strings_\w+\}$/)]));
    expect(Object.keys(tf.locals ?? {})).toHaveLength(1);
    expect(uploadContent(tf, node.upload[0])).toContain("<connectionStrings>");
    // The build starts FROM your image, which the stack pulls (or finds on the Docker host) first.
    const built = Object.values<any>(tf.resource.docker_image).find((i) => i.build);
    expect(built.depends_on).toEqual([expect.stringMatching(/^docker_image\.creatio_image_\w+$/)]);
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
      // Redis reads its ACL at every start: a new admin password simply takes effect with the recreated container
      ["secrets_redis-admin-password", undefined],
      ["secrets_stats-password", undefined],
    ]);
  });

  test("Redis memory is bounded", () => {
    const { stack } = synthFarmStack(config({ ...minimalInput(), redis: { image: "redis:7.2", maxMemoryMb: 2048 } }));
    expect(stack.redis.container.renderedFiles()[0].content).toContain("maxmemory 2048mb\nmaxmemory-policy noeviction\n");
  });

  describe("Redis TLS mode", () => {
    const tlsStack = () => synthFarmStack(config({ ...minimalInput(), redis: { image: "redis:7.2", tls: { enabled: true, certificateDays: 90 } } }));

    test("a CA of its own signs a certificate for the name the nodes use, renewed 30 days ahead; a password for the nodes", () => {
      const { json, tf } = tlsStack();
      expect(json).toHaveProvider({ tfResourceType: "tls" });
      expect(json).toHaveResourceWithProperties(SelfSignedCert, { is_ca_certificate: true, allowed_uses: ["cert_signing", "crl_signing"] });
      expect(json).toHaveResourceWithProperties(CertRequest, { dns_names: ["redis"], subject: [{ common_name: "redis" }] });
      expect(json).toHaveResourceWithProperties(LocallySignedCert, {
        allowed_uses: ["digital_signature", "key_encipherment", "server_auth"],
        validity_period_hours: 90 * 24,
        early_renewal_hours: 30 * 24,
      });
      expect(json).toHaveResourceWithProperties(PrivateKey, { algorithm: "ECDSA", ecdsa_curve: "P256" });
      expect(Object.keys(tf.resource.random_password)).toHaveLength(5);
      // the key reaches Redis as a reference, never as text
      const redis = containers(tf)["test-redis"];
      const key = redis.upload.find((u: { file: string }) => u.file === "/usr/local/etc/redis/tls/redis.key");
      expect(key).toMatchObject({ content: expect.stringMatching(/^\$\{tls_private_key\.secrets_redis-tls_server-key_\w+\.private_key_pem\}$/), permissions: "0600" });
      expect(redis.healthcheck.test).toEqual(["CMD", "/bin/sh", "-c", "redis-cli --tls --cacert /usr/local/etc/redis/tls/ca.crt ping 2>&1 | grep -q -e PONG -e NOAUTH"]);
    });

    test("every node trusts the farm's CA besides the system's CAs, through SSL_CERT_DIR", () => {
      const { tf } = tlsStack();
      const json = (t: unknown) => JSON.stringify(t);
      const nodes = Object.entries(containers(tf)).filter(([name]) => name.startsWith("test-creatio-"));
      expect(nodes.map(([, c]) => c.env)).toEqual([["SSL_CERT_DIR=/opt/creatio-farm/redis-ca"], ["SSL_CERT_DIR=/opt/creatio-farm/redis-ca"]]);
      for (const [, c] of nodes) {
        const ca = c.upload.find((u: { file: string }) => u.file === "/opt/creatio-farm/redis-ca/ca.crt");
        expect(ca.content).toMatch(/^\$\{tls_self_signed_cert\.secrets_redis-tls_ca_\w+\.cert_pem\}$/);
      }
      expect(json(tf)).toMatch(/useTls=true;password=\$\{random_password\.secrets_redis-password_\w+\.result\};/);
    });

    test("off by default: no tls provider, no certificate, no password for the nodes", () => {
      const { tf } = synthFarmStack();
      expect(Object.keys(tf.provider ?? {})).not.toContain("tls");
      expect(tf.resource.tls_private_key).toBeUndefined();
      expect(Object.keys(tf.resource.random_password)).toHaveLength(4);
    });
  });

  test("the balancer's nofile limit follows maxconn of every listener plus the stats listener's", () => {
    // HTTP only: one listener of 10000, plus 32 for stats → 2 × 10032 + 1024
    const { json } = synthFarmStack(config({ ...minimalInput(), balancer: { image: "haproxy:2.8", maxConnections: 10000 } }));
    expect(json).toHaveResourceWithProperties(Container, {
      name: "test-haproxy",
      ulimit: [{ name: "nofile", soft: 21088, hard: 21088 }],
    });
    // HTTPS adds a listener: 2 × 20032 + 1024
    const withTls = synthFarmStack(
      config({
        ...minimalInput(),
        balancer: { image: "haproxy:2.8", maxConnections: 10000, publicHost: "crm.example.com", tls: { certificate: "/etc/tls/crm.pem" } },
      }),
    );
    expect(withTls.json).toHaveResourceWithProperties(Container, { name: "test-haproxy", ulimit: [{ name: "nofile", soft: 41088, hard: 41088 }] });
    expect(withTls.stack.balancer.configJob.renderedFiles().find((f) => f.path.endsWith("/haproxy.cfg"))!.content).toContain("    maxconn 20032\n");
  });

  test("both connection strings carry the configured pool size; max_connections reaches the server", () => {
    const { tf } = synthFarmStack(config({ ...minimalInput(), database: { image: "postgres:16", maxConnections: 100, nodePoolSize: 22 } }));
    const cs = uploadContent(tf, containers(tf)["test-creatio-node-1"].upload.find((u: any) => u.file === "/app/ConnectionStrings.config"));
    expect(cs).toContain("MaxPoolSize=22;");
    expect(cs).toContain("Maximum Pool Size=22\"");
    expect(containers(tf)["test-postgres"].command).toEqual([
      "postgres", "-c", "max_connections=100", "-c", "shared_buffers=24MB", "-c", "hba_file=/opt/creatio-farm/pg_hba.conf",
    ]);
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

  function balancerWithNodes() {
    const parts = bareNodes();
    const balancer = new HaproxyBalancer(parts.stack, "balancer", { environment: "s", image: "haproxy:2.8", network: parts.network, secrets: parts.secrets });
    const portal = new CreatioNodeSet(parts.stack, "portal", {
      environment: "s", image: "c:1", nodes: [{ name: "p1" }], secrets: parts.secrets, component: "portal", firstAddressOffset: 101,
    });
    return { ...parts, balancer, portal };
  }

  test("a second node set on its own listener: its own backend, no host port, nodes trusting the balancer", () => {
    // GIVEN a farm and a portal node set in an address range of its own
    const stack = new CreatioFarmStack(Testing.app(), "s", config());
    const portal = new CreatioNodeSet(stack, "portal", {
      environment: "s", image: "c:1", nodes: [{ name: "p1" }], secrets: stack.secrets, component: "portal", firstAddressOffset: 101,
    });
    // WHEN it is added with a listener of its own and wired like the first set
    stack.balancer.addBackend(portal, { name: "portal", listenPort: 8081, trustForwardedFrom: ["172.30.30.2"] });
    stack.redis.allowFrom(portal);
    stack.database.allowFrom(portal);
    // THEN haproxy.cfg serves it on 8081 only, and nothing new is published on the host
    const tf = JSON.parse(Testing.synth(stack, true));
    const cfg = containers(tf)["s-haproxy-config"].upload.find((u: any) => u.file.endsWith("/haproxy.cfg")).content;
    expect(cfg).toMatch(/frontend fe_portal\n    bind :8081\n[^]*?\n    acl trusted_proxy src 172\.30\.30\.2\n[^]*?\nbackend/);
    expect(cfg).toMatch(/backend be_portal\n[^]*server p1 172\.30\.10\.101:5000 weight 1\n/);
    expect(containers(tf)["s-haproxy"].ports.map((p: any) => p.internal)).toEqual([8080, 9000]);
    expect(cfg).toMatch(/backend be_portal_msg\n[^]*server p1 172\.30\.10\.101:5000 weight 1 track be_portal\/p1 cookie p1\n/);
    const overlay = portal.nodeImage.contextFiles().find((f) => f.path === "opt/creatio-farm/appsettings.farm.json")!;
    expect(JSON.parse(overlay.content).ForwardedHeaders.KnownProxiesIP).toEqual(["172.30.10.2"]);
    // Its own image and key ring: a portal node never reads the internal nodes' cookies.
    expect(Object.values<any>(tf.resource.docker_image).filter((i) => i.build).map((i) => i.build.context).sort()).toEqual(["images/creatio", "images/portal"]);
    expect(Object.values<any>(tf.resource.docker_volume).map((v) => v.name)).toEqual(expect.arrayContaining(["s-creatio-data-protection-keys", "s-portal-data-protection-keys"]));
  });

  test.each([
    ["a second public backend", { name: "portal" }, 'backend "portal" needs a listenPort: the public frontends already serve another backend'],
    ["a name taken", { listenPort: 8081 }, 'a backend named "creatio" already exists'],
    ["a port the balancer uses", { name: "portal", listenPort: 8443 }, 'backend "portal": container port 8443 is already in use in the balancer'],
    ["a privileged port", { name: "portal", listenPort: 81 }, 'backend "portal": listenPort must be 1024..65535 (the image runs as a non-root user), got 81'],
    ["a name HAProxy would not take", { name: "Portal!", listenPort: 8081 }, `backend name must be lowercase letters, digits and '-', got "Portal!"`],
    ["a trusted proxy that is not an address", { name: "portal", listenPort: 8081, trustForwardedFrom: ["dmz-nginx"] }, 'backend "portal": trustForwardedFrom takes IPv4 addresses, got "dmz-nginx"'],
  ])("a second backend with %s is refused with the construct path", (_, options, message) => {
    const { balancer, nodes, portal } = balancerWithNodes();
    balancer.addBackend(nodes);
    expect(() => balancer.addBackend(portal, options)).toThrow(`[s/balancer] ${message}`);
  });

  describe("a portal behind a DMZ proxy: networks of its own", () => {
    function dmzFarm() {
      const parts = balancerWithNodes();
      const portalNet = new FarmNetwork(parts.stack, "portal-net", { name: "s-portal", subnet: "172.30.13.0/24", internal: true });
      const dmz = new FarmNetwork(parts.stack, "dmz", { name: "s-dmz", subnet: "172.30.12.0/24", dmz: true });
      const proxy = "172.30.12.3";
      parts.balancer.addBackend(parts.nodes);
      parts.balancer.addBackend(parts.portal, { name: "portal", listenPort: 8081, network: portalNet, trustForwardedFrom: [proxy], onlyFrom: [proxy] });
      parts.balancer.addListener({ name: "integration", backend: "creatio", listenPort: 8082, network: dmz, trustForwardedFrom: [proxy], onlyFrom: [proxy] });
      const cfg = () => parts.balancer.configJob.renderedFiles().find((f) => f.path.endsWith("haproxy.cfg"))!.content;
      return { ...parts, portalNet, dmz, cfg };
    }
    const frontend = (cfg: string, name: string) => cfg.slice(cfg.indexOf(`frontend ${name}\n`), cfg.indexOf("\n\n", cfg.indexOf(`frontend ${name}\n`)));

    test("GIVEN the portal's nodes on their own network THEN the balancer joins it and they share no network with the internal nodes", () => {
      const { balancer, portal, nodes, network, portalNet, dmz } = dmzFarm();
      expect(portal.members[0].container.addressOn(portalNet)).toBe("172.30.13.101");
      expect(portal.members[0].container.addressOn(network)).toBeUndefined();
      expect(nodes.members[0].container.addressOn(portalNet)).toBeUndefined();
      expect([balancer.addressOn(network), balancer.addressOn(portalNet), balancer.addressOn(dmz)]).toEqual(["172.30.10.2", "172.30.13.2", "172.30.12.2"]);
    });

    test("GIVEN onlyFrom THEN the DMZ listeners refuse everyone but the proxy; the public listeners and stats refuse the other networks but their gateways", () => {
      const cfg = dmzFarm().cfg();
      for (const fe of ["fe_portal", "fe_integration"]) {
        expect(frontend(cfg, fe)).toContain("tcp-request connection reject unless { src 172.30.12.3 }");
        expect(frontend(cfg, fe)).toContain("acl trusted_proxy src 172.30.12.3");
      }
      expect(frontend(cfg, "fe_integration")).toContain("default_backend be_creatio");
      expect(frontend(cfg, "fe_portal")).toContain("default_backend be_portal");
      for (const net of ["172.30.13.0/24 } !{ src 172.30.13.1 }", "172.30.12.0/24 } !{ src 172.30.12.1 }"]) {
        expect(frontend(cfg, "fe_http")).toContain(`tcp-request connection reject if { src ${net}`);
      }
      const stats = cfg.slice(cfg.indexOf("listen stats"));
      for (const net of ["172.30.10.0/24", "172.30.13.0/24", "172.30.12.0/24"]) expect(stats).toContain(`tcp-request connection reject if { src ${net} }`);
      expect(frontend(cfg, "fe_http")).not.toContain("reject unless");
    });

    test.each([
      [{ backend: "nope" }, 'addListener: no backend named "nope"'],
      [{ listenPort: 8081 }, 'listener "hooks": container port 8081 is already in use in the balancer'],
      [{ name: "portal" }, 'listener "portal": the name is taken'],
      [{ onlyFrom: ["dmz-proxy"] }, 'listener "hooks": onlyFrom takes IPv4 addresses, got "dmz-proxy"'],
    ])("GIVEN a listener with %j THEN it is refused with the construct path", (options, message) => {
      const { balancer, dmz } = dmzFarm();
      expect(() => balancer.addListener({ name: "hooks", backend: "creatio", listenPort: 8083, network: dmz, ...options })).toThrow(`[s/balancer] ${message}`);
    });

    test("GIVEN a listener named integration THEN a backend of that name (frontend fe_integration too) is refused", () => {
      const { stack, secrets, balancer } = dmzFarm();
      const extra = new CreatioNodeSet(stack, "extra", { environment: "s", image: "c:1", nodes: [{ name: "e1" }], secrets, component: "extra", firstAddressOffset: 201 });
      expect(() => balancer.addBackend(extra, { name: "integration", listenPort: 8090 })).toThrow('[s/balancer] backend "integration": a listener has that name');
    });
  });

  test("two node sets on one network cannot take the same addresses", () => {
    // GIVEN a second set left at the default address range
    const { stack, secrets, network, nodes } = bareNodes();
    const balancer = new HaproxyBalancer(stack, "balancer", { environment: "s", image: "haproxy:2.8", network, secrets });
    const clash = new CreatioNodeSet(stack, "portal", { environment: "s", image: "c:1", nodes: [{ name: "p1" }], secrets, component: "portal" });
    balancer.addBackend(nodes);
    // THEN adding it is refused at synth, not by Docker at apply
    expect(() => balancer.addBackend(clash, { name: "portal", listenPort: 8081 })).toThrow(
      "[s/net] s-portal-p1 cannot take 172.30.10.11: s-creatio-a already holds it",
    );
  });

  test("the public frontends trust nobody's forwarding headers", () => {
    const { balancer, nodes } = balancerWithNodes();
    expect(() => balancer.addBackend(nodes, { trustForwardedFrom: ["172.30.30.2"] })).toThrow(
      '[s/balancer] backend "creatio": trustForwardedFrom needs a listenPort; the public frontends trust nobody',
    );
  });

  test("a balancer with only a listener-backed node set fails synth: nothing serves the public ports", () => {
    const { stack, balancer, portal } = balancerWithNodes();
    balancer.addBackend(portal, { name: "portal", listenPort: 8081 });
    expect(() => Testing.synth(stack, true)).toThrow(/\[s\/balancer\] the balancer has no public backend/);
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
    ).toThrow("[s/lb] stats.port: host port 9000 is already published by httpPort");
    const tls = { certificate: "/etc/tls/crm.pem" };
    expect(
      () => new HaproxyBalancer(stack, "lb2", { environment: "s", image: "haproxy:2.8", network, secrets, tls: { ...tls, port: 80 } }),
    ).toThrow("[s/lb2] tls.port: host port 80 is already published by httpPort");
    expect(
      () => new HaproxyBalancer(stack, "lb3", { environment: "s", image: "haproxy:2.8", network, secrets, tls: { certificate: "crm.pem" } }),
    ).toThrow('[s/lb3] tls.certificate: expected an absolute path on the Docker host to a .pem file');
    expect(() => new HaproxyBalancer(stack, "lb5", { environment: "s", image: "haproxy:2.6", network, secrets })).toThrow(
      '[s/lb5] image: expected HAProxy 2.8 or newer (the TLS handshake deadline, timeout client-hs, needs it); this tag is 2.6, got "haproxy:2.6"',
    );
    expect(() => new HaproxyBalancer(stack, "lb6", { environment: "s", image: "haproxy:2.8", network, secrets, tls })).toThrow(
      "[s/lb6] publicHost: required when tls.redirectHttp is on",
    );
    expect(() => new HaproxyBalancer(stack, "lb7", { environment: "s", image: "haproxy:2.8", network, secrets, tls, publicHost: "%[req.hdr(host)]" })).toThrow(
      '[s/lb7] publicHost: expected a host name such as crm.example.com, got "%[req.hdr(host)]"',
    );
    expect(
      () => new HaproxyBalancer(stack, "lb4", { environment: "s", image: "haproxy:2.8", network, secrets, stats: { uri: "/m", metricsPath: "/m" } }),
    ).toThrow("[s/lb4] stats.metricsPath: expected a path other than stats.uri (/m): the metrics endpoint would hide the stats page");
    expect(
      () => new CreatioNodeSet(stack, "dup", { environment: "s", image: "c:1", nodes: [{ name: "a" }, { name: "a" }], secrets }),
    ).toThrow('[s/dup] duplicate node name "a" (already used by nodes[0].name)');
  });

  test("a database too small for the node set says what max_connections it needs", () => {
    const cfg = config();
    const app = Testing.app();
    expect(
      () => new CreatioFarmStack(app, "x", { ...cfg, database: { ...cfg.database, maxConnections: 20 } }),
    ).toThrow("[x/database] max_connections 20 cannot serve 4 connection pools × 50 + 10 reserved = 210 connections");
  });
});
