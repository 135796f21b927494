import { App, Aspects, TerraformStack, Testing } from "cdktf";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Construct } from "constructs";
import { Container } from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { FarmContainer } from "../../constructs/lib/farm-container";
import { farmImage } from "../../constructs/lib/farm-image";
import { FarmPolicies } from "../../constructs/policies/farm-policies";
import { imagePinned } from "../../constructs/policies/image-pinned";
import { onlyEdgePublishesPorts } from "../../constructs/policies/only-edge-publishes-ports";
import { databaseVolumeProtected } from "../../constructs/policies/database-volume-protected";
import { PostgresDatabase } from "../../constructs/database/postgres-database";
import { FarmNetwork } from "../../constructs/networks/farm-network";
import { FarmSecrets } from "../../constructs/secrets/farm-secrets";
import { CreatioNodeSet } from "../../constructs/creatio-nodes/creatio-node-set";
import { DmzProxy } from "../../constructs/dmz-proxy/dmz-proxy";
import { dmzHoldsEdgeOnly } from "../../constructs/policies/dmz-holds-edge-only";
import { nodeSetsShareNoNetwork } from "../../constructs/policies/node-sets-share-no-network";
import { proxySetsForwardedFor } from "../../constructs/policies/proxy-sets-forwarded-for";
import { tempDir } from "../support/farm";

function stack(): Construct {
  return new TerraformStack(Testing.app(), "s");
}
const secrets = { reference: () => "x" };

describe("FARM-IMAGE-PINNED: images are pinned to a tag or digest", () => {
  test.each(["haproxy", "haproxy:latest", "registry.example.com:5000/creatio"])("Noncompliance: %s", (name) => {
    expect(imagePinned.check(new Image(stack(), "i", { name }))).toBe("non-compliant");
  });
  test.each(["haproxy:2.8", "registry.example.com:5000/creatio:8.3.1", `redis@sha256:${"a".repeat(64)}`])("Compliance: %s", (name) => {
    expect(imagePinned.check(new Image(stack(), "i", { name }))).toBe("compliant");
  });
});

describe("FARM-ONLY-EDGE-PUBLISHES-PORTS: only the balancer publishes host ports", () => {
  const ports = [{ internal: 5000, external: 5000 }];
  test("Noncompliance 1: an app container with a published port", () => {
    const s = stack();
    const c = new FarmContainer(s, "c", { name: "n", image: farmImage(s, "c:1"), role: "app", secrets, ports });
    expect(onlyEdgePublishesPorts.check(c.resource)).toBe("non-compliant");
  });
  test("Noncompliance 2: a raw docker container outside the farm's constructs", () => {
    const s = stack();
    expect(onlyEdgePublishesPorts.check(new Container(s, "raw", { name: "raw", image: "x", ports }))).toBe("non-compliant");
  });
  test("Compliance 1: the edge container", () => {
    const s = stack();
    const c = new FarmContainer(s, "c", { name: "e", image: farmImage(s, "haproxy:2.8"), role: "edge", secrets, ports });
    expect(onlyEdgePublishesPorts.check(c.resource)).toBe("compliant");
  });
  test("Compliance 2: a data container without ports", () => {
    const s = stack();
    const c = new FarmContainer(s, "c", { name: "d", image: farmImage(s, "redis:7.2"), role: "data", secrets });
    expect(onlyEdgePublishesPorts.check(c.resource)).toBe("compliant");
  });
});

describe("FARM-DATABASE-VOLUME-PROTECTED: the database volume cannot be destroyed by a plan", () => {
  function database() {
    const s = stack();
    const network = new FarmNetwork(s, "n", { name: "s-data", subnet: "172.30.11.0/24", internal: true });
    return new PostgresDatabase(s, "db", { environment: "s", image: "postgres:16", network, secrets: new FarmSecrets(s, "secrets") });
  }
  test("Compliance 1: as the construct builds it", () => {
    expect(databaseVolumeProtected.check(database())).toBe("compliant");
  });
  test("Noncompliance 1: protection removed", () => {
    const db = database();
    db.volume.lifecycle = { preventDestroy: false };
    expect(databaseVolumeProtected.check(db)).toBe("non-compliant");
  });
});

describe("FarmPolicies aspect", () => {
  test("a finding fails app synth with the rule id, what is wrong and why", () => {
    const app = new App({ outdir: tempDir("policy"), stackTraces: false });
    const s = new TerraformStack(app, "s");
    new DockerProvider(s, "docker", {});
    new Image(s, "unpinned", { name: "haproxy:latest" });
    Aspects.of(s).add(new FarmPolicies());
    expect(() => app.synth()).toThrow(/\[s\/unpinned\] FARM-IMAGE-PINNED: The image is not pinned to a tag or digest\. An unpinned image/);
  });
});

describe("FARM-DMZ-HOLDS-EDGE-ONLY: only edge containers are on a DMZ network", () => {
  function onDmz(role: "edge" | "app" | "data", dmz = true) {
    const s = stack();
    const net = new FarmNetwork(s, "dmz", { name: "s-dmz", subnet: "172.30.12.0/24", dmz });
    const c = new FarmContainer(s, "c", { name: "c", image: farmImage(s, "redis:7.2"), role, secrets });
    c.attach(net, 5);
    return c;
  }
  test("Noncompliance 1: Redis (data) on the DMZ", () => expect(dmzHoldsEdgeOnly.check(onDmz("data"))).toBe("non-compliant"));
  test("Noncompliance 2: an application node on the DMZ", () => expect(dmzHoldsEdgeOnly.check(onDmz("app"))).toBe("non-compliant"));
  test("Compliance: the proxy (edge) on the DMZ", () => expect(dmzHoldsEdgeOnly.check(onDmz("edge"))).toBe("compliant"));
  test("Not applicable: a data container on a network that is not a DMZ", () => expect(dmzHoldsEdgeOnly.check(onDmz("data", false))).toBe("not-applicable"));
});

describe("FARM-NODE-SETS-SHARE-NO-NETWORK: the portal's nodes and the internal ones share no network", () => {
  function twoSets(shared: boolean) {
    const s = stack();
    const fs = new FarmSecrets(s, "secrets");
    const a = new FarmNetwork(s, "a", { name: "s-app", subnet: "172.30.10.0/24" });
    const p = shared ? a : new FarmNetwork(s, "p", { name: "s-portal", subnet: "172.30.13.0/24" });
    const internal = new CreatioNodeSet(s, "creatio", { environment: "s", image: "c:1", nodes: [{ name: "n1" }], secrets: fs });
    const portal = new CreatioNodeSet(s, "portal", { environment: "s", image: "c:1", nodes: [{ name: "p1" }], secrets: fs, component: "portal", firstAddressOffset: 101 });
    internal.members[0].container.attach(a, 11);
    portal.members[0].container.attach(p, 101);
    return { internal, portal };
  }
  test("Noncompliance: both sets on the app network", () => {
    const { internal, portal } = twoSets(true);
    expect([nodeSetsShareNoNetwork.check(internal), nodeSetsShareNoNetwork.check(portal)]).toEqual(["non-compliant", "non-compliant"]);
  });
  test("Compliance: each set on a network of its own", () => {
    const { internal, portal } = twoSets(false);
    expect([nodeSetsShareNoNetwork.check(internal), nodeSetsShareNoNetwork.check(portal)]).toEqual(["compliant", "compliant"]);
  });
});

describe("FARM-PROXY-SETS-FORWARDED-FOR: a reverse proxy writes X-Forwarded-For from its peer, never the client's", () => {
  function nginx(conf: string) {
    const s = stack();
    const c = new FarmContainer(s, "c", { name: "proxy", image: farmImage(s, "nginx:1.27"), role: "edge", secrets });
    c.addFile({ path: "/etc/nginx/nginx.conf", format: "nginx", render: () => conf });
    return c;
  }
  test.each([
    ["appends to the client's header", "http {\n    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n}\n"],
    ["takes the client's address from a header", "http {\n    real_ip_header X-Forwarded-For;\n    proxy_set_header X-Forwarded-For $remote_addr;\n}\n"],
    ["sets nothing", "http {\n}\n"],
  ])("Noncompliance: %s", (_, conf) => {
    expect(proxySetsForwardedFor.check(nginx(conf))).toBe("non-compliant");
  });
  test("Compliance: the DMZ proxy's rendered nginx.conf", () => {
    const s = stack();
    const dmz = new FarmNetwork(s, "dmz", { name: "s-dmz", subnet: "172.30.12.0/24", dmz: true });
    const proxy = new DmzProxy(s, "dmz-proxy", {
      environment: "s", image: "nginx:1.27", network: dmz, addressOffset: 3, secrets: new FarmSecrets(s, "secrets"),
      serverName: "portal.example.com", certificate: "/etc/creatio-farm/tls/portal.pem",
    });
    proxy.forwardPortalTo({ address: "172.30.12.2", port: 8081 });
    expect(proxySetsForwardedFor.check(proxy.container)).toBe("compliant");
    expect(dmzHoldsEdgeOnly.check(proxy.container)).toBe("compliant");
  });
  test("Not applicable: a container without an nginx.conf", () => {
    const s = stack();
    expect(proxySetsForwardedFor.check(new FarmContainer(s, "c", { name: "r", image: farmImage(s, "redis:7.2"), role: "data", secrets }))).toBe("not-applicable");
  });
});
