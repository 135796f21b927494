/** Rules of the database: the config schema reports them at the file's line, `PostgresDatabase` at its construct path. */

/**
 * The official image's major version, when the reference names it (`postgres:16`, `…/postgres:17.2-bookworm`).
 * Creatio needs 16+; from 18 the image keeps data under /var/lib/postgresql/<major>/docker, not at the
 * /var/lib/postgresql/data this version mounts, so an 18 container would restart forever.
 */
/** The tags `postgresVersionProblem` refuses (major below 16 or above 17), as a JSON Schema pattern (`not`). */
export const POSTGRES_UNSUPPORTED_PATTERN = "(?:^|/)postgres:0*(?:\\d|1[0-5]|1[89]|[2-9]\\d|[1-9]\\d{2,})(?:[^0-9/][^/]*)?(?:@.*)?$";

export function postgresVersionProblem(ref: string): string | undefined {
  // the major version is the tag's leading number, whatever follows it (17.2-bookworm, 18beta1, 18rc1)
  const m = /(?:^|\/)postgres:(\d+)(?:[^0-9/][^/]*)?(?:@.*)?$/.exec(ref);
  if (!m) return undefined;
  const major = Number(m[1]);
  if (major < 16) return `expected PostgreSQL 16 or 17 (Creatio requires 16+); this tag is major version ${major}`;
  if (major > 17) return `expected PostgreSQL 16 or 17: from 18 the image keeps data under /var/lib/postgresql/${major}/docker, which this version does not mount`;
  return undefined;
}

// Every segment starts with a letter, digit or '_': no '.', '..' or hidden names; nothing a shell or psql would read.
const HOST_FILE = /^(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/;
const KERNEL_AND_DOCKER_TREES = ["/dev", "/proc", "/sys", "/var/lib/docker", "/run/docker", "/var/run/docker", "/run/containerd"];
/** Docker's and containerd's sockets: mounted into a container, they hand it the Docker host. */
const SOCKETS = ["/run/docker.sock", "/var/run/docker.sock", "/run/containerd/containerd.sock"];

/** `restoreFileProblem` for the published JSON Schema (editors). */
export const RESTORE_FILE_JSON_SCHEMA = {
  pattern: HOST_FILE.source,
  maxLength: 1024,
  not: { anyOf: [{ pattern: `^(?:${KERNEL_AND_DOCKER_TREES.join("|")})/` }, { enum: SOCKETS }] },
};

/**
 * Why `hostPath` cannot name a file of Creatio's distribution on the Docker host (the backup, the type casts script),
 * which the bootstrap job mounts read-only; undefined when it can.
 */
export function restoreFileProblem(hostPath: string): string | undefined {
  if (!HOST_FILE.test(hostPath) || hostPath.length > 1024) {
    return "expected an absolute path of a file on the Docker host, letters, digits, '.', '_', '-' only (no '.' or '..' segment)";
  }
  if (KERNEL_AND_DOCKER_TREES.some((t) => hostPath.startsWith(`${t}/`)) || SOCKETS.includes(hostPath)) {
    return "expected a file outside the kernel's, the devices' and Docker's own trees";
  }
  return undefined;
}
