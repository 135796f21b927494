import type { FarmConfig } from "../schema/schema";
import { CreatioNodeSetProps } from "../constructs/creatio-nodes/creatio-node-set";
import { FarmSecrets } from "../constructs/secrets/farm-secrets";

/**
 * What every node set of an environment shares (the internal one, the portal's): the image and the application's
 * settings, and, with a portal, the generated UserManagementSauPassword.
 */
export function nodeSetProps(environment: string, config: FarmConfig, secrets: FarmSecrets): Omit<CreatioNodeSetProps, "nodes"> {
  const { creatio, balancer } = config;
  return {
    environment,
    secrets,
    image: creatio.image,
    tenantId: creatio.tenantId,
    httpPort: creatio.httpPort,
    appDir: creatio.appDir,
    healthCheckPath: balancer.healthCheck?.path,
    resources: creatio.resources && { memoryMb: creatio.resources.memoryMb, cpus: creatio.resources.cpus },
    // Creatio's SysPortalConnection user has one password, whichever node uses it.
    userManagementSauPassword: config.portal ? "user-management-sau-password" : undefined,
  };
}
