import { TerraformOutput } from "cdktf";
import type { FarmConfig } from "../schema/schema";
import { DEFAULTS } from "../constructs/defaults";
import { PostgresDatabase } from "../constructs/database/postgres-database";
import { DmzProxy } from "../constructs/dmz-proxy/dmz-proxy";
import { IdentityService } from "../constructs/identity-service/identity-service";
import { LogLevel } from "../constructs/identity-service/render-identity-appsettings";
import { FarmValidationError } from "../constructs/lib/errors";
import { farmSubnets } from "../constructs/networks/address-plan";
import { FarmNetwork } from "../constructs/networks/farm-network";
import { FarmSecrets } from "../constructs/secrets/farm-secrets";
import type { CreatioFarmStack } from "./farm-stack";

type IdentityConfig = NonNullable<FarmConfig["identityService"]>;

/** What the stack hands to the Identity Service: the farm's components, already built and wired. */
export interface IdentityScope {
  readonly stack: CreatioFarmStack;
  readonly environment: string;
  readonly config: FarmConfig;
  readonly secrets: FarmSecrets;
  readonly database: PostgresDatabase;
  /** The internal network the nodes and the database share: the nodes reach the service there. */
  readonly data: FarmNetwork;
  /** With a portal: its DMZ proxy, which can publish the token endpoint. */
  readonly proxy?: DmzProxy;
}

/**
 * The Identity Service (`identityService:` of an environment file): the service with its own database role and
 * schema, Creatio's OAuth20Integration feature switched on, and, when asked, its token endpoint on the portal's
 * host name. The stack has generated its secrets (`secrets.enableIdentityService()`). Construct ids are Terraform
 * addresses.
 */
export function addIdentityService(p: IdentityScope, ids: IdentityConfig): { identity: IdentityService; internalUrl: string } {
  const { stack, environment, config, secrets, database, data } = p;
  const identity = new IdentityService(stack, "identity-service", {
    environment,
    image: ids.image,
    secrets,
    certificateToolsImage: database.image,
    logLevel: ids.logLevel as LogLevel | undefined,
    certificateDays: ids.certificateDays,
    resources: ids.resources && { memoryMb: ids.resources.memoryMb, cpus: ids.resources.cpus },
  });
  database.allowFrom(identity, {
    network: data,
    role: { user: ids.databaseUser ?? DEFAULTS.identityService.databaseUser, password: "database-identity-password", ownSchema: true },
  });
  // Creatio's setup guide switches the feature on with SQL; its system settings go through Creatio's API.
  database.switchOnFeature("OAuth20Integration");
  const internalUrl = identity.urlOn(data);

  if (ids.publishTokenEndpoint ?? DEFAULTS.identityService.publishTokenEndpoint) {
    if (!p.proxy) throw new FarmValidationError("publishTokenEndpoint: the token endpoint is published through the portal's DMZ proxy, and this environment has no portal", identity);
    const edge = new FarmNetwork(stack, "network-identity-edge", {
      name: `${environment}-identity-edge`,
      subnet: farmSubnets(config.network).identityEdgeSubnet,
      internal: true,
    });
    p.proxy.forwardTokenEndpointTo(edge, { address: identity.joinNetwork(edge), port: identity.port, host: new URL(internalUrl).host });
    new TerraformOutput(stack, "identity_token_url", { value: `${p.proxy.url}connect/token` });
  }
  new TerraformOutput(stack, "identity_service_url", { value: internalUrl, description: "The Identity Service as Creatio's nodes reach it (OAuth20IdentityServerUrl)." });
  new TerraformOutput(stack, "identity_client_id", { value: secrets.reference("identity-client-id"), sensitive: true });
  new TerraformOutput(stack, "identity_client_secret", { value: secrets.reference("identity-client-secret"), sensitive: true });
  return { identity, internalUrl };
}
