/**
 * The Docker tier's farm: the fixture environment synthesized by the product's own `synthFarm`, applied to the
 * real Engine by the applier, shared by every test file of the tier (Jest's global setup deploys it once, global
 * teardown destroys it). Everything the tier creates carries the environment's name as a prefix, so a run first
 * removes whatever an interrupted earlier run left behind.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import YAML from "yaml";
import { synthFarm } from "../../../main";
import { Applier } from "./apply/applier";
import { exec } from "./engine";
import { serverStates } from "./haproxy-stats";
import { freePort, sleep } from "../../live/support/processes";
import { selfSignedCertificate } from "../../support/self-signed";
import { TEST_IMAGES } from "./images";

export const ENV = "dockertier";
/** The administrator the settings job signs in as: the stand-in's Supervisor (TF_VAR_creatio_admin_password). */
export const ADMIN = { user: "Supervisor", password: "Supervisor" } as const;
const FIXTURE = path.join(__dirname, "..", "fixtures", "farm.yaml");
const WORK_DIR = path.join(os.tmpdir(), "creatio-farm-docker-tier");
const DEPLOYMENT_FILE = path.join(WORK_DIR, "deployment.json");
/** The network that stands for the internet: the portal's proxy is published on its gateway address. */
export const INTERNET = { name: `${ENV}-internet`, subnet: "172.31.249.0/24", gateway: "172.31.249.1" } as const;

export interface Deployment {
  readonly workDir: string;
  readonly stackDir: string;
  readonly stateFile: string;
  readonly httpPort: number;
  readonly statsPort: number;
  /** Terraform outputs, sensitive ones included. */
  readonly outputs: Record<string, string>;
  /** The environment file as synthesized (ports filled in). */
  readonly config: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** `nodes` are the internal nodes; the portal's are under `portal`. */
  readonly containers: { readonly balancer: string; readonly redis: string; readonly postgres: string; readonly nodes: readonly string[] };
  readonly portal: {
    readonly proxy: string;
    readonly nodes: readonly string[];
    /** Host address (the internet network's gateway) and ports the proxy is published on. */
    readonly address: string;
    readonly httpPort: number;
    readonly httpsPort: number;
    /** The certificate a client trusts for `publicHost`. */
    readonly certificate: string;
    readonly publicHost: string;
  };
  /** Terraform address of each node's container, by container name. */
  readonly nodeAddresses: Record<string, string>;
  /** Terraform address of the database container. */
  readonly postgresAddress: string;
}

/** Synthesizes and applies the fixture, waits until it serves; on any failure removes what it created. */
export async function deploy(docker: Docker, log: (line: string) => void): Promise<Deployment> {
  await removeLeftovers(docker, log);
  fs.rmSync(WORK_DIR, { recursive: true, force: true });
  fs.mkdirSync(path.join(WORK_DIR, "config"), { recursive: true });
  const config = YAML.parse(fs.readFileSync(FIXTURE, "utf8"));
  const [httpPort, statsPort, portalHttpPort, portalHttpsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  config.balancer.httpPort = httpPort;
  config.balancer.stats.port = statsPort;
  // The internet network exists before the proxy is published on its gateway address (the address must be the host's).
  await docker.createNetwork({ Name: INTERNET.name, IPAM: { Config: [{ Subnet: INTERNET.subnet, Gateway: INTERNET.gateway }] } });
  const tlsDir = path.join(WORK_DIR, "tls");
  fs.mkdirSync(tlsDir);
  const certificate = selfSignedCertificate(tlsDir, config.portal.publicHost);
  Object.assign(config.portal, { bindAddress: INTERNET.gateway, httpPort: portalHttpPort, httpsPort: portalHttpsPort, certificate: certificate.pem });
  // What a distribution ships, made here: a backup of a few Creatio tables, and a type casts script.
  const restoreDir = path.join(WORK_DIR, "restore");
  fs.mkdirSync(restoreDir);
  await makeFixtureBackup(docker, restoreDir);
  fs.writeFileSync(path.join(restoreDir, "CreateTypeCastsPostgreSql.sql"), "CREATE CAST (text AS uuid) WITH INOUT AS IMPLICIT;\n");
  config.database.restore = { backup: path.join(restoreDir, "creatio.backup"), typeCasts: path.join(restoreDir, "CreateTypeCastsPostgreSql.sql") };
  fs.writeFileSync(path.join(WORK_DIR, "config", `${ENV}.yaml`), YAML.stringify(config));
  const synth = synthFarm({ configDir: path.join(WORK_DIR, "config"), outdir: path.join(WORK_DIR, "cdktf.out") });
  if (!synth.ok) throw new Error(`the fixture does not synthesize:\n${synth.errors.join("\n")}`);

  const stackDir = path.join(WORK_DIR, "cdktf.out", "stacks", ENV);
  const stateFile = path.join(WORK_DIR, "state.json");
  const applier = new Applier(docker, stackDir, undefined, { creatio_admin_password: ADMIN.password });
  try {
    await applier.apply(log);
  } catch (e) {
    applier.save(stateFile);
    await applier.destroy({ ignorePreventDestroy: true }).catch((d: Error) => log(`cleanup after a failed apply: ${d.message}`));
    throw e;
  }
  applier.save(stateFile);

  const containerAddress = (name: string) =>
    applier.addresses("docker_container").find((a) => applier.config(a).name === name) ?? fail(`no container ${name}`);
  const nodes = (config.creatio.nodes as { name: string }[]).map((n) => `${ENV}-creatio-${n.name}`);
  const portalNodes = (config.portal.nodes as { name: string }[]).map((n) => `${ENV}-portal-${n.name}`);
  const deployment: Deployment = {
    workDir: WORK_DIR,
    stackDir,
    stateFile,
    httpPort,
    statsPort,
    outputs: applier.outputs(),
    config,
    containers: { balancer: `${ENV}-haproxy`, redis: `${ENV}-redis`, postgres: `${ENV}-postgres`, nodes },
    portal: {
      proxy: `${ENV}-dmz-proxy`,
      nodes: portalNodes,
      address: INTERNET.gateway,
      httpPort: portalHttpPort,
      httpsPort: portalHttpsPort,
      certificate: certificate.cert,
      publicHost: config.portal.publicHost,
    },
    nodeAddresses: Object.fromEntries(nodes.map((n) => [n, containerAddress(n)])),
    postgresAddress: containerAddress(`${ENV}-postgres`),
  };
  fs.writeFileSync(DEPLOYMENT_FILE, JSON.stringify(deployment), { mode: 0o600 });
  return deployment;
}

/** The tables Creatio's setup scripts touch, with a row each: the backup the tier's database is restored from. */
const FIXTURE_SQL = `CREATE TABLE "Feature" ("Id" uuid PRIMARY KEY, "Code" varchar(250) NOT NULL UNIQUE);
CREATE TABLE "AdminUnitFeatureState" ("Id" serial PRIMARY KEY, "FeatureId" uuid REFERENCES "Feature", "FeatureState" int NOT NULL DEFAULT 0);
CREATE TABLE "SysSettings" ("Id" uuid PRIMARY KEY, "Code" varchar(250) NOT NULL UNIQUE, "ValueTypeName" varchar(50) NOT NULL DEFAULT 'Text');
CREATE TABLE "SysSettingsValue" ("Id" serial PRIMARY KEY, "SysSettingsId" uuid REFERENCES "SysSettings", "TextValue" text);
INSERT INTO "Feature" VALUES ('11111111-1111-1111-1111-111111111111', 'OAuth20Integration');
INSERT INTO "AdminUnitFeatureState" ("FeatureId") VALUES ('11111111-1111-1111-1111-111111111111');
INSERT INTO "SysSettings" VALUES ('22222222-2222-2222-2222-222222222222', 'SiteUrl', 'Text'),
  ('33333333-3333-3333-3333-333333333331', 'OAuth20IdentityServerUrl', 'Text'),
  ('33333333-3333-3333-3333-333333333332', 'OAuth20IdentityServerClientId', 'Text'),
  ('33333333-3333-3333-3333-333333333333', 'OAuth20IdentityServerClientSecret', 'SecureText'),
  ('44444444-4444-4444-4444-444444444441', 'LandingPagesCollectionUrl', 'Text'),
  ('44444444-4444-4444-4444-444444444442', 'BulkEmailMonitoringEnabled', 'Boolean');
INSERT INTO "SysSettingsValue" ("SysSettingsId", "TextValue") VALUES ('22222222-2222-2222-2222-222222222222', 'https://crm.example.com');
`;

/**
 * `dir/creatio.backup` (pg_restore's custom format), made by the tier's own PostgreSQL image in a throwaway
 * container that is removed whatever happens.
 */
async function makeFixtureBackup(docker: Docker, dir: string): Promise<void> {
  fs.writeFileSync(path.join(dir, "fixture.sql"), FIXTURE_SQL);
  const asPostgres = [
    "initdb -D /tmp/pg/data --auth=trust >/dev/null",
    'pg_ctl -D /tmp/pg/data -o "-k /tmp/pg -c listen_addresses=" -w start >/dev/null',
    "psql -X -q -v ON_ERROR_STOP=1 -h /tmp/pg -d postgres -f /out/fixture.sql",
    "pg_dump -Fc -h /tmp/pg -f /tmp/pg/creatio.backup postgres",
    "pg_ctl -D /tmp/pg/data -m fast stop >/dev/null",
  ].join(" && ");
  const script = `set -e; mkdir -p /tmp/pg; chown postgres:postgres /tmp/pg; setpriv --reuid=postgres --regid=postgres --init-groups sh -c '${asPostgres}'; cp /tmp/pg/creatio.backup /out/creatio.backup; chmod 0644 /out/creatio.backup`;
  const container = await docker.createContainer({ Image: TEST_IMAGES.postgres, Entrypoint: ["sh", "-c", script], HostConfig: { Binds: [`${dir}:/out`] } });
  try {
    await container.start();
    const { StatusCode } = await container.wait();
    if (StatusCode !== 0) throw new Error(`the fixture backup could not be made (exit ${StatusCode}): ${String(await container.logs({ stdout: true, stderr: true }))}`);
  } finally {
    await container.remove({ force: true });
  }
}

/** The deployment global setup made (read by each test file). */
export function loadDeployment(): Deployment {
  if (!fs.existsSync(DEPLOYMENT_FILE)) throw new Error(`no Docker tier deployment at ${DEPLOYMENT_FILE}: run the tier with npm run test:docker`);
  return JSON.parse(fs.readFileSync(DEPLOYMENT_FILE, "utf8")) as Deployment;
}

/** The applier with the deployment's current state; `save()` it after replacing something. */
export function applierFor(docker: Docker, deployment: Deployment): Applier {
  return Applier.load(docker, deployment.stateFile);
}

/** Destroys the deployment (the environment is a throwaway: protected volumes go too) and its files. */
export async function destroy(docker: Docker, log: (line: string) => void): Promise<void> {
  try {
    if (fs.existsSync(path.join(WORK_DIR, "state.json"))) await Applier.load(docker, path.join(WORK_DIR, "state.json")).destroy({ ignorePreventDestroy: true });
  } finally {
    await removeLeftovers(docker, log);
    fs.rmSync(WORK_DIR, { recursive: true, force: true });
  }
}

/** Containers, networks, volumes and built images whose names carry this tier's environment prefix. */
export async function leftovers(docker: Docker): Promise<string[]> {
  const prefix = `${ENV}-`;
  const containers = (await docker.listContainers({ all: true })).filter((c) => c.Names.some((n) => n.slice(1).startsWith(prefix)));
  const networks = (await docker.listNetworks()).filter((n) => n.Name.startsWith(prefix));
  const volumes = ((await docker.listVolumes()).Volumes ?? []).filter((v) => v.Name.startsWith(prefix));
  const images = (await docker.listImages()).filter((i) => (i.RepoTags ?? []).some((t) => t.startsWith(`creatio-farm/${prefix}`)));
  return [
    ...containers.map((c) => `container ${c.Names[0].slice(1)}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...volumes.map((v) => `volume ${v.Name}`),
    ...images.map((i) => `image ${(i.RepoTags ?? [])[0]}`),
  ];
}

async function removeLeftovers(docker: Docker, log: (line: string) => void): Promise<void> {
  const found = await leftovers(docker);
  if (!found.length) return;
  log(`removing ${found.join(", ")}`);
  const ignore404 = (e: { statusCode?: number }) => {
    if (e.statusCode !== 404) throw e;
  };
  const named = (kind: string) => found.filter((f) => f.startsWith(`${kind} `)).map((f) => f.slice(kind.length + 1));
  // Containers first: a network or volume in use cannot be removed.
  for (const name of named("container")) await docker.getContainer(name).remove({ force: true, v: true }).catch(ignore404);
  for (const name of named("network")) await docker.getNetwork(name).remove().catch(ignore404);
  for (const name of named("volume")) await docker.getVolume(name).remove({ force: true }).catch(ignore404);
  for (const name of named("image")) await docker.getImage(name).remove({ force: true }).catch(ignore404);
}

/**
 * Waits until every container runs (healthy where it has a check) and the balancer has every node UP to stay:
 * each node has passed `rise` health checks in a row since it last failed one or started. A node restarted
 * faster than the balancer notices looks UP before it has been marked DOWN; the count tells the difference.
 */
export async function waitUntilServing(docker: Docker, d: Deployment, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  const rise = (d.config.balancer.healthCheck?.rise as number | undefined) ?? 2;
  let last = "";
  while (Date.now() - started < timeoutMs) {
    const states = await containerStates(docker, d);
    const notReady = Object.entries(states).filter(([, s]) => s !== "running" && s !== "healthy");
    const servers = await serverStates(d).catch((e: Error) => ({ error: e.message }) as Record<string, string>);
    const down = Object.entries(servers).filter(([, s]) => s !== "UP");
    const checks = notReady.length ? {} : await healthyChecksInARow(docker, d);
    const settling = Object.entries(checks).filter(([, n]) => n < rise);
    // Each node is a server of its set's backend and of its /msg backend.
    const serversExpected = (d.containers.nodes.length + d.portal.nodes.length) * 2;
    if (!notReady.length && !down.length && !settling.length && Object.keys(servers).length === serversExpected) {
      return Date.now() - started;
    }
    last = JSON.stringify({ containers: states, servers, healthyChecksInARow: checks });
    await sleep(250);
  }
  throw new Error(`the farm did not come up within ${timeoutMs} ms: ${last}`);
}

/** Each node's count of health checks passed in a row, asked inside the container (docker exec, its loopback). */
async function healthyChecksInARow(docker: Docker, d: Deployment): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const port = (d.config.creatio.httpPort as number | undefined) ?? 5000;
  const js = `require("http").get("http://127.0.0.1:${port}/api/StandIn/Node",r=>{let b="";r.on("data",c=>b+=c);r.on("end",()=>console.log(JSON.parse(b).healthyChecksInARow))}).on("error",()=>console.log(-1))`;
  for (const node of [...d.containers.nodes, ...d.portal.nodes]) out[node] = Number((await exec(docker, node, ["node", "-e", js])).stdout.trim());
  return out;
}

/** Each container's state: its health status when it has a health check, else running/exited/... */
export async function containerStates(docker: Docker, d: Deployment): Promise<Record<string, string>> {
  const names = [d.containers.balancer, d.containers.redis, d.containers.postgres, ...d.containers.nodes, d.portal.proxy, ...d.portal.nodes];
  const out: Record<string, string> = {};
  for (const name of names) {
    const info = await docker.getContainer(name).inspect();
    out[name] = info.State.Health?.Status ?? info.State.Status;
  }
  return out;
}

function fail(message: string): never {
  throw new Error(message);
}
