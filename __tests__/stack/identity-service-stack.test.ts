/**
 * An environment with `identityService:`: the service, its certificate job, its database role and schema, the
 * feature Creatio needs, and the token endpoint on the portal's host name when asked, read from the synthesized
 * Terraform.
 */
import { FarmConfigInput } from "../../schema/schema";
import { config, containers, minimalInput, synthFarmStack, uploadContent } from "../support/farm";

const IMAGE = "registry.example.com/creatio-identity-service:8.3.1";

function input(identity: Partial<NonNullable<FarmConfigInput["identityService"]>> = {}, portal = false): FarmConfigInput {
  const base = minimalInput();
  return {
    ...base,
    ...(portal
      ? {
          balancer: { ...base.balancer, bindAddress: "10.0.0.5" },
          portal: { image: "nginx:1.27", publicHost: "portal.example.com", certificate: "/etc/creatio-farm/tls/portal.pem", bindAddress: "198.51.100.7", nodes: [{ name: "p1" }] },
        }
      : {}),
    identityService: { image: IMAGE, ...identity },
  };
}

const file = (tf: any, container: string, path: string): string => {
  const upload = containers(tf)[container].upload.find((u: any) => u.file === path);
  if (!upload) throw new Error(`${container} has no ${path}`);
  return uploadContent(tf, upload);
};
const nets = (tf: any, name: string) => containers(tf)[name].networks_advanced.map((n: any) => [n.name.replace(/^\$\{docker_network\.network-([a-z-]+)\.name\}$/, "$1"), n.ipv4_address]);
const dependsOn = (tf: any, name: string): string[] => containers(tf)[name].depends_on ?? [];
const addressOf = (tf: any, name: string): string => {
  const key = Object.entries<any>(tf.resource.docker_container).find(([, c]) => c.name === name)![0];
  return `docker_container.${key}`;
};

describe("GIVEN an environment without identityService", () => {
  const { tf } = synthFarmStack(config(minimalInput()));
  test("THEN nothing of it exists: no container, volume, output, secret, or finishing step in the bootstrap", () => {
    const names = Object.values<any>(tf.resource.docker_container).map((c) => c.name);
    expect(names.filter((n) => n.includes("identity"))).toEqual([]);
    expect(Object.values<any>(tf.resource.docker_volume).map((v) => v.name).filter((n) => n.includes("identity"))).toEqual([]);
    expect(Object.keys(tf.output).filter((o) => o.startsWith("identity"))).toEqual([]);
    expect(Object.keys(tf.resource.random_password).filter((k) => k.includes("identity"))).toEqual([]);
    expect(containers(tf)["test-postgres-bootstrap"].upload.map((u: any) => u.file)).not.toContain("/opt/creatio-farm/bootstrap-finish.sql");
  });
});

describe("GIVEN identityService with its defaults", () => {
  const { tf } = synthFarmStack(config(input()));
  const overlay = JSON.parse(file(tf, "test-identity-service", "/opt/creatio-farm/appsettings.farm.json"));

  test("THEN the service runs the user's image through the farm's entrypoint, on the internal data network only", () => {
    const c = containers(tf)["test-identity-service"];
    expect(c.entrypoint).toEqual(["/bin/sh", "/opt/creatio-farm/entrypoint.sh"]);
    expect(c.command).toEqual(["dotnet", "IdentityService.dll"]);
    expect(nets(tf, "test-identity-service")).toEqual([["data", "172.30.11.4"]]);
    expect(c.networks_advanced[0].aliases).toEqual(["identity-service"]);
    expect(c.ports).toBeUndefined();
    expect(c.healthcheck.test.join(" ")).toContain("GET /.well-known/openid-configuration HTTP/1.0");
    expect(c.env).toContain("ASPNETCORE_URLS=http://+:8080");
  });

  test("THEN appsettings.farm.json holds both connection keys with its own role, Clients as a string, the certificate path, the log level and the listen URL", () => {
    expect(overlay.DbProvider).toBe("Postgres");
    expect(overlay.DatabaseConnectionString).toBe(overlay.PostgresConnection);
    expect(overlay.PostgresConnection).toMatch(/^Pooling=true;Database=creatio;Host=postgres;Port=5432;Username=creatio_identity;Password=\$\{random_password\.secrets_database-identity-password_\w+\.result\};/);
    expect(typeof overlay.Clients).toBe("string");
    const [client] = JSON.parse(overlay.Clients);
    expect(client.ClientId).toMatch(/^\$\{random_password\.secrets_identity-client-id_\w+\.result\}$/);
    expect(client.Secrets).toEqual([expect.stringMatching(/^\$\{random_password\.secrets_identity-client-secret_\w+\.result\}$/)]);
    expect(client.AllowedGrantTypes).toEqual(["client_credentials"]);
    expect(overlay.X509CertificatePath).toBe("/opt/creatio-farm/identity-certificate/identity.pfx");
    expect(overlay.Logging).toEqual({ LogLevel: { Default: "Warning" } });
    expect(overlay.Kestrel).toEqual({ Endpoints: { Http: { Url: "http://0.0.0.0:8080" } } });
  });

  test("THEN the client id and secret are generated with 16 and 32 characters, and Terraform refuses to replace them", () => {
    const pw = (part: string) => Object.entries<any>(tf.resource.random_password).find(([k]) => k.includes(part))![1];
    expect(pw("identity-client-id")).toMatchObject({ length: 16, special: false, lifecycle: { prevent_destroy: true } });
    expect(pw("identity-client-secret")).toMatchObject({ length: 32, special: false, lifecycle: { prevent_destroy: true } });
  });

  test("THEN the certificate job runs in the database's image without a network, its volume mounted into the service alone and read-only", () => {
    const job = containers(tf)["test-identity-certificate"];
    const db = containers(tf)["test-postgres"];
    expect(job.image).toBe(db.image);
    expect(job.network_mode).toBe("none");
    expect(job.volumes).toEqual([{ volume_name: expect.stringContaining("certificate-volume"), container_path: "/opt/creatio-farm/identity-certificate" }]);
    const holders = Object.values<any>(tf.resource.docker_container).filter((c) => (c.volumes ?? []).some((v: any) => String(v.volume_name).includes("certificate-volume")));
    expect(holders.map((c) => c.name).sort()).toEqual(["test-identity-certificate", "test-identity-service"]);
    expect(containers(tf)["test-identity-service"].volumes[0].read_only).toBe(true);
  });

  test("THEN the service starts after the certificate job and the bootstrap job", () => {
    expect(dependsOn(tf, "test-identity-service")).toEqual(
      expect.arrayContaining([addressOf(tf, "test-identity-certificate"), addressOf(tf, "test-postgres-bootstrap")]),
    );
  });

  test("THEN the bootstrap makes its role with a schema of its own, lets it in from the data network, and switches OAuth20Integration on", () => {
    const sql = file(tf, "test-postgres-bootstrap", "/opt/creatio-farm/bootstrap.sql");
    expect(sql).toContain("\\set data_role_0 'creatio_identity'");
    expect(sql).toContain("COMMENT ON ROLE :\"data_role\" IS 'creatio-farm schema role';");
    const finish = file(tf, "test-postgres-bootstrap", "/opt/creatio-farm/bootstrap-finish.sql");
    expect(finish).toContain("\\set schema_role 'creatio_identity'");
    expect(finish).toContain("\\set feature 'OAuth20Integration'");
    expect(file(tf, "test-postgres", "/opt/creatio-farm/pg_hba.conf")).toMatch(/^host\s+creatio\s+creatio_identity\s+172\.30\.11\.0\/24\s+scram-sha-256$/m);
  });

  test("THEN its outputs give the internal URL and the client's credentials, the credentials as sensitive", () => {
    expect(tf.output.identity_service_url.value).toBe("http://identity-service:8080");
    expect(tf.output.identity_client_id.sensitive).toBe(true);
    expect(tf.output.identity_client_secret.sensitive).toBe(true);
    expect(tf.output.identity_token_url).toBeUndefined();
  });
});

describe("GIVEN identityService.publishTokenEndpoint with a portal", () => {
  const { tf } = synthFarmStack(config(input({ publishTokenEndpoint: true }, true)));

  test("THEN the proxy and the service share an internal network of their own, with nothing else on it", () => {
    expect(nets(tf, "test-identity-service")).toEqual([["data", "172.30.11.4"], ["identity-edge", "172.30.15.4"]]);
    expect(nets(tf, "test-dmz-proxy")).toEqual([["dmz", "172.30.12.3"], ["identity-edge", "172.30.15.3"]]);
    const onEdge = Object.values<any>(tf.resource.docker_container).filter((c) => (c.networks_advanced ?? []).some((n: any) => String(n.name).includes("identity-edge")));
    expect(onEdge.map((c) => c.name).sort()).toEqual(["test-dmz-proxy", "test-identity-service"]);
    const edge = Object.values<any>(tf.resource.docker_network).find((n) => n.name === "test-identity-edge");
    expect(edge.internal).toBe(true);
  });

  test("THEN nginx passes POST /connect/token, and nothing else of the service, to it by address with the internal Host", () => {
    const conf = file(tf, "test-dmz-proxy", "/etc/nginx/nginx.conf");
    expect(conf).toContain("server 172.30.15.4:8080;");
    expect(conf).toMatch(/location = \/connect\/token \{\n\s+limit_except POST \{\n\s+deny all;\n\s+\}\n\s+limit_req zone=login burst=5 nodelay;/);
    expect(conf).toContain("proxy_set_header Host identity-service:8080;");
    expect(conf.match(/proxy_pass http:\/\/identity;/g)).toHaveLength(1);
    expect(tf.output.identity_token_url.value).toBe("https://portal.example.com/connect/token");
  });
});

describe("GIVEN a portal without publishTokenEndpoint", () => {
  const { tf } = synthFarmStack(config(input({}, true)));
  test("THEN the proxy has no route to the service", () => {
    expect(nets(tf, "test-dmz-proxy")).toEqual([["dmz", "172.30.12.3"]]);
    expect(file(tf, "test-dmz-proxy", "/etc/nginx/nginx.conf")).not.toContain("connect/token");
  });
});
