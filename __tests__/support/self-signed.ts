import * as fs from "fs";
import * as path from "path";
import { requireProgram, run } from "./programs";

/**
 * A throwaway self-signed certificate for `name` (default localhost, with 127.0.0.1; EC P-256, one day), made with
 * the openssl CLI: `pem` is chain and key in one file, as HAProxy's `crt` and nginx read it; `cert` alone is what a
 * client trusts.
 */
export function selfSignedCertificate(dir: string, name = "localhost"): { pem: string; cert: string; key: string } {
  const openssl = requireProgram("openssl", "openssl");
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const made = run(openssl, [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", `/CN=${name}`, "-addext", `subjectAltName=DNS:${name}${name === "localhost" ? ",IP:127.0.0.1" : ""}`,
    "-keyout", key, "-out", cert,
  ]);
  if (made.status !== 0) throw new Error(`openssl could not make a certificate:\n${made.output}`);
  const pem = path.join(dir, `${name}.pem`);
  fs.writeFileSync(pem, fs.readFileSync(cert, "utf8") + fs.readFileSync(key, "utf8"), { mode: 0o600 });
  return { pem, cert, key };
}
