/**
 * The TLS certificate is named by its path on the Docker host. HAProxy reads the in-container path as one word
 * of its config, and the file's directory is what gets mounted, so the path must be plain and not sit in `/`.
 */
// Every segment starts with a letter, digit or '_', so '.', '..' and hidden names cannot appear.
const PEM_PATH = /^(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)+\/[A-Za-z0-9_][A-Za-z0-9._-]*\.pem$/;

/**
 * Directories of the Docker host that must never be mounted into the internet-facing container: the system's own
 * (a certificate right in /etc would expose all of /etc), and anything under the kernel's, the devices' or
 * Docker's own trees.
 */
const SYSTEM_DIRS = ["/bin", "/boot", "/etc", "/home", "/lib", "/lib64", "/media", "/mnt", "/opt", "/root", "/run", "/sbin", "/srv", "/tmp", "/usr", "/var", "/var/lib", "/var/run"];
const SYSTEM_TREES = ["/dev", "/proc", "/sys", "/var/lib/docker", "/run/docker", "/var/run/docker", "/run/containerd"];

/** `certificatePathProblem` for the published JSON Schema (editors): the path's form, and the directories refused. */
export const CERTIFICATE_PATH_JSON_SCHEMA = {
  pattern: PEM_PATH.source,
  maxLength: 1024,
  not: {
    anyOf: [
      { pattern: `^(?:${SYSTEM_DIRS.join("|")})/[^/]+$` },
      { pattern: `^(?:${SYSTEM_TREES.join("|")})/` },
    ],
  },
};

/** Why `hostPath` cannot name the balancer's certificate, or undefined when it can. */
export function certificatePathProblem(hostPath: string): string | undefined {
  if (!PEM_PATH.test(hostPath) || hostPath.length > 1024) {
    return "expected an absolute path on the Docker host to a .pem file (chain and key) in a directory other than /, letters, digits, '.', '_', '-' only";
  }
  const dir = hostPath.slice(0, hostPath.lastIndexOf("/"));
  if (SYSTEM_DIRS.includes(dir) || SYSTEM_TREES.some((t) => dir === t || dir.startsWith(`${t}/`))) {
    return `expected the certificate in a directory of its own (e.g. /etc/creatio-farm/tls): its directory, ${dir}, is what gets mounted into the balancer`;
  }
  return undefined;
}
