/**
 * Host ports an environment publishes, with the address each is published on: two on the same socket cannot both
 * be up (Docker refuses the second container at apply time, halfway through). One environment's own ports are
 * checked by the schema; environments on one Docker host against each other by `clashes.ts`.
 */
import { DEFAULTS } from "../constructs/defaults";

type KeyAt = readonly (string | number)[];

export interface PortClaim {
  readonly at: KeyAt;
  readonly address: string;
  readonly port: number;
  /** `address:port`, as a message shows it. */
  readonly value: string;
}

const at = (v: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string | number, unknown>)[k] : undefined), v);

/**
 * Every host port the environment publishes (read defensively: a key of the wrong type is left out; its own rule
 * reports it).
 */
export function publishedPorts(cfg: unknown): PortClaim[] {
  const claims: Array<{ at: KeyAt; address: unknown; port: unknown }> = [];
  const address = at(cfg, "balancer", "bindAddress") ?? DEFAULTS.balancer.bindAddress;
  claims.push({ at: ["balancer", "httpPort"], address, port: at(cfg, "balancer", "httpPort") ?? DEFAULTS.balancer.httpPort });
  if (at(cfg, "balancer", "tls") !== undefined) {
    claims.push({ at: ["balancer", "tls", "port"], address, port: at(cfg, "balancer", "tls", "port") ?? DEFAULTS.balancer.tls.port });
  }
  claims.push({
    at: ["balancer", "stats", "port"],
    address: at(cfg, "balancer", "stats", "bindAddress") ?? DEFAULTS.balancer.stats.bindAddress,
    port: at(cfg, "balancer", "stats", "port") ?? DEFAULTS.balancer.stats.port,
  });
  if (at(cfg, "portal") !== undefined) {
    const portalAddress = at(cfg, "portal", "bindAddress") ?? DEFAULTS.dmzProxy.bindAddress;
    claims.push({ at: ["portal", "httpPort"], address: portalAddress, port: at(cfg, "portal", "httpPort") ?? DEFAULTS.dmzProxy.httpPort });
    claims.push({ at: ["portal", "httpsPort"], address: portalAddress, port: at(cfg, "portal", "httpsPort") ?? DEFAULTS.dmzProxy.httpsPort });
  }
  return claims
    .filter((c): c is { at: KeyAt; address: string; port: number } => typeof c.address === "string" && Number.isInteger(c.port))
    .map((c) => ({ ...c, value: `${c.address}:${c.port}` }));
}

/** 0.0.0.0 takes the port on every address of the host. */
export const sameSocket = (a: { address: string; port: number }, b: { address: string; port: number }): boolean =>
  a.port === b.port && (a.address === b.address || a.address === "0.0.0.0" || b.address === "0.0.0.0");

/**
 * Clashes between the portal's ports and the balancer's, within one environment (the balancer's own ports among
 * themselves are `portClashes`' in the balancer's rules); reported at the portal's key.
 */
export function publishedPortClashes(cfg: unknown): Array<{ at: KeyAt; message: string }> {
  const ports = publishedPorts(cfg);
  const portal = ports.filter((p) => p.at[0] === "portal");
  const others = ports.filter((p) => p.at[0] !== "portal");
  const problems: Array<{ at: KeyAt; message: string }> = [];
  for (const p of portal) {
    for (const o of others) {
      if (sameSocket(p, o)) problems.push({ at: p.at, message: `host port ${p.value} is also published by ${o.at.join(".")} (${o.value}); give one of them another port or address` });
    }
  }
  return problems;
}
