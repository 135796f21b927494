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
