/**
 * Rules between balancer settings, each in one function with its defaults applied here: the config schema reports
 * a finding at the file's line (keys prefixed `balancer.`), `HaproxyBalancer` at its construct path.
 */
import { DEFAULTS } from "../defaults";

export interface PublishedPortSettings {
  readonly httpPort?: number;
  readonly tls?: { readonly port?: number };
  readonly stats?: { readonly port?: number };
}

/** The host ports the balancer publishes, each under the key that sets it. */
export function publishedPorts(s: PublishedPortSettings, prefix = ""): Array<{ key: string; port: number }> {
  return [
    { key: `${prefix}httpPort`, port: s.httpPort ?? DEFAULTS.balancer.httpPort },
    { key: `${prefix}stats.port`, port: s.stats?.port ?? DEFAULTS.balancer.stats.port },
    ...(s.tls ? [{ key: `${prefix}tls.port`, port: s.tls.port ?? DEFAULTS.balancer.tls.port }] : []),
  ];
}

/** A port published twice, at the later key. */
export function portClashes(s: PublishedPortSettings, prefix = ""): Array<{ key: string; message: string }> {
  const ports = publishedPorts(s, prefix);
  return ports.flatMap(({ key, port }, i) => {
    const earlier = ports.slice(0, i).find((p) => p.port === port);
    return earlier ? [{ key, message: `host port ${port} is already published by ${earlier.key}` }] : [];
  });
}

/**
 * The Prometheus path may not be the stats page's: the exporter answers first and would hide the page. The key
 * blamed is the one that was written: a `uri` set to the default metrics path is the uri's problem.
 */
export function metricsPathProblem(
  stats: { readonly uri?: string; readonly metricsPath?: string } = {},
  prefix = "",
): { readonly key: string; readonly message: string } | undefined {
  const uri = stats.uri ?? DEFAULTS.balancer.stats.uri;
  const metricsPath = stats.metricsPath ?? DEFAULTS.balancer.stats.metricsPath;
  if (uri !== metricsPath) return undefined;
  const [blamed, other] = stats.metricsPath === undefined ? ["uri", "metricsPath"] : ["metricsPath", "uri"];
  return {
    key: `stats.${blamed}`,
    message: `expected a path other than ${prefix}stats.${other} (${uri}): the metrics endpoint would hide the stats page`,
  };
}

/**
 * The rendered haproxy.cfg needs HAProxy 2.8+ (`timeout client-hs`, the TLS handshake deadline). A tag that names
 * an older version is refused; a digest or an unversioned tag is taken on trust (README: check your image).
 */
/** The tags `haproxyVersionProblem` refuses, as a JSON Schema pattern (for editors: `not`). */
export const HAPROXY_TOO_OLD_PATTERN = "(?:^|/)haproxy:(?:0*[01]\\.\\d+|0*2\\.0*[0-7])(?:[^0-9/][^/]*)?(?:@.*)?$";

export function haproxyVersionProblem(ref: string): string | undefined {
  const m = /(?:^|\/)haproxy:(\d+)\.(\d+)(?:[^0-9/][^/]*)?(?:@.*)?$/.exec(ref);
  if (!m) return undefined;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < 2 || (major === 2 && minor < 8)) {
    return `expected HAProxy 2.8 or newer (the TLS handshake deadline, timeout client-hs, needs it); this tag is ${major}.${minor}`;
  }
  return undefined;
}

export interface RedirectSettings {
  readonly publicHost?: string;
  readonly tls?: { readonly redirectHttp?: boolean };
}

/** A redirect to HTTPS names the configured host: one built from the client's Host header is an open redirect. */
export function redirectHostProblem(s: RedirectSettings): string | undefined {
  const redirects = s.tls !== undefined && (s.tls.redirectHttp ?? DEFAULTS.balancer.tls.redirectHttp);
  return redirects && !s.publicHost
    ? "required when tls.redirectHttp is on (the default with tls): the redirect to HTTPS names this host, never the client's Host header"
    : undefined;
}

/** What the redirect may name: a DNS host name, nothing HAProxy would read as a sample expression or a word break. */
export const HOST_NAME = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
