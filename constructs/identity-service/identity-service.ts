import * as path from "path";
import { Construct } from "constructs";
import { Image } from "@cdktf/provider-docker/lib/image";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { CONTAINER, DEFAULTS } from "../defaults";
import { IDatabaseClient } from "../database/database-client";
import { DatabaseEndpoint } from "../database/database-endpoint";
import { FarmValidationError } from "../lib/errors";
import { FarmContainer, IWorkload } from "../lib/farm-container";
import { farmImage } from "../lib/farm-image";
import { httpHealthcheck } from "../lib/http-healthcheck";
import { ResourceProps } from "../lib/resources";
import { secretPlaceholder } from "../lib/secret-text";
import { asset } from "../lib/template";
import { OFFSETS } from "../networks/address-plan";
import { FarmNetwork } from "../networks/farm-network";
import { FarmSecrets } from "../secrets/farm-secrets";
import { IDENTITY_SERVICE_POOLS, LogLevel, renderIdentityAppsettings } from "./render-identity-appsettings";

const ASSETS = path.join(__dirname, "assets");
/** The nodes' merge: the same program puts the farm's keys into the service's appsettings.json. */
const NODE_ASSETS = path.join(__dirname, "..", "creatio-nodes", "assets");
const HOST_ALIAS = "identity-service";
/** Inside the container; above 1024, so the service needs no capability whatever user it runs as. */
const HTTP_PORT = 8080;
const CERTIFICATE_DIR = `${CONTAINER.farmDir}/identity-certificate`;
const CERTIFICATE_PATH = `${CERTIFICATE_DIR}/identity.pfx`;
const FILES = {
  entrypoint: `${CONTAINER.farmDir}/entrypoint.sh`,
  merge: `${CONTAINER.farmDir}/merge-appsettings.awk`,
  refuseOverrides: `${CONTAINER.farmDir}/refuse-overrides.sh`,
  overlay: `${CONTAINER.farmDir}/appsettings.farm.json`,
  makeCertificate: `${CONTAINER.farmDir}/make-certificate.sh`,
};

export interface IdentityServiceProps {
  /** Environment name: prefixes container and volume names. */
  readonly environment: string;
  /** Your image, built from the distribution's IdentityService.zip (`Dockerfile-OAuth`), pinned. */
  readonly image: string;
  readonly secrets: FarmSecrets;
  /**
   * The image the certificate job runs in: it needs `openssl` and a POSIX shell. The database's image has both
   * (PostgreSQL's Debian packages depend on openssl).
   */
  readonly certificateToolsImage: Image;
  /** Logging:LogLevel:Default. @default "Warning" */
  readonly logLevel?: LogLevel;
  /** Validity of the signing certificate generated on the Docker host. @default 1095 */
  readonly certificateDays?: number;
  /** ClientName of Creatio's client. @default "creatio-farm" */
  readonly clientName?: string;
  /** The command the image runs (its entrypoint is replaced by the farm's, which execs this). @default ["dotnet", "IdentityService.dll"] */
  readonly command?: readonly string[];
  /** The service's directory inside the image, holding its appsettings.json. @default "/app" */
  readonly appDir?: string;
  /** @default - memory 512 MB; no CPU limit */
  readonly resources?: ResourceProps;
}

/**
 * Creatio's Identity Service (OAuth 2.0), from your image. Its entrypoint is replaced by the farm's, which merges
 * the farm's keys into the image's appsettings.json at every start (the database, Creatio's generated client, the
 * signing certificate, the log level, the listen URL) and keeps everything else as shipped. A one-shot job in
 * `certificateToolsImage` makes the signing certificate on the Docker host, in a volume only the service mounts.
 *
 * It is a database client with a role of its own (`database.allowFrom(identity, { role })`): on that network Creatio's
 * nodes reach it by the name `identity-service` (`urlOn`).
 *
 * @example
 * const identity = new IdentityService(stack, "identity-service", { environment: "prod",
 *   image: "registry.example.com/creatio-identity-service:8.3.1", secrets, certificateToolsImage: db.image });
 * database.allowFrom(identity, { role: { user: "creatio_identity", password: "database-identity-password", ownSchema: true } });
 * identity.urlOn(data); // what Creatio's nodes call
 */
export class IdentityService extends Construct implements IDatabaseClient {
  public readonly container: IWorkload;
  /** The job that makes the signing certificate; the service starts after it. */
  public readonly certificateJob: IWorkload;
  /** The port the service listens on inside its container. */
  public readonly port = HTTP_PORT;
  private database?: DatabaseEndpoint;

  constructor(scope: Construct, id: string, props: IdentityServiceProps) {
    super(scope, id);
    const days = props.certificateDays ?? DEFAULTS.identityService.certificateDays;
    if (!Number.isInteger(days) || days < 60 || days > 3650) throw new FarmValidationError(`certificateDays must be 60..3650 (a certificate within 30 days of its end is replaced), got ${days}`, this);
    const appDir = props.appDir ?? "/app";
    if (!/^\/[A-Za-z0-9._/-]*$/.test(appDir)) throw new FarmValidationError(`appDir must be an absolute path, got ${JSON.stringify(appDir)}`, this);

    const volume = new Volume(this, "certificate-volume", { name: `${props.environment}-identity-certificate` });
    const certificateEnv = [`IDENTITY_CERTIFICATE=${CERTIFICATE_PATH}`];
    const job = new FarmContainer(this, "certificate", {
      name: `${props.environment}-identity-certificate`,
      image: props.certificateToolsImage,
      role: "app",
      kind: { type: "job" },
      secrets: props.secrets,
      entrypoint: ["/bin/sh", FILES.makeCertificate],
      env: [...certificateEnv, `IDENTITY_CERTIFICATE_DAYS=${days}`, `IDENTITY_CERTIFICATE_CN=${props.environment}-identity-service`],
      networkMode: "none",
      volumes: [{ volumeName: volume.name, containerPath: CERTIFICATE_DIR }],
      memoryMb: 128,
    });
    job.addFile({ path: FILES.makeCertificate, format: "sh", mode: 0o555, generated: false, render: () => asset(ASSETS, "make-certificate.sh") });
    this.certificateJob = job;

    const service = new FarmContainer(this, "container", {
      name: `${props.environment}-identity-service`,
      image: farmImage(this, props.image),
      role: "app",
      secrets: props.secrets,
      entrypoint: ["/bin/sh", FILES.entrypoint],
      command: [...(props.command ?? ["dotnet", "IdentityService.dll"])],
      // Production pinned: only appsettings.Production.json is read after appsettings.json (a Development file that
      // dotnet publish leaves behind never is).
      env: [...certificateEnv, `IDENTITY_APP_DIR=${appDir}`, `ASPNETCORE_URLS=http://+:${HTTP_PORT}`, "ASPNETCORE_ENVIRONMENT=Production"],
      volumes: [{ volumeName: volume.name, containerPath: CERTIFICATE_DIR, readOnly: true }],
      healthcheck: httpHealthcheck(HTTP_PORT, "/.well-known/openid-configuration"),
      healthcheckStartSeconds: 120,
      memoryMb: props.resources?.memoryMb ?? DEFAULTS.identityService.memoryMb,
      cpus: props.resources?.cpus,
    });
    service.startsAfter(job);
    service.addFile({ path: FILES.entrypoint, format: "sh", mode: 0o555, generated: false, render: () => asset(ASSETS, "entrypoint.sh") });
    service.addFile({ path: FILES.merge, format: "awk", mode: 0o444, generated: false, render: () => asset(NODE_ASSETS, "merge-appsettings.awk") });
    service.addFile({ path: FILES.refuseOverrides, format: "sh", mode: 0o555, generated: false, render: () => asset(ASSETS, "refuse-overrides.sh") });
    // The database password and the client secret: readable by the service's user, whichever the image runs as.
    service.addFile({
      path: FILES.overlay,
      format: "json",
      mode: 0o444,
      render: () =>
        renderIdentityAppsettings({
          connectionString: this.connectionString(),
          client: {
            id: secretPlaceholder("identity-client-id"),
            name: props.clientName ?? DEFAULTS.identityService.clientName,
            secret: secretPlaceholder("identity-client-secret"),
          },
          certificatePath: CERTIFICATE_PATH,
          logLevel: props.logLevel ?? (DEFAULTS.identityService.logLevel as LogLevel),
          listenUrl: `http://0.0.0.0:${HTTP_PORT}`,
        }),
    });
    this.container = service;
  }

  /** The service's URL on a network it is attached to: by name, as the containers there resolve it. */
  public urlOn(network: FarmNetwork): string {
    if (!this.container.addressOn(network)) throw new FarmValidationError(`the Identity Service is not on ${network.name}`, this);
    return `http://${HOST_ALIAS}:${HTTP_PORT}`;
  }

  /** Attaches it to `network` at its fixed offset; its address there, by which a proxy in front of it calls it. */
  public joinNetwork(network: FarmNetwork): string {
    return this.container.attach(network, OFFSETS.identityService);
  }

  public databasePools(): number {
    return IDENTITY_SERVICE_POOLS;
  }

  /** @internal */
  public _connectDatabase(network: FarmNetwork, endpoint: DatabaseEndpoint, bootstrap: IWorkload): void {
    if (this.database) throw new FarmValidationError("the Identity Service already uses a database", this);
    this.container.attach(network, OFFSETS.identityService, [HOST_ALIAS]);
    this.database = endpoint;
    this.container.startsAfter(bootstrap);
  }

  private connectionString(): string {
    if (!this.database) throw new FarmValidationError("the Identity Service has no database: call database.allowFrom(identityService) before synth", this);
    // The Npgsql spelling the nodes' dbPostgreSql uses; one pool.
    return this.database.connectionStrings().find((c) => c.name === "dbPostgreSql")!.value;
  }
}
