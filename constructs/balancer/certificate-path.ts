/**
 * The TLS certificate is named by its path on the Docker host. HAProxy reads the in-container path as one word
 * of its config, and the file's directory is what gets mounted, so the path must be plain and not sit in `/`.
 */
// Every segment starts with a letter, digit or '_', so '.', '..' and hidden names cannot appear.
const PEM_PATH = /^(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)+\/[A-Za-z0-9_][A-Za-z0-9._-]*\.pem$/;

/** Why `hostPath` cannot name the balancer's certificate, or undefined when it can. */
export function certificatePathProblem(hostPath: string): string | undefined {
  if (!PEM_PATH.test(hostPath)) {
    return "expected an absolute path on the Docker host to a .pem file (chain and key) in a directory other than /, letters, digits, '.', '_', '-' only";
  }
  return undefined;
}
