/** Rules of the DMZ proxy, used by the environment schema and by the proxy itself. */
import { PORTAL_PREFIXES } from "./portal-prefixes";

const PREFIX = /^\/[A-Za-z0-9._~\/-]*\/$/;
/** JSON Schema form of the prefix shape, for editors. */
export const ALLOWED_PREFIX_PATTERN = "^/[A-Za-z0-9._~/-]*/$";

/** Why `prefix` cannot be an extra allowed path of the portal, or undefined. */
export function allowedPrefixProblem(prefix: string): string | undefined {
  if (prefix === "/") return "expected a narrower prefix than /: it would allow every path (the proxy denies by default)";
  if (!PREFIX.test(prefix)) return "expected a path prefix from / to / of letters, digits and ._~-, such as /ssp-custom/";
  if (prefix.split("/").some((s) => s === "." || s === "..")) return "expected a prefix without . or .. segments";
  // An extra prefix may not repeat a built-in one: nginx refuses a duplicate location.
  if (PORTAL_PREFIXES.includes(prefix)) return `expected a prefix that is not built in (${prefix} is allowed already)`;
  return undefined;
}

/**
 * Why a balancer port bound to `bindAddress` would be reachable where the portal is published, or undefined: with a
 * portal, the proxy is the only component on the public address. `what` names what the port serves.
 */
export function balancerBehindPortalProblem(bindAddress: string, portalBindAddress: string, what = "the internal site"): string | undefined {
  if (bindAddress === "0.0.0.0") {
    return `expected the host address of the internal network: with a portal, 0.0.0.0 publishes ${what} on the address the portal is published on too`;
  }
  if (bindAddress === portalBindAddress) {
    return `expected another host address than the portal's (${portalBindAddress}): the portal's proxy is the only component published there`;
  }
  return undefined;
}
