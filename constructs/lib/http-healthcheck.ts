/**
 * A container health check that asks an HTTP endpoint inside the container for 200, with nothing but bash: the
 * official HAProxy image and .NET's aspnet images (both Debian) have no curl or wget. Alpine-based images have no
 * bash; there Docker reports the container unhealthy, which changes nothing else (restarts ignore health).
 */
const PATH = /^\/[A-Za-z0-9._~\/-]*$/;

export function httpHealthcheck(port: number, path: string): string[] {
  if (!PATH.test(path)) throw new Error(`health check path must be a plain absolute URL path, got ${JSON.stringify(path)}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`health check port must be 1..65535, got ${port}`);
  const script =
    `exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET ${path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && ` +
    `read -r -t 4 status <&3 && case "$status" in *" 200 "*) exit 0 ;; esac; exit 1`;
  return ["bash", "-c", script];
}
