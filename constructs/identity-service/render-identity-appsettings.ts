/**
 * The part of the Identity Service's appsettings.json the farm owns. Its entrypoint merges these top-level keys
 * into the image's appsettings.json at every start (the merge nodes use: every other key stays as shipped, the
 * designer client and the service's own sections included). Pure: model in, JSON text out.
 */
import { stableJson } from "../lib/template";

/** Connection pools the service opens: one, as both connection keys hold the same string. */
export const IDENTITY_SERVICE_POOLS = 1;

/**
 * What Creatio's client may ask for: the scopes of the documented "system user" client (Creatio registers its
 * integrations' clients and resources through them).
 */
export const CREATIO_CLIENT_SCOPES = [
  "register_own_resource",
  "get_resource_list",
  "get_client_info",
  "find_clients",
  "remove_client",
  "update_client",
  "add_registrar_client",
  "IdentityServerApi",
] as const;

export const LOG_LEVELS = ["Trace", "Debug", "Information", "Warning", "Error", "Critical"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface IdentityAppsettingsModel {
  /** Npgsql connection string; its password may be a secret placeholder. */
  readonly connectionString: string;
  /** Creatio's client: ClientId and secret may be secret placeholders (16 and 32 characters once resolved). */
  readonly client: { readonly id: string; readonly name: string; readonly secret: string };
  /** Absolute path of the signing certificate (PKCS#12, empty password) inside the container. */
  readonly certificatePath: string;
  readonly logLevel: LogLevel;
  /** Kestrel's HTTP endpoint, e.g. http://0.0.0.0:8080. */
  readonly listenUrl: string;
}

export function renderIdentityAppsettings(m: IdentityAppsettingsModel): string {
  if (!m.certificatePath.startsWith("/")) throw new Error(`certificatePath must be absolute, got ${JSON.stringify(m.certificatePath)}`);
  if (!LOG_LEVELS.includes(m.logLevel)) throw new Error(`logLevel must be one of ${LOG_LEVELS.join(", ")}, got ${JSON.stringify(m.logLevel)}`);
  if (!/^http:\/\/[^/\s]+:\d+$/.test(m.listenUrl)) throw new Error(`listenUrl must be http://<address>:<port>, got ${JSON.stringify(m.listenUrl)}`);
  const clients = [
    {
      ClientId: m.client.id,
      ClientName: m.client.name,
      Secrets: [m.client.secret],
      AllowedGrantTypes: ["client_credentials"],
      AllowedScopes: [...CREATIO_CLIENT_SCOPES],
      IdentityTokenLifetime: 300,
      AccessTokenLifetime: 3600,
    },
  ];
  return stableJson({
    // The service reads Clients as a string holding JSON, not as a JSON array.
    Clients: JSON.stringify(clients),
    // Both keys: documentation and deployments disagree on which one the service reads.
    DatabaseConnectionString: m.connectionString,
    DbProvider: "Postgres",
    // Kestrel's endpoint wins over ASPNETCORE_URLS and the .NET 8 default (8080); it replaces any shipped endpoint
    // (an HTTPS one would need a certificate the container does not have).
    Kestrel: { Endpoints: { Http: { Url: m.listenUrl } } },
    Logging: { LogLevel: { Default: m.logLevel } },
    PostgresConnection: m.connectionString,
    X509CertificatePath: m.certificatePath,
  });
}
