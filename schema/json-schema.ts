import { z } from "zod";
import { stableJson } from "../constructs/lib/template";
import { farmConfigSchema } from "./schema";

/**
 * What `npm run synth` checks beyond this schema, because JSON Schema cannot relate one key's value to another's.
 * Editors show it on the file; the schema-parity test holds it to the rules synth has.
 */
const BETWEEN_KEYS =
  "One Creatio web farm environment. Checked by npm run synth, not by this schema (rules between keys): node names unique; " +
  "host ports distinct (httpPort, tls.port, stats.port, portal.httpPort, portal.httpsPort); subnets apart (appSubnet, dataSubnet, " +
  "and with a portal dmzSubnet, portalSubnet, portalDataSubnet, with a published token endpoint identityEdgeSubnet); publicHost with tls.redirectHttp; nodes fit the subnets; " +
  "maxConnections covers the nodes' pools (the portal's and the Identity Service's too); identityService.publishTokenEndpoint needs a portal; " +
  "identityService.databaseUser other than database.user and portal.databaseUser; with identityService, systemSettings without the OAuth20IdentityServer codes; metricsPath other than stats.uri; with a portal, balancer.bindAddress " +
  "and balancer.stats.bindAddress neither 0.0.0.0 nor portal.bindAddress and portal.databaseUser other than database.user; extraAllowedPaths not built in and " +
  "without . or .. segments; and, between environments on one Docker host, subnets and host ports of their own.";

/** The environment schema as JSON Schema (what a user may write: defaults shown, nothing required that has one). */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(farmConfigSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return stableJson({
    ...schema,
    // What load.ts drops before validation: the file's own keys, e.g. anchors for YAML merge keys.
    patternProperties: { "^x-": { description: "Yours: ignored by creatio-farm (e.g. an anchor for `<<: *base` merge keys)." } },
    $id: "https://creatio-farm.invalid/config/creatio-farm.schema.json",
    title: "creatio-farm environment (config/<env>.yaml)",
    description: BETWEEN_KEYS,
  });
}
