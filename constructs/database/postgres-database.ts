import { Construct } from "constructs";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { CONTAINER, DEFAULTS } from "../defaults";
import { FarmContainer, IWorkload } from "../lib/farm-container";
import { farmImage } from "../lib/farm-image";
import { handOverEntrypoint } from "../lib/hand-over";
import { ResourceProps } from "../lib/resources";
import { FarmValidationError } from "../lib/errors";
import { secretPlaceholder } from "../lib/secret-text";
import { FarmNetwork } from "../networks/farm-network";
import { OFFSETS } from "../networks/address-plan";
import { FarmSecrets } from "../secrets/farm-secrets";
import { IDatabaseClient } from "./database-client";
import { DatabaseEndpoint, POSTGRES } from "./database-endpoint";
import { postgresVersionProblem } from "./rules";
import { connectionBudgetProblem } from "./pool-sizing";
import { APP_PASSWORD_FILE_ENV, renderBootstrapSql, renderInitScript, renderPgHba } from "./render-bootstrap";

/** The name nodes use for the database on the data network. */
const HOST_ALIAS = "postgres";
const DATA_DIR = "/var/lib/postgresql/data";
const SQL_PATH = `${CONTAINER.farmDir}/bootstrap.sql`;
const HBA_PATH = `${CONTAINER.farmDir}/pg_hba.conf`;
/** Read by the image's entrypoint as root (POSTGRES_PASSWORD_FILE), so it can be 0600: not in the container's config. */
const SUPERUSER_PASSWORD_PATH = `${CONTAINER.farmDir}/superuser-password`;
/** The app role's password as uploaded (root's, 0600), and the copy the init script reads (postgres', 0400). */
const APP_PASSWORD_UPLOAD = `${CONTAINER.farmDir}/app-password`;
const APP_PASSWORD_FILE = "/run/creatio-farm-app-password";
/** The official image's entrypoint (a bash script): prepares PGDATA, drops to postgres, runs the init scripts. */
const IMAGE_ENTRYPOINT = "/usr/local/bin/docker-entrypoint.sh";

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
}

/**
 * PostgreSQL for the farm. On first start the image creates the superuser `postgres` and runs the bootstrap,
 * which creates the application role and database; the operator then restores Creatio's backup into it.
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
  private readonly network: FarmNetwork;
  private readonly clients: IDatabaseClient[] = [];

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    const version = postgresVersionProblem(props.image);
    if (version) throw new FarmValidationError(`image "${props.image}": ${version}`, this);
    this.network = props.network;
    this.databaseName = props.name ?? DEFAULTS.database.name;
    this.user = props.user ?? DEFAULTS.database.user;
    this.maxConnections = props.maxConnections ?? DEFAULTS.database.maxConnections;
    this.nodePoolSize = props.nodePoolSize ?? DEFAULTS.database.nodePoolSize;
    const model = { databaseName: this.databaseName, appUser: this.user, sqlPath: SQL_PATH };
    try {
      renderBootstrapSql(model); // validates names now, with this construct's path, rather than at synth
    } catch (e) {
      throw new FarmValidationError((e as Error).message.replace(/^creatio-farm: /, ""), this);
    }

    this.volume = new Volume(this, "volume", {
      name: `${props.environment}-postgres-data`,
      lifecycle: { preventDestroy: true },
    });
    this.container = new FarmContainer(this, "container", {
      name: `${props.environment}-postgres`,
      image: farmImage(this, props.image),
      role: "data",
      secrets: props.secrets,
      command: [
        "postgres",
        "-c", `max_connections=${this.maxConnections}`,
        // Creatio's sizing rule: 0.24 MB of shared buffers per connection.
        "-c", `shared_buffers=${Math.ceil(this.maxConnections * 0.24)}MB`,
        "-c", `hba_file=${HBA_PATH}`,
      ],
      // The init script runs as the postgres user, which cannot read a file Docker uploads as root with 0600: the
      // start command copies the app role's password for that user alone first, so it is in no environment variable.
      entrypoint: handOverEntrypoint({
        from: APP_PASSWORD_UPLOAD,
        to: APP_PASSWORD_FILE,
        owner: "postgres:postgres",
        then: IMAGE_ENTRYPOINT,
        name: "postgres-entrypoint",
      }),
      env: [
        "POSTGRES_USER=postgres",
        "POSTGRES_DB=postgres",
        `POSTGRES_PASSWORD_FILE=${SUPERUSER_PASSWORD_PATH}`,
        `${APP_PASSWORD_FILE_ENV}=${APP_PASSWORD_FILE}`,
      ],
      volumes: [{ volumeName: this.volume.name, containerPath: DATA_DIR }],
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
    this.container.addFile({ path: SQL_PATH, format: "sql", render: () => renderBootstrapSql(model) });
    this.container.addFile({
      path: HBA_PATH,
      format: "pg_hba",
      render: () => renderPgHba([{ database: this.databaseName, role: this.user, network: this.network.subnet }]),
    });
    this.container.addFile({
      path: APP_PASSWORD_UPLOAD,
      format: "secret",
      mode: 0o600,
      render: () => secretPlaceholder("database-password"),
    });
    this.container.addFile({
      path: SUPERUSER_PASSWORD_PATH,
      format: "secret",
      mode: 0o600,
      render: () => secretPlaceholder("database-superuser-password"),
    });
    this.container.addFile({
      path: "/docker-entrypoint-initdb.d/10-creatio-bootstrap.sh",
      format: "sh",
      mode: 0o755,
      render: () => renderInitScript(model),
    });
  }

  /**
   * Lets a client use this database: attaches it to the data network and gives it the endpoint. Fails with the
   * numbers when max_connections cannot hold the pools of every client so far.
   */
  public allowFrom(client: IDatabaseClient): void {
    if (this.clients.includes(client)) throw new FarmValidationError(`${client.node.path} is already a client of this database`, this);
    const pools = [...this.clients, client].reduce((sum, c) => sum + c.databasePools(POSTGRES.poolsPerNode), 0);
    const problem = connectionBudgetProblem({ maxConnections: this.maxConnections, nodePoolSize: this.nodePoolSize }, pools);
    if (problem) throw new FarmValidationError(problem, this);
    this.clients.push(client);
    client._connectDatabase(
      this.network,
      new DatabaseEndpoint(
        POSTGRES,
        { host: HOST_ALIAS, port: CONTAINER.postgresPort, database: this.databaseName, user: this.user, password: secretPlaceholder("database-password") },
        this.nodePoolSize,
      ),
    );
  }
}
