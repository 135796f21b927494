/**
 * Where an environment's containers run: the Docker provider's `host`. Credentials never come from here: an SSH
 * key from the SSH agent or ~/.ssh, TLS material from DOCKER_CERT_PATH (the provider's own variables).
 */

/** `unix:///path`, `ssh://user@host[:port]`, `tcp://host:port`. */
export const DOCKER_HOST = /^(unix:\/\/\/[^\s]+|ssh:\/\/[A-Za-z0-9._-]+@[A-Za-z0-9.-]+(:\d{1,5})?|tcp:\/\/[A-Za-z0-9.-]+:\d{1,5})$/;

/** `dockerHostProblem` for the published JSON Schema (editors). */
export const DOCKER_HOST_JSON_SCHEMA = { pattern: DOCKER_HOST.source, not: { pattern: "^tcp://[^:]+:0*2375$" } };

/** What is wrong with a Docker host, or undefined. */
export function dockerHostProblem(host: string): string | undefined {
  if (!DOCKER_HOST.test(host)) return `expected unix:///path, ssh://user@host[:port] or tcp://host:port, got "${host.slice(0, 80)}"`;
  // By number: Go reads 02375 as port 2375.
  if (Number(/^tcp:\/\/[^:]+:(\d+)$/.exec(host)?.[1]) === 2375) {
    return `port 2375 is Docker's unencrypted API (root on that host for anyone who reaches it): use ssh://user@host or TLS on tcp://host:2376, got "${host}"`;
  }
  return undefined;
}

const LOCAL_SOCKET = "unix:///var/run/docker.sock";

/**
 * Environments with the same key share one Docker Engine: their names, subnets and host ports must not meet. Host
 * names compare without case; an SSH user and the default port 22 do not make another engine; no host and the
 * local socket are the same one (unless DOCKER_HOST says otherwise at apply time, which synth cannot know).
 */
export function dockerHostKey(host: string | undefined): string {
  if (host === undefined || host === LOCAL_SOCKET) return "the default Docker host (DOCKER_HOST, or the local socket)";
  const ssh = /^ssh:\/\/[^@]+@([^:]+)(?::(\d+))?$/.exec(host);
  if (ssh) return `ssh://${ssh[1].toLowerCase()}:${Number(ssh[2] ?? 22)}`;
  const tcp = /^tcp:\/\/([^:]+):(\d+)$/.exec(host);
  if (tcp) return `tcp://${tcp[1].toLowerCase()}:${Number(tcp[2])}`;
  return host;
}
