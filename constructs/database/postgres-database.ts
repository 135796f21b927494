import * as path from "path";
import { Construct } from "constructs";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { CONTAINER, DEFAULTS } from "../defaults";
import { FarmContainer, IWorkload } from "../lib/farm-container";
import { farmImage } from "../lib/farm-image";
import { ResourceProps } from "../lib/resources";
import { FarmValidationError } from "../lib/errors";
import { SecretName, secretPlaceholder } from "../lib/secret-text";
import { FarmNetwork } from "../networks/farm-network";
import { OFFSETS } from "../networks/address-plan";
import { FarmSecrets } from "../secrets/farm-secrets";
import { IDatabaseClient } from "./database-client";
import { DatabaseEndpoint, POSTGRES } from "./database-endpoint";
import { postgresVersionProblem, restoreFileProblem } from "./rules";
import { connectionBudgetProblem } from "./pool-sizing";
import {
  APP_PASSWORD_FILE_ENV,
  BootstrapModel,
  renderBootstrapFinishSql,
  renderBootstrapScript,
  renderBootstrapSql,
  renderPgHba,
  renderRestoreHandOverSql,
  renderRestoreSwapSql,
  roleNameProblem,
} from "./render-bootstrap";

/** The name nodes use for the database on the data network. */
const HOST_ALIAS = "postgres";
const DATA_DIR = "/var/lib/postgresql/data";
/** The server's unix socket directory (the official image's): a volume shared with the bootstrap job alone. */
const SOCKET_DIR = "/var/run/postgresql";
const SQL_PATH = `${CONTAINER.farmDir}/bootstrap.sql`;
const FINISH_SQL_PATH = `${CONTAINER.farmDir}/bootstrap-finish.sql`;
const SCRIPT_PATH = `${CONTAINER.farmDir}/bootstrap.sh`;
const HBA_PATH = `${CONTAINER.farmDir}/pg_hba.conf`;
/** Read by the image's entrypoint as root (POSTGRES_PASSWORD_FILE), so it can be 0600: not in the container's config. */
const SUPERUSER_PASSWORD_PATH = `${CONTAINER.farmDir}/superuser-password`;
/** Role passwords in the bootstrap job, which runs as root: 0600 files of root's. */
const APP_PASSWORD_PATH = `${CONTAINER.farmDir}/app-password`;
const rolePasswordPath = (role: string) => `${CONTAINER.farmDir}/role-password-${role}`;
/** A restore's files in the job: the two of the distribution mounted read-only, the two SQL files of the farm. */
const RESTORE_DIR = `${CONTAINER.farmDir}/restore`;
const RESTORE_PATHS = {
  backup: `${RESTORE_DIR}/creatio.backup`,
  typeCasts: `${RESTORE_DIR}/CreateTypeCastsPostgreSql.sql`,
  handOver: `${CONTAINER.farmDir}/restore-hand-over.sql`,
  swap: `${CONTAINER.farmDir}/restore-swap.sql`,
};

/** Creatio's backup and type casts script, on the Docker host. */
export interface DatabaseRestoreProps {
  /** Path on the Docker host of the distribution's backup (`db/*.backup`, pg_restore's custom format). */
  readonly backup: string;
  /** Path on the Docker host of the distribution's `CreateTypeCastsPostgreSql.sql`. */
  readonly typeCasts: string;
}

/** A client that logs in with a role of its own rather than the application role. */
export interface DatabaseRole {
  /** Login role: data rights only (rows of every table; no DDL, owns nothing), unless `ownSchema`. */
  readonly user: string;
  /** The generated secret that is its password. */
  readonly password: SecretName;
  /**
   * Instead of rights on Creatio's rows: a schema named after the role, which it owns and creates its tables in
   * (a service with tables of its own in Creatio's database, the Identity Service). @default false
   */
  readonly ownSchema?: boolean;
}

export interface DatabaseClientOptions {
  /** Network the client reaches the database on; the database joins it. @default - the database's own network */
  readonly network?: FarmNetwork;
  /** A role of the client's own. @default - the application role (`user`), which owns the database */
  readonly role?: DatabaseRole;
}

interface Client {
  readonly client: IDatabaseClient;
  readonly network: FarmNetwork;
  readonly user: string;
  readonly password: SecretName;
  readonly ownSchema: boolean;
}

export interface PostgresDatabaseProps {
  /** Environment name: prefixes container and volume names. */
  readonly environment: string;
  /** PostgreSQL image (16 or newer), pinned. */
  readonly image: string;
  /** The internal network the database shares with the nodes. */
  readonly network: FarmNetwork;
  readonly secrets: FarmSecrets;
  /** Database Creatio uses. @default "creatio" */
  readonly name?: string;
  /** Login role the nodes connect as; never a superuser. @default "creatio" */
  readonly user?: string;
  /** PostgreSQL max_connections; must cover every node's pools plus a reserve. @default 500 */
  readonly maxConnections?: number;
  /** Npgsql pool limit of each of a node's two connection strings. @default 50 */
  readonly nodePoolSize?: number;
  /** @default - memory 1 GB + 10 MB per connection of maxConnections; no CPU limit */
  readonly resources?: ResourceProps;
  /**
   * Restore Creatio's backup once, when the database is empty (the bootstrap job does it, into a scratch database
   * it swaps in). @default - no restore: the operator restores by hand
   */
  readonly restore?: DatabaseRestoreProps;
}

/**
 * PostgreSQL for the farm. On first start the image creates the superuser `postgres`. A one-shot bootstrap job
 * (`<env>-postgres-bootstrap`) then creates or converges the application role, its database and every client's
 * own data role, over the server's unix socket: the superuser has no network login. The job runs again whenever
 * what it applies changes (roles, passwords, grants), on an existing data volume too; a failed run fails the apply.
 * The operator then restores Creatio's backup into the database.
 * The data volume carries `prevent_destroy`: no plan can delete it, even `cdktf destroy`.
 *
 * @example
 * const db = new PostgresDatabase(stack, "database", { environment: "dev", image: "postgres:16", network: data, secrets });
 * db.allowFrom(nodes); // any IDatabaseClient
 */
export class PostgresDatabase extends Construct {
  public readonly container: IWorkload;
  public readonly volume: Volume;
  public readonly databaseName: string;
  public readonly user: string;
  public readonly maxConnections: number;
  public readonly nodePoolSize: number;
  /** The bootstrap job: clients start after it. */
  public readonly bootstrap: IWorkload;
  /** The server's image: its tools (psql, openssl) serve the farm's one-shot jobs. */
  public readonly image: Image;
  private readonly network: FarmNetwork;
  private readonly clients: Client[] = [];
  private readonly features = new Set<string>();
  private finishProvisioned = false;

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    const version = postgresVersionProblem(props.image);
    if (version) throw new FarmValidationError(`image "${props.image}": ${version}`, this);
    this.network = props.network;
    this.databaseName = props.name ?? DEFAULTS.database.name;
    this.user = props.user ?? DEFAULTS.database.user;
    this.maxConnections = props.maxConnections ?? DEFAULTS.database.maxConnections;
    this.nodePoolSize = props.nodePoolSize ?? DEFAULTS.database.nodePoolSize;
    for (const [key, file] of Object.entries(props.restore ?? {})) {
      const problem = restoreFileProblem(file);
      if (problem) throw new FarmValidationError(`restore.${key}: ${problem}, got "${file}"`, this);
    }
    const restore = props.restore && {
      backupPath: RESTORE_PATHS.backup,
      typeCastsPath: RESTORE_PATHS.typeCasts,
      handOverPath: RESTORE_PATHS.handOver,
      swapPath: RESTORE_PATHS.swap,
      label: path.posix.basename(props.restore.backup),
    };
    const model = (): BootstrapModel => ({
      databaseName: this.databaseName,
      appUser: this.user,
      sqlPath: SQL_PATH,
      dataRoles: this.dataRoles().map((c) => ({ name: c.user, passwordFile: rolePasswordPath(c.user), ownSchema: c.ownSchema })),
      restore,
      features: [...this.features],
      finishSqlPath: FINISH_SQL_PATH,
    });
    this.model = model;
    this.validateModel();

    this.volume = new Volume(this, "volume", {
      name: `${props.environment}-postgres-data`,
      lifecycle: { preventDestroy: true },
    });
    // Holds nothing but the socket: the server recreates it at every start.
    const socket = new Volume(this, "socket", { name: `${props.environment}-postgres-socket` });
    const image = (this.image = farmImage(this, props.image));
    this.container = new FarmContainer(this, "container", {
      name: `${props.environment}-postgres`,
      image,
      role: "data",
      secrets: props.secrets,
      command: [
        "postgres",
        "-c", `max_connections=${this.maxConnections}`,
        // Creatio's sizing rule: 0.24 MB of shared buffers per connection.
        "-c", `shared_buffers=${Math.ceil(this.maxConnections * 0.24)}MB`,
        "-c", `hba_file=${HBA_PATH}`,
      ],
      env: ["POSTGRES_USER=postgres", "POSTGRES_DB=postgres", `POSTGRES_PASSWORD_FILE=${SUPERUSER_PASSWORD_PATH}`],
      volumes: [
        { volumeName: this.volume.name, containerPath: DATA_DIR },
        { volumeName: socket.name, containerPath: SOCKET_DIR },
      ],
      shmSizeMb: 256,
      // Fast shutdown: roll back open transactions and stop cleanly instead of waiting for clients to leave;
      // a checkpoint of a busy database can take a while, so Docker waits before it kills.
      stopSignal: "SIGINT",
      stopTimeoutSeconds: 120,
      healthcheck: ["pg_isready", "--username=postgres", "--dbname=postgres"],
      // The image's entrypoint starts as root, prepares PGDATA and the socket directory for the postgres user
      // and drops to it (gosu).
      capabilities: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"],
      memoryMb: props.resources?.memoryMb ?? DEFAULTS.database.memoryMb(this.maxConnections),
      cpus: props.resources?.cpus,
    });
    this.container.attach(props.network, OFFSETS.database, [HOST_ALIAS]);
    this.container.addFile({
      path: HBA_PATH,
      format: "pg_hba",
      render: () => renderPgHba(this.clients.map((c) => ({ database: this.databaseName, role: c.user, network: c.network.subnet }))),
    });
    this.container.addFile({
      path: SUPERUSER_PASSWORD_PATH,
      format: "secret",
      mode: 0o600,
      render: () => secretPlaceholder("database-superuser-password"),
    });

    const bootstrap = new FarmContainer(this, "bootstrap", {
      name: `${props.environment}-postgres-bootstrap`,
      // The server's own image: its psql and pg_isready match the server.
      image,
      role: "data",
      kind: { type: "job" },
      secrets: props.secrets,
      entrypoint: ["/bin/sh", SCRIPT_PATH],
      env: ["POSTGRES_USER=postgres", `PGHOST=${SOCKET_DIR}`, `${APP_PASSWORD_FILE_ENV}=${APP_PASSWORD_PATH}`],
      // The socket is its only way to the server: no network at all.
      networkMode: "none",
      volumes: [
        { volumeName: socket.name, containerPath: SOCKET_DIR },
        // The distribution's files, read-only; a path that does not exist on the Docker host becomes an empty
        // directory there (Docker's bind mounts), which the job refuses by name.
        ...(props.restore
          ? [
              { hostPath: props.restore.backup, containerPath: RESTORE_PATHS.backup, readOnly: true },
              { hostPath: props.restore.typeCasts, containerPath: RESTORE_PATHS.typeCasts, readOnly: true },
            ]
          : []),
      ],
      // pg_restore of a large backup; the server does the heavy part.
      memoryMb: props.restore ? 1024 : 256,
    });
    bootstrap.startsAfter(this.container);
    this.bootstrap = bootstrap;
    bootstrap.addFile({ path: SQL_PATH, format: "sql", render: () => renderBootstrapSql(model()) });
    bootstrap.addFile({ path: SCRIPT_PATH, format: "sh", mode: 0o755, render: () => renderBootstrapScript(model()) });
    bootstrap.addFile({ path: APP_PASSWORD_PATH, format: "secret", mode: 0o600, render: () => secretPlaceholder("database-password") });
    if (props.restore) {
      bootstrap.addFile({ path: RESTORE_PATHS.handOver, format: "sql", render: () => renderRestoreHandOverSql() });
      bootstrap.addFile({ path: RESTORE_PATHS.swap, format: "sql", render: () => renderRestoreSwapSql() });
    }
  }

  private readonly model: () => BootstrapModel;

  /**
   * Switches a Creatio feature on (`Feature."Code"`), as Creatio's setup guides do with SQL: the job's last step, once
   * Creatio's tables are there; a build without that feature fails the job by name. Before synth.
   */
  public switchOnFeature(code: string): void {
    if (this.bootstrap.isRendered) throw new FarmValidationError(`switchOnFeature(${code}) is called after the bootstrap was rendered (synth)`, this);
    this.features.add(code);
    this.validateModel();
    this.provisionFinish();
  }

  private validateModel(): void {
    try {
      renderBootstrapSql(this.model()); // validates now, with this construct's path, rather than at synth
      renderBootstrapFinishSql(this.model());
    } catch (e) {
      throw new FarmValidationError((e as Error).message.replace(/^creatio-farm: /, ""), this);
    }
  }

  private provisionFinish(): void {
    if (this.finishProvisioned) return;
    this.finishProvisioned = true;
    this.bootstrap.addFile({ path: FINISH_SQL_PATH, format: "sql", render: () => renderBootstrapFinishSql(this.model())! });
  }

  private dataRoles(): readonly Client[] {
    return this.clients.filter((c) => c.user !== this.user);
  }

  /**
   * Lets a client use this database: attaches it (and the database) to the client's network, lets its role in
   * from that network alone (pg_hba.conf), and gives it the endpoint; the client starts after the bootstrap job.
   * Fails with the numbers when max_connections cannot hold the pools of every client so far.
   */
  public allowFrom(client: IDatabaseClient, options: DatabaseClientOptions = {}): void {
    if (this.bootstrap.isRendered) throw new FarmValidationError(`allowFrom(${client.node.path}) is called after the bootstrap was rendered (synth)`, this);
    if (this.clients.some((c) => c.client === client)) throw new FarmValidationError(`${client.node.path} is already a client of this database`, this);
    const user = options.role?.user ?? this.user;
    const password = options.role?.password ?? "database-password";
    if (options.role) {
      const problem = roleNameProblem(user);
      if (problem) throw new FarmValidationError(`role of ${client.node.path}: ${problem}`, this);
      if (user === this.user) throw new FarmValidationError(`role of ${client.node.path}: "${user}" is the application role; a client's own role needs another name`, this);
      if (this.clients.some((c) => c.user === user)) throw new FarmValidationError(`role "${user}" is already another client's`, this);
    }
    const pools = [...this.clients.map((c) => c.client), client].reduce((sum, c) => sum + c.databasePools(POSTGRES.poolsPerNode), 0);
    const problem = connectionBudgetProblem({ maxConnections: this.maxConnections, nodePoolSize: this.nodePoolSize }, pools);
    if (problem) throw new FarmValidationError(problem, this);
    const network = options.network ?? this.network;
    this.container.attach(network, OFFSETS.database, [HOST_ALIAS]);
    this.clients.push({ client, network, user, password, ownSchema: options.role?.ownSchema === true });
    if (options.role) {
      this.bootstrap.addFile({ path: rolePasswordPath(user), format: "secret", mode: 0o600, render: () => secretPlaceholder(password) });
      if (options.role.ownSchema) this.provisionFinish();
    }
    client._connectDatabase(
      network,
      new DatabaseEndpoint(
        POSTGRES,
        { host: HOST_ALIAS, port: CONTAINER.postgresPort, database: this.databaseName, user, password: secretPlaceholder(password) },
        this.nodePoolSize,
      ),
      this.bootstrap,
    );
  }
}
