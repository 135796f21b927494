/**
 * A container entrypoint that hands a root-owned secret upload to the service's user, then runs the image's own
 * entrypoint with the container's command. Docker's provider uploads every file as root: an image whose
 * entrypoint drops to its own user (redis) could not read a 0600 file otherwise.
 */
export interface HandOver {
  /** The uploaded file (root's, 0600). */
  readonly from: string;
  /** The copy the service reads (its user's, 0400); replaced at every start. */
  readonly to: string;
  /** `user:group` the copy belongs to. */
  readonly owner: string;
  /** How the image's entrypoint is run, e.g. `/bin/sh /usr/local/bin/docker-entrypoint.sh`. */
  readonly then: string;
  /** Names the shell's $0 in `ps` and error messages. */
  readonly name: string;
}

export function handOverEntrypoint(h: HandOver): string[] {
  return [
    "/bin/sh",
    "-c",
    // Created 0600 (umask), chmod before chown: once the copy is the user's, root may not change its mode (no
    // FOWNER). A restart finds the last copy there: it is replaced.
    `umask 077 && rm -f ${h.to} && cp ${h.from} ${h.to} && chmod 0400 ${h.to} && chown ${h.owner} ${h.to} && exec ${h.then} "$@"`,
    h.name,
  ];
}
