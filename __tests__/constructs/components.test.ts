/** Focused GIVEN/WHEN/THEN tests of the small constructs and helpers, one component at a time. */
import { TerraformStack, Testing } from "cdktf";
import { Network } from "@cdktf/provider-docker/lib/network";
import { Password } from "@cdktf/provider-random/lib/password";
import { TlsProvider } from "@cdktf/provider-tls/lib/provider";
import { hostAddress, hostCapacity, overlaps, parseCidr } from "../../constructs/networks/ipv4";
import { nodeCapacity } from "../../constructs/networks/address-plan";
import { FarmNetwork } from "../../constructs/networks/farm-network";
import { FarmSecrets } from "../../constructs/secrets/farm-secrets";
import { RedisCache } from "../../constructs/redis/redis-cache";
import { RedisEndpoint } from "../../constructs/redis/redis-client";
import { PostgresDatabase } from "../../constructs/database/postgres-database";
import { CreatioNodeSet } from "../../constructs/creatio-nodes/creatio-node-set";
import { byCodeUnit } from "../../constructs/lib/order";

function stack() {
  return new TerraformStack(Testing.app(), "s");
}

describe("ipv4", () => {
  test.each(["172.30.10.0/24", "10.0.0.0/16", "192.168.1.16/28"])("accepts the network address %s", (c) => {
    expect(parseCidr(c)).toBeDefined();
  });
  test.each(["172.30.10.1/24", "10.0.0.0/8", "10.0.0.0/30", "300.0.0.0/24", "10.0.0.0", "x"])("refuses %s", (c) => {
    expect(parseCidr(c)).toBeUndefined();
  });
  test("host addresses and capacity", () => {
    expect(hostAddress("172.30.10.0/24", 254)).toBe("172.30.10.254");
    expect(() => hostAddress("172.30.10.0/24", 255)).toThrow("does not fit");
    expect(hostCapacity(parseCidr("172.30.10.0/28")!)).toBe(14);
    expect(nodeCapacity("172.30.10.0/28")).toBe(4);
  });
  test("overlap", () => {
    expect(overlaps(parseCidr("10.9.0.0/16")!, parseCidr("10.9.8.0/24")!)).toBe(true);
    expect(overlaps(parseCidr("10.9.0.0/24")!, parseCidr("10.9.1.0/24")!)).toBe(false);
  });
});

describe("byCodeUnit", () => {
  test("orders by UTF-16 code unit, whatever the locale", () => {
    expect(["b", "aa", "B", "node-10", "node-9"].sort(byCodeUnit)).toEqual(["B", "aa", "b", "node-10", "node-9"]);
  });
});

describe("FarmNetwork", () => {
  test("GIVEN an internal network WHEN synthesized THEN it has the fixed subnet, the .1 gateway and no route out", () => {
    const s = stack();
    const net = new FarmNetwork(s, "n", { name: "s-data", subnet: "10.1.2.0/24", internal: true });
    expect(net.address(3)).toBe("10.1.2.3");
    expect(Testing.synth(s)).toHaveResourceWithProperties(Network, {
      name: "s-data",
      driver: "bridge",
      internal: true,
      ipam_config: [{ subnet: "10.1.2.0/24", gateway: "10.1.2.1" }],
    });
  });
});

describe("FarmSecrets", () => {
  test("GIVEN the farm's secrets THEN four alphanumeric 32-character passwords, referenced by name", () => {
    const s = stack();
    const secrets = new FarmSecrets(s, "secrets");
    const json = Testing.synth(s);
    expect(Object.keys(JSON.parse(json).resource.random_password)).toHaveLength(4);
    expect(json).toHaveResourceWithProperties(Password, { length: 32, special: false });
    expect(secrets.reference("database-password")).not.toBe(secrets.reference("database-superuser-password"));
  });
});

describe("RedisCache", () => {
  test("GIVEN a node set WHEN redis.allowFrom(nodes) THEN the nodes join the data network and use the configured db", () => {
    const s = stack();
    const secrets = new FarmSecrets(s, "secrets");
    const data = new FarmNetwork(s, "data", { name: "s-data", subnet: "172.30.11.0/24", internal: true });
    const nodes = new CreatioNodeSet(s, "creatio", { environment: "s", image: "c:1", nodes: [{ name: "a" }, { name: "b" }], secrets });
    const redis = new RedisCache(s, "redis", { environment: "s", image: "redis:7.2", network: data, secrets, db: 5 });
    // WHEN
    redis.allowFrom(nodes);
    // THEN
    expect(nodes.members.map((m) => m.container.addressOn(data))).toEqual(["172.30.11.11", "172.30.11.12"]);
    expect(redis.container.addressOn(data)).toBe("172.30.11.2");
    const conf = redis.container.renderedFiles();
    expect(conf.map((f) => f.path)).toEqual(["/usr/local/etc/redis/redis.conf"]);
    expect(conf[0].content).toContain("appendonly yes\n");
    // the nodes' user is limited; the admin user's password arrives as a SHA-256 at apply time
    expect(conf[0].content).toMatch(/^user default on nopass ~\* &\* \+@all -@dangerous \+flushdb /m);
    expect(conf[0].content).toContain("user farm-admin on #@@secret:redis-admin-password-hash@@ ~* &* +@all\n");
  });

  test("GIVEN a second Redis for the same nodes THEN it is refused with the construct path", () => {
    const s = stack();
    const secrets = new FarmSecrets(s, "secrets");
    const data = new FarmNetwork(s, "data", { name: "s-data", subnet: "172.30.11.0/24", internal: true });
    const nodes = new CreatioNodeSet(s, "creatio", { environment: "s", image: "c:1", nodes: [{ name: "a" }], secrets });
    new RedisCache(s, "redis", { environment: "s", image: "redis:7.2", network: data, secrets }).allowFrom(nodes);
    const data2 = new FarmNetwork(s, "data2", { name: "s-data2", subnet: "172.30.12.0/24", internal: true });
    const other = new RedisCache(s, "redis2", { environment: "s2", image: "redis:7.2", network: data2, secrets });
    expect(() => other.allowFrom(nodes)).toThrow("[s/creatio] the nodes already use a Redis");
  });

  describe("TLS mode", () => {
    function tlsFarm() {
      const s = stack();
      new TlsProvider(s, "tls", {});
      const secrets = new FarmSecrets(s, "secrets");
      const data = new FarmNetwork(s, "data", { name: "s-data", subnet: "172.30.11.0/24", internal: true });
      const nodes = new CreatioNodeSet(s, "creatio", { environment: "s", image: "c:1", nodes: [{ name: "a" }, { name: "b" }], secrets });
      const redis = new RedisCache(s, "redis", { environment: "s", image: "redis:7.2", network: data, secrets, tls: { certificateDays: 90 } });
      redis.allowFrom(nodes);
      return { nodes, redis };
    }

    test("GIVEN tls THEN Redis listens on TLS only, the nodes' user needs the password, and the key is root's alone", () => {
      const { redis } = tlsFarm();
      const files = Object.fromEntries(redis.container.renderedFiles().map((f) => [f.path, f]));
      const conf = files["/usr/local/etc/redis/redis.conf"].content;
      expect(conf).toMatch(/^port 0$/m);
      expect(conf).toMatch(/^tls-port 6379$/m);
      expect(conf).toMatch(/^tls-key-file \/run\/redis-tls\.key$/m);
      expect(conf).toMatch(/^user default on #@@secret:redis-password-hash@@ ~\* &\* \+@all -@dangerous /m);
      expect(files["/usr/local/etc/redis/tls/redis.key"]).toMatchObject({ mode: 0o600, content: "@@secret:redis-tls-key@@" });
      expect(files["/usr/local/etc/redis/tls/redis.crt"]).toMatchObject({ mode: 0o644, content: "@@secret:redis-tls-certificate@@" });
    });

    test("GIVEN a TLS endpoint THEN its connection string has useTls and the password, and clients get the CA and SSL_CERT_DIR", () => {
      const endpoint = new RedisEndpoint("redis", 6379, 3, true);
      expect(endpoint.connectionString()).toBe("host=redis;db=3;port=6379;useTls=true;password=@@secret:redis-password@@;maxReadPoolSize=10;maxWritePoolSize=500");
      const setup = endpoint.clientSetup();
      expect(setup.files.map((f) => [f.path, f.render()])).toEqual([["/opt/creatio-farm/redis-ca/ca.crt", "@@secret:redis-ca-certificate@@"]]);
      expect(setup.env).toEqual(["SSL_CERT_DIR=/opt/creatio-farm/redis-ca"]);
      expect(new RedisEndpoint("redis", 6379, 3).clientSetup()).toEqual({ files: [], env: [] });
    });

    test("GIVEN no tls THEN no certificate and no password for the nodes exist, and asking for them is an error", () => {
      const s = stack();
      const secrets = new FarmSecrets(s, "secrets");
      expect(() => secrets.reference("redis-password")).toThrow('[s/secrets] secret "redis-password" is used, but Redis TLS mode is off');
      expect(() => secrets.reference("redis-tls-key")).toThrow("[s/secrets] Redis TLS material is used, but Redis TLS mode is off");
      expect(JSON.parse(Testing.synth(s)).resource.tls_private_key).toBeUndefined();
    });
  });
});

describe("PostgresDatabase", () => {
  test.each([
    ["postgres:18", "expected PostgreSQL 16 or 17: from 18 the image keeps data under /var/lib/postgresql/18/docker, which this version does not mount"],
    ["registry.example.com/postgres:15.6-bookworm", "expected PostgreSQL 16 or 17 (Creatio requires 16+); this tag is major version 15"],
  ])("GIVEN the image %s, in a stack built in code (no schema) THEN it is refused with the construct path", (image, message) => {
    const s = stack();
    const data = new FarmNetwork(s, "data", { name: "s-data", subnet: "172.30.11.0/24", internal: true });
    const secrets = new FarmSecrets(s, "secrets");
    expect(() => new PostgresDatabase(s, "database", { environment: "s", image, network: data, secrets })).toThrow(`[s/database] image "${image}": ${message}`);
  });
});

describe("CreatioNodeSet", () => {
  test("GIVEN a second set from host offset 101 WHEN more nodes than the rest of the subnet THEN refused with its room from there", () => {
    const s = stack();
    const secrets = new FarmSecrets(s, "secrets");
    const app = new FarmNetwork(s, "app", { name: "s-app", subnet: "172.30.10.0/24" });
    const nodes = Array.from({ length: 155 }, (_, i) => ({ name: `p${i}` }));
    const portal = new CreatioNodeSet(s, "portal", { environment: "s", image: "c:1", nodes, secrets, component: "portal", firstAddressOffset: 101 });
    const redis = new RedisCache(s, "redis", { environment: "s", image: "redis:7.2", network: app, secrets });
    expect(() => redis.allowFrom(portal)).toThrow("[s/portal] 155 nodes do not fit in s-app 172.30.10.0/24 from host offset 101 (room for 154); use a larger subnet");
  });
});
