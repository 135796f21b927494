/**
 * What Terraform's tls provider does, with the openssl CLI, PEM in and PEM out: EC P-256 keys, a self-signed
 * certificate (a CA), a certificate request, a certificate signed by a CA. The Docker tier's applier plays the
 * provider's resources with it; the live tier makes a farm-like CA with it.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { requireProgram } from "./programs";

/** The provider's `allowed_uses` names → X.509 extensions. */
const KEY_USAGE: Record<string, string> = {
  digital_signature: "digitalSignature",
  key_encipherment: "keyEncipherment",
  cert_signing: "keyCertSign",
  crl_signing: "cRLSign",
};
const EXTENDED_KEY_USAGE: Record<string, string> = { server_auth: "serverAuth", client_auth: "clientAuth" };

export interface CertificateOptions {
  readonly commonName: string;
  readonly validityHours: number;
  /** The tls provider's `allowed_uses` names. */
  readonly allowedUses: readonly string[];
  readonly isCa?: boolean;
  readonly dnsNames?: readonly string[];
}

function openssl(args: string[], files: Record<string, string> = {}): Record<string, string> {
  const bin = requireProgram("openssl", "openssl");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-openssl-"));
  try {
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content, { mode: 0o600 });
    const r = spawnSync(bin, args, { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed:\n${r.stdout}${r.stderr}`);
    return Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function extensions(o: CertificateOptions): string {
  const keyUsage = o.allowedUses.map((u) => KEY_USAGE[u]).filter(Boolean);
  const extended = o.allowedUses.map((u) => EXTENDED_KEY_USAGE[u]).filter(Boolean);
  return [
    `basicConstraints=critical,CA:${o.isCa ? "TRUE" : "FALSE"}`,
    ...(keyUsage.length ? [`keyUsage=critical,${keyUsage.join(",")}`] : []),
    ...(extended.length ? [`extendedKeyUsage=${extended.join(",")}`] : []),
    ...(o.dnsNames?.length ? [`subjectAltName=${o.dnsNames.map((n) => `DNS:${n}`).join(",")}`] : []),
    "subjectKeyIdentifier=hash",
  ].join("\n");
}

/** A new EC P-256 private key (SEC 1 PEM, as the provider's `private_key_pem` for ECDSA). */
export function ecPrivateKey(): string {
  return openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "key.pem"])["key.pem"];
}

/** A self-signed certificate for `keyPem`. */
export function selfSignedCertificatePem(keyPem: string, o: CertificateOptions): string {
  const days = String(Math.max(1, Math.ceil(o.validityHours / 24)));
  return openssl(
    ["req", "-x509", "-new", "-key", "key.pem", "-subj", `/CN=${o.commonName}`, "-days", days, "-extensions", "ext", "-config", "req.cnf", "-out", "cert.pem"],
    { "key.pem": keyPem, "req.cnf": `[req]\ndistinguished_name=dn\n[dn]\n[ext]\n${extensions(o)}\n` },
  )["cert.pem"];
}

/** A certificate request for `keyPem`, with the names the certificate will carry. */
export function certificateRequestPem(keyPem: string, commonName: string, dnsNames: readonly string[] = []): string {
  const names = dnsNames.length ? ["-addext", `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(",")}`] : [];
  return openssl(["req", "-new", "-key", "key.pem", "-subj", `/CN=${commonName}`, ...names, "-out", "req.pem"], { "key.pem": keyPem })["req.pem"];
}

/** The request, signed by the CA: its names are copied from the request (as the provider does), its uses from `o`. */
export function signedCertificatePem(
  requestPem: string,
  caCertPem: string,
  caKeyPem: string,
  o: Omit<CertificateOptions, "commonName" | "dnsNames">,
): string {
  const days = String(Math.max(1, Math.ceil(o.validityHours / 24)));
  return openssl(
    ["x509", "-req", "-in", "req.pem", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", `0x${Date.now().toString(16)}`, "-days", days, "-copy_extensions", "copy", "-extfile", "ext.cnf", "-out", "cert.pem"],
    { "req.pem": requestPem, "ca.pem": caCertPem, "ca.key": caKeyPem, "ext.cnf": extensions({ ...o, commonName: "" }) },
  )["cert.pem"];
}
