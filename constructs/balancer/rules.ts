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

/** The Prometheus path may not be the stats page's: the exporter answers first and would hide the page. */
export function metricsPathProblem(stats: { readonly uri?: string; readonly metricsPath?: string } = {}, prefix = ""): string | undefined {
  const uri = stats.uri ?? DEFAULTS.balancer.stats.uri;
  const metricsPath = stats.metricsPath ?? DEFAULTS.balancer.stats.metricsPath;
  return uri === metricsPath ? `expected a path other than ${prefix}stats.uri: the metrics endpoint would hide the stats page` : undefined;
}
