import type { FarmConfig } from "../schema/schema";
import { DEFAULTS } from "../constructs/defaults";
import { CreatioNodeSet } from "../constructs/creatio-nodes/creatio-node-set";
import { CreatioSettings } from "../constructs/creatio-settings/creatio-settings";
import { IdentityService } from "../constructs/identity-service/identity-service";
import { OAUTH_SETTINGS } from "../constructs/identity-service/oauth-settings";
import { FarmValidationError } from "../constructs/lib/errors";
import { OFFSETS } from "../constructs/networks/address-plan";
import { FarmNetwork } from "../constructs/networks/farm-network";
import { FarmSecrets } from "../constructs/secrets/farm-secrets";
import type { CreatioFarmStack } from "./farm-stack";

/** What the stack hands to the settings job: the internal nodes, the network they share with it, the Identity Service. */
export interface SettingsScope {
  readonly stack: CreatioFarmStack;
  readonly environment: string;
  readonly config: FarmConfig;
  readonly secrets: FarmSecrets;
  readonly nodes: CreatioNodeSet;
  readonly data: FarmNetwork;
  /** With `identityService:`: the service and its URL as the nodes reach it. */
  readonly identity?: { readonly service: IdentityService; readonly internalUrl: string };
}

/**
 * Creatio's system settings (`systemSettings:`, and with the Identity Service its three OAuth settings) through
 * Creatio's API, by a job that signs in as the administrator the Terraform variables name. The stack has declared
 * them (`secrets.enableCreatioAdmin()`). Construct ids are Terraform addresses.
 */
export function addCreatioSettings(p: SettingsScope): CreatioSettings {
  const { stack, environment, config, secrets, nodes, data } = p;
  const settings = new CreatioSettings(stack, "creatio-settings", {
    environment,
    secrets,
    network: data,
    addressOffset: OFFSETS.settingsJob,
    target: {
      image: nodes.nodeImage.resource,
      endpoints: nodes.members.map((m) => `${m.container.addressOn(data) ?? fail(m.name)}:${nodes.httpPort}`),
      healthPath: config.balancer.healthCheck?.path ?? DEFAULTS.balancer.healthCheck.path,
      workloads: [...nodes.members.map((m) => m.container), ...(p.identity ? [p.identity.service.container] : [])],
    },
  });
  for (const [code, value] of Object.entries(config.systemSettings ?? {})) settings.set(code, value);
  if (p.identity) {
    settings.set(OAUTH_SETTINGS.url, p.identity.internalUrl);
    settings.setSecret(OAUTH_SETTINGS.clientId, "identity-client-id");
    settings.setSecret(OAUTH_SETTINGS.clientSecret, "identity-client-secret");
  }
  return settings;

  function fail(node: string): never {
    throw new FarmValidationError(`node ${node} is not on ${data.name}: the settings job could not reach it`, settings);
  }
}
