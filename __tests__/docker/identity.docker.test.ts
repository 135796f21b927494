/**
 * The Identity Service in the real Engine (a stand-in that reads the merged appsettings.json, signs in to
 * PostgreSQL with it and issues tokens to the clients it seeded from it): healthy on a fresh environment restored
 * from a backup, its tables in its own schema, OAuth20Integration switched on, reachable by the nodes, and its token
 * endpoint, and nothing else of it, published through the portal's proxy: a client on the internet obtains a token
 * with the generated credentials.
 */
import { engine, exec } from "./support/engine";
import { ENV, loadDeployment } from "./support/farm";
import { internetClient } from "./support/internet";
import { waitFor } from "./support/wait";

const docker = engine();
const d = loadDeployment();
const { https } = internetClient(docker, d);
const SERVICE = `${ENV}-identity-service`;
const JOB = `${ENV}-identity-certificate`;

async function psql(sql: string): Promise<string> {
  const r = await exec(docker, d.containers.postgres, ["psql", "-U", "postgres", "-d", "creatio", "-tAc", sql]);
  if (r.code !== 0) throw new Error(`psql failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

beforeAll(async () => {
  await waitFor(async () => (await docker.getContainer(SERVICE).inspect()).State.Health?.Status === "healthy", 90_000, `${SERVICE} healthy`);
}, 120_000);

test("the service is healthy; it started after its certificate job and the bootstrap, with the farm's keys merged into its shipped appsettings.json", async () => {
  const service = await docker.getContainer(SERVICE).inspect();
  const job = await docker.getContainer(JOB).inspect();
  const bootstrap = await docker.getContainer(`${d.containers.postgres}-bootstrap`).inspect();
  expect(job.State.ExitCode).toBe(0);
  expect(Date.parse(service.State.StartedAt)).toBeGreaterThan(Date.parse(job.State.FinishedAt));
  expect(Date.parse(service.State.StartedAt)).toBeGreaterThan(Date.parse(bootstrap.State.FinishedAt));
  const merged = JSON.parse((await exec(docker, SERVICE, ["cat", "/app/appsettings.json"])).stdout);
  expect(merged).toMatchObject({ DbProvider: "Postgres", X509CertificatePath: "/opt/creatio-farm/identity-certificate/identity.pfx", Logging: { LogLevel: { Default: "Warning" } } });
  expect(merged.DatabaseConnectionString).toBe(merged.PostgresConnection);
  // the shipped section the farm does not own is kept
  expect(merged.IdentityServerApi).toBeDefined();
  const log = String(await docker.getContainer(SERVICE).logs({ stdout: true, stderr: true }));
  expect(log).toMatch(/tables "Clients" and "ClientSecrets" in schema creatio_identity of database creatio as creatio_identity; 1 client\(s\) seeded/);
  expect(log).toMatch(/listening on http:\/\/0\.0\.0\.0:8080/);
  expect(service.HostConfig.PortBindings ?? {}).toEqual({});
});

test("the signing certificate was made on the Docker host, in a volume that only the service mounts, read-only", async () => {
  const log = String(await docker.getContainer(JOB).logs({ stdout: true, stderr: true }));
  expect(log).toMatch(/made a new signing certificate in \/opt\/creatio-farm\/identity-certificate\/identity\.pfx/);
  const volume = `${ENV}-identity-certificate`;
  const holders = (await docker.listContainers({ all: true, filters: { volume: [volume] } })).map((c) => c.Names[0].replace(/^\//, "")).sort();
  expect(holders).toEqual([JOB, SERVICE]);
  const mount = (await docker.getContainer(SERVICE).inspect()).Mounts.find((m) => m.Name === volume);
  expect(mount?.RW).toBe(false);
});

test("in the database: its tables in its own schema, owned by its role, which reads none of Creatio's; OAuth20Integration is on in the restored database", async () => {
  expect(await psql(`SELECT schemaname || '.' || tablename || ' ' || tableowner FROM pg_tables WHERE tablename IN ('Clients', 'ClientSecrets') ORDER BY 1`)).toBe(
    "creatio_identity.ClientSecrets creatio_identity\ncreatio_identity.Clients creatio_identity",
  );
  expect(await psql(`SELECT has_table_privilege('creatio_identity', 'public."SysSettings"', 'SELECT')`)).toBe("f");
  expect(await psql(`SELECT string_agg(s."FeatureState"::text, ',') FROM "AdminUnitFeatureState" s JOIN "Feature" f ON f."Id" = s."FeatureId" WHERE f."Code" = 'OAuth20Integration'`)).toBe("1");
});

test("an internal node reaches it by name on the internal network; a portal node does not", async () => {
  const probe = (container: string) =>
    exec(docker, container, ["node", "-e", `require("http").get("http://identity-service:8080/.well-known/openid-configuration", (r) => { console.log(r.statusCode); r.resume(); }).on("error", (e) => console.log(e.code))`]);
  expect((await probe(d.containers.nodes[0])).stdout.trim()).toBe("200");
  // the name does not even resolve there: no network of a portal node has the service on it
  expect((await probe(d.portal.nodes[0])).stdout.trim()).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
});

test("from the internet, through the portal's proxy: the generated client gets a token; a wrong secret, another method or another path of the service does not", async () => {
  const id = d.outputs.identity_client_id;
  const secret = d.outputs.identity_client_secret;
  expect(id).toMatch(/^[A-Za-z0-9]{16}$/);
  expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);
  const url = new URL(d.outputs.identity_token_url);
  expect(url.pathname).toBe("/connect/token");
  const r = await https(`
    const ct = "application/x-www-form-urlencoded";
    const token = await req("POST", "/connect/token", { contentType: ct, body: ${JSON.stringify(form({ grant_type: "client_credentials", client_id: id, client_secret: secret }))} });
    const basic = await req("POST", "/connect/token", { contentType: ct, auth: ${JSON.stringify(`${id}:${secret}`)}, body: "grant_type=client_credentials" });
    const wrong = await req("POST", "/connect/token", { contentType: ct, body: ${JSON.stringify(form({ grant_type: "client_credentials", client_id: id, client_secret: "x".repeat(32) }))} });
    const get = await req("GET", "/connect/token");
    const discovery = await req("GET", "/.well-known/openid-configuration");
    const authorize = await req("GET", "/connect/authorize");
    return { token, basic, wrong, get, discovery, authorize };`);
  expect(r.token.status).toBe(200);
  expect(JSON.parse(r.token.body)).toMatchObject({ token_type: "Bearer", access_token: expect.any(String), expires_in: 3600 });
  expect(r.basic.status).toBe(200);
  expect([r.wrong.status, JSON.parse(r.wrong.body).error]).toEqual([400, "invalid_client"]);
  expect(r.get.status).toBe(403);
  expect(r.discovery.status).toBe(404);
  expect(r.authorize.status).toBe(404);
});

test("the proxy reaches the service and nothing else on their network; the service is on no network the portal nodes or the balancer are on", async () => {
  const nets = (await docker.getContainer(SERVICE).inspect()).NetworkSettings.Networks;
  expect(Object.keys(nets).sort()).toEqual([`${ENV}-data`, `${ENV}-identity-edge`]);
  const edge = await docker.getNetwork(`${ENV}-identity-edge`).inspect();
  expect(edge.Internal).toBe(true);
  expect(Object.values<{ Name: string }>(edge.Containers ?? {}).map((c) => c.Name).sort()).toEqual([`${ENV}-dmz-proxy`, SERVICE]);
});

describe("Creatio's system settings, set by the settings job through Creatio's API", () => {
  const JOB_NAME = `${ENV}-creatio-settings`;
  const value = (code: string) => psql(`SELECT v."TextValue" FROM "SysSettingsValue" v JOIN "SysSettings" s ON s."Id" = v."SysSettingsId" WHERE s."Code" = '${code}'`);

  test("the job signed in as the administrator, ran after the nodes and the service, and said which codes it set (no value)", async () => {
    const job = await docker.getContainer(JOB_NAME).inspect();
    expect(job.State.ExitCode).toBe(0);
    const log = String(await docker.getContainer(JOB_NAME).logs({ stdout: true, stderr: true }));
    expect(log).toContain("set 5 system setting(s): BulkEmailMonitoringEnabled LandingPagesCollectionUrl OAuth20IdentityServerClientId OAuth20IdentityServerClientSecret OAuth20IdentityServerUrl");
    expect(log).not.toContain(d.outputs.identity_client_secret);
    const service = await docker.getContainer(SERVICE).inspect();
    expect(Date.parse(job.State.StartedAt)).toBeGreaterThan(Date.parse(service.State.StartedAt));
  });

  test("the OAuth settings name the service and its generated client; the secret is stored encrypted, as the platform stores SecureText", async () => {
    expect(await value("OAuth20IdentityServerUrl")).toBe(d.outputs.identity_service_url);
    expect(await value("OAuth20IdentityServerClientId")).toBe(d.outputs.identity_client_id);
    const stored = await value("OAuth20IdentityServerClientSecret");
    expect(stored).not.toContain(d.outputs.identity_client_secret);
    const clear = await exec(docker, d.containers.nodes[0], ["node", "-e", 'process.stdout.write(require("/opt/stand-in/settings-api").decrypt(process.argv[1]))', stored]);
    expect(clear.stdout).toBe(d.outputs.identity_client_secret);
  });

  test("the environment file's systemSettings are in, as text; the settings it does not name are untouched", async () => {
    expect(await value("LandingPagesCollectionUrl")).toBe("https://portal.test/");
    expect(await value("BulkEmailMonitoringEnabled")).toBe("true");
    expect(await value("SiteUrl")).toBe("https://crm.example.com");
  });
});
