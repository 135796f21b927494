/**
 * `nginx -t` on a rendered nginx.conf: the certificate it names (a file on the Docker host) is replaced by a
 * throwaway one, and its logs and PID go to a temp folder; everything else is checked as rendered.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "./farm";
import { requireProgram } from "./programs";
import { selfSignedCertificate } from "./self-signed";

export function nginxCheck(conf: string): { status: number | null; output: string } {
  const bin = requireProgram("nginx", "nginx");
  const dir = tempDir("nginx-check");
  try {
    const pem = selfSignedCertificate(dir).pem;
    const text = conf
      .replace(/^(\s*ssl_certificate(?:_key)?) \S+;$/gm, `$1 ${pem};`)
      .replace(/^(\s*access_log) \S+ /m, `$1 ${path.join(dir, "access.log")} `)
      .replace(/^error_log \S+ /m, `error_log ${path.join(dir, "error.log")} `)
      .replace(/^pid \S+;$/m, `pid ${path.join(dir, "nginx.pid")};`);
    const file = path.join(dir, "nginx.conf");
    fs.writeFileSync(file, text);
    const r = spawnSync(bin, ["-t", "-p", dir, "-c", file], { encoding: "utf8" });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
