import * as path from "path";
import { Construct } from "constructs";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { CONTAINER, DEFAULTS } from "../defaults";
import { asset } from "../lib/template";
import { BuiltImage } from "../lib/built-image";
import { httpHealthcheck } from "../lib/http-healthcheck";
import { ResourceProps } from "../lib/resources";
import { FarmContainer, IWorkload } from "../lib/farm-container";
import { SharedFile } from "../lib/shared-file";
import { farmImage } from "../lib/farm-image";
import { FarmValidationError } from "../lib/errors";
import { BackendServer, IBalancerBackend } from "../balancer/balancer-backend";
import { IDatabaseClient } from "../database/database-client";
import { DatabaseEndpoint } from "../database/database-endpoint";
import { FarmNetwork } from "../networks/farm-network";
import { OFFSETS } from "../networks/address-plan";
import { nodeCapacityProblem } from "../networks/rules";
import { IRedisClient, RedisEndpoint } from "../redis/redis-client";
import { FarmSecrets } from "../secrets/farm-secrets";
import { SecretName, secretPlaceholder } from "../lib/secret-text";
import { renderConnectionStrings } from "./render-connection-strings";
import { renderAppsettingsOverlay } from "./render-appsettings-overlay";
import { NodeDockerfileModel, renderNodeDockerfile } from "./render-node-dockerfile";
import { appDirProblem, authProvidersProblem, duplicateNodeNames } from "./rules";

const ASSETS = path.join(__dirname, "assets");
/** The key directory's name under the application root: what Creatio ships as DataProtection.KeysDirectory. */
const KEYS_DIR_NAME = "DataProtectionKeys";
/** The UserManagementSauPassword the patch step writes into Terrasoft.WebHost.dll.config at start. */
const SAU_PASSWORD_PATH = `${CONTAINER.farmDir}/user-management-sau-password`;

export interface CreatioNodeSpec {
  /** Node name; the container is `<env>-<component>-<name>` (`<env>-creatio-<name>` by default). */
  readonly name: string;
  /** Balancer weight, 1..256. @default 1 */
  readonly weight?: number;
}

export interface CreatioNodeSetProps {
  /** Environment name: prefixes container and volume names. */
  readonly environment: string;
  /** The Creatio .NET 8 image, pinned. */
  readonly image: string;
  readonly nodes: readonly CreatioNodeSpec[];
  readonly secrets: FarmSecrets;
  /** TenantId, identical on every node. @default 1 */
  readonly tenantId?: number;
  /** Port Kestrel listens on inside each node. @default 5000 */
  readonly httpPort?: number;
  /** Application root inside the image. @default "/app" */
  readonly appDir?: string;
  /** Path of the node's own health check (Docker's), the one the balancer checks. @default "/api/HealthCheck/Ping" */
  readonly healthCheckPath?: string;
  /** Each node's limits. @default - memory 8192 MB; no CPU limit */
  readonly resources?: ResourceProps;
  /**
   * Names the set's containers and volumes (`<env>-<component>-<node>`), so a second set (the portal's) in the
   * same environment does not collide with the first. @default "creatio"
   */
  readonly component?: string;
  /**
   * Host offset of the set's first node on every network it joins; a second set on the same networks needs a
   * range of its own. @default 11
   */
  readonly firstAddressOffset?: number;
  /**
   * The only sign-in providers of `<terrasoft><auth providerNames>` (portal nodes: `["SSPUserPassword"]`); each
   * must be defined in the file's `<auth><providers>`. autoLoginProviderNames is emptied too.
   * @default - the image's providers, untouched
   */
  readonly authProviders?: readonly string[];
  /**
   * Generated secret that replaces the distribution's fixed, public UserManagementSauPassword (the password of
   * Creatio's SysPortalConnection user, which portal self-registration signs in as).
   * @default - the image's value, untouched
   */
  readonly userManagementSauPassword?: SecretName;
}

/** One node of the set. */
export interface CreatioNode {
  readonly name: string;
  readonly weight: number;
  readonly index: number;
  readonly container: IWorkload;
}

/**
 * N identical Creatio .NET 8 nodes from one image, configured the way `configureWebFarmMode` does it and sharing
 * one DataProtection key ring.
 *
 * The set builds its own node image FROM your image (`image`, pulled or found on the Docker host): the build runs
 * Creatio's `configureWebFarmMode` (TenantId, Redis-backed stores, a new key ring), then the farm's patch step
 * (Quartz clustering in every scheduler block, TenantId, DataProtection, ForwardedHeaders), and checks the result.
 * Every node runs that image, re-runs the patch step at start (a no-op unless something changed the files), and
 * mounts the set's key volume at the key directory: an empty volume is seeded from the image, so all nodes start
 * from the same key ring, and it outlives any node. Nodes differ only in name, address and weight; each gets its
 * ConnectionStrings.config (it holds the generated database password) as a provisioned file.
 *
 * The set is a balancer backend, a database client and a Redis client: it is wired by the components it talks
 * to, `balancer.addBackend(nodes)`, `redis.allowFrom(nodes)`, `database.allowFrom(nodes)`, each attaching the
 * network. Synth fails with the construct path if one of them is missing.
 *
 * @example
 * const nodes = new CreatioNodeSet(stack, "creatio", { environment: "dev", image: "registry.example.com/creatio-net8:8.3.1",
 *   nodes: [{ name: "node-1", weight: 2 }, { name: "node-2" }], secrets });
 */
export class CreatioNodeSet extends Construct implements IBalancerBackend, IDatabaseClient, IRedisClient {
  public readonly members: readonly CreatioNode[];
  public readonly httpPort: number;
  public readonly appDir: string;
  /** The image every node runs, built from `image`. */
  public readonly nodeImage: BuiltImage;
  private readonly firstAddressOffset: number;
  private readonly trustedProxies = new Set<string>();
  /** ConnectionStrings.config; rendered only once both database and Redis are connected, each at most once. */
  private readonly connectionStrings: SharedFile;
  private redis?: RedisEndpoint;
  private database?: DatabaseEndpoint;

  constructor(scope: Construct, id: string, props: CreatioNodeSetProps) {
    super(scope, id);
    this.httpPort = props.httpPort ?? DEFAULTS.creatio.httpPort;
    this.appDir = props.appDir ?? DEFAULTS.creatio.appDir;
    const appDirIssue = appDirProblem(this.appDir);
    if (appDirIssue) throw new FarmValidationError(`appDir: ${appDirIssue}, got "${this.appDir.slice(0, 80)}"`, this);
    const tenantId = props.tenantId ?? DEFAULTS.creatio.tenantId;
    const component = props.component ?? "creatio";
    this.firstAddressOffset = props.firstAddressOffset ?? OFFSETS.firstNode;
    if (props.nodes.length === 0) throw new FarmValidationError("a node set needs at least one node", this);
    const [duplicate] = duplicateNodeNames(props.nodes.map((n) => n.name), (i) => `nodes[${i}].name`);
    if (duplicate) throw new FarmValidationError(duplicate.message, this);
    const keysDir = `${this.appDir}/${KEYS_DIR_NAME}`;
    if (props.authProviders) {
      const problem = authProvidersProblem(props.authProviders);
      if (problem) throw new FarmValidationError(`authProviders: ${problem}`, this);
    }
    const dockerfile: NodeDockerfileModel = {
      component,
      baseImage: props.image,
      appDir: this.appDir,
      farmDir: CONTAINER.farmDir,
      tenantId,
      keysDir,
      authProviders: props.authProviders?.join(","),
    };
    try {
      renderNodeDockerfile(dockerfile); // validates now, with this construct's path, rather than at synth
    } catch (e) {
      throw new FarmValidationError((e as Error).message, this);
    }

    // One key ring for the whole set, outliving every node: seeded from the image's ring when it is empty.
    const keys = new Volume(this, "data-protection-keys", { name: `${props.environment}-${component}-data-protection-keys` });
    const keysVolume = keys.name; // one token for all nodes

    this.nodeImage = new BuiltImage(this, "node-image", {
      repository: `creatio-farm/${props.environment}-${component}`,
      contextDir: `images/${component}`,
      from: farmImage(this, props.image),
    });
    this.provisionImage(dockerfile);

    // Identical on every node: rendered once, and held once in cdk.tf.json rather than once per node.
    this.connectionStrings = new SharedFile(this, "connection-strings", {
      secrets: props.secrets,
      file: {
        path: `${this.appDir}/ConnectionStrings.config`,
        format: "xml",
        render: () =>
          renderConnectionStrings({
            database: this.required(this.database, "database").connectionStrings(),
            redis: this.required(this.redis, "Redis").connectionString(),
          }),
      },
    });
    this.members = props.nodes.map((spec, index) => {
      const scope = new Construct(this, spec.name);
      const logs = new Volume(scope, "logs", { name: `${props.environment}-${component}-${spec.name}-logs` });
      const container = new FarmContainer(scope, "container", {
        name: `${props.environment}-${component}-${spec.name}`,
        image: this.nodeImage.resource,
        role: "app",
        secrets: props.secrets,
        volumes: [
          { volumeName: logs.name, containerPath: `${this.appDir}/Logs` },
          { volumeName: keysVolume, containerPath: keysDir },
        ],
        // The patch step rewrites the image's config files as the image's user, which may not own them.
        capabilities: ["CHOWN", "DAC_OVERRIDE", "FOWNER"],
        memoryMb: props.resources?.memoryMb ?? DEFAULTS.creatio.memoryMb,
        cpus: props.resources?.cpus,
        healthcheck: httpHealthcheck(this.httpPort, props.healthCheckPath ?? DEFAULTS.balancer.healthCheck.path),
        // Creatio loads its configuration for minutes on a first start.
        healthcheckStartSeconds: 600,
      });
      container.addFile(this.connectionStrings.spec);
      if (props.userManagementSauPassword) {
        const secret = props.userManagementSauPassword;
        // Read at start by the patch step, which runs as the image's user (not known here): not 0600 root.
        container.addFile({ path: SAU_PASSWORD_PATH, format: "secret", mode: 0o444, render: () => secretPlaceholder(secret) });
        container.addEnv(`CREATIO_SAU_PASSWORD_FILE=${SAU_PASSWORD_PATH}`);
      }
      return { name: spec.name, weight: spec.weight ?? DEFAULTS.creatio.weight, index, container };
    });

    this.node.addValidation({
      validate: () => [
        ...(this.trustedProxies.size ? [] : ["no proxy in front of the nodes: call balancer.addBackend(nodes)"]),
        ...(this.redis ? [] : ["the nodes have no Redis: call redis.allowFrom(nodes)"]),
        ...(this.database ? [] : ["the nodes have no database: call database.allowFrom(nodes)"]),
      ],
    });
  }

  /** Connection pools the set opens: one per connection string of the engine, on every node. */
  public databasePools(poolsPerNode: number): number {
    return this.members.length * poolsPerNode;
  }

  /** @internal */
  public _connectBalancer(network: FarmNetwork, proxyAddress: string): readonly BackendServer[] {
    // KnownProxiesIP is in the node image's context: a proxy added after it was rendered would not reach the nodes.
    if (this.nodeImage.isRendered) {
      throw new FarmValidationError("a balancer is connected after the node image was rendered (synth): connect every balancer before synth", this);
    }
    this.attachTo(network);
    this.trustedProxies.add(proxyAddress);
    return this.members.map((m) => ({ name: m.name, address: m.container.addressOn(network)!, port: this.httpPort, weight: m.weight }));
  }

  /** @internal */
  public _connectDatabase(network: FarmNetwork, endpoint: DatabaseEndpoint, bootstrap: IWorkload): void {
    if (this.database) throw new FarmValidationError("the nodes already use a database", this);
    this.attachTo(network);
    this.database = endpoint;
    // The bootstrap creates the nodes' role: a node started before it would fail to sign in.
    for (const m of this.members) m.container.startsAfter(bootstrap);
  }

  /** @internal */
  public _connectRedis(network: FarmNetwork, endpoint: RedisEndpoint): void {
    if (this.redis) throw new FarmValidationError("the nodes already use a Redis", this);
    this.attachTo(network);
    this.redis = endpoint;
    const { files, env } = endpoint.clientSetup();
    for (const m of this.members) {
      for (const f of files) m.container.addFile(f);
      for (const e of env) m.container.addEnv(e);
    }
  }

  /** Attaches every node to `network`, node k at the set's first address offset + k. */
  private attachTo(network: FarmNetwork): void {
    const problem = nodeCapacityProblem(network.name, network.subnet, this.members.length, this.firstAddressOffset);
    if (problem) throw new FarmValidationError(problem, this);
    for (const m of this.members) m.container.attach(network, this.firstAddressOffset + m.index);
  }

  /** The build context of the node image: the Dockerfile and the farm's scripts under their path in the image. */
  private provisionImage(dockerfile: NodeDockerfileModel): void {
    const farm = (file: string) => `${CONTAINER.farmDir.slice(1)}/${file}`;
    const image = this.nodeImage;
    image.addFile({ path: "Dockerfile", format: "dockerfile", render: () => renderNodeDockerfile(dockerfile) });
    image.addFile({
      path: farm("appsettings.farm.json"),
      format: "json",
      render: () =>
        renderAppsettingsOverlay({
          knownProxies: [...this.trustedProxies],
          dataProtection: { applicationName: DEFAULTS.creatio.dataProtectionApplicationName, keysDirectory: dockerfile.keysDir },
        }),
    });
    // The farm's own scripts, as they are: not rendered from the environment, so no generated marker.
    for (const script of ["entrypoint.sh", "configure-web-farm.sh"]) {
      image.addFile({ path: farm(script), format: "sh", mode: 0o755, generated: false, render: () => asset(ASSETS, script) });
    }
    for (const program of ["patch-webhost-config.awk", "merge-appsettings.awk"]) {
      image.addFile({ path: farm(program), format: "awk", generated: false, render: () => asset(ASSETS, program) });
    }
  }

  private required<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw new FarmValidationError(`the nodes have no ${what} to render their connection strings`, this);
    return value;
  }
}
