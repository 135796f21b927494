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
