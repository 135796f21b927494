/**
 * Rendered files may need secrets that only exist at apply time (Terraform-generated passwords). Renderers are
 * pure and never see a secret: the model carries a placeholder, and this module turns the rendered text into
 *  - the review copy under cdktf.out/, where the placeholder reads `[secret:<name>]`, and
 *  - the Terraform string, where every literal `${` / `%{` of the file is escaped (HAProxy and nginx use both)
 *    and each placeholder becomes a reference to the Terraform attribute that holds the secret.
 * So a file reaches its container byte-for-byte, and no secret value is ever written by synth.
 */

/** Names of the secrets the farm generates. */
export type SecretName =
  | "database-password"
  | "database-superuser-password"
  | "stats-password"
  | "stats-password-hash"
  | "redis-admin-password"
  | "redis-admin-password-hash"
  | "redis-password"
  | "redis-password-hash"
  /** A portal: its nodes' own database role, and the UserManagementSauPassword of every node. */
  | "database-portal-password"
  | "user-management-sau-password"
  /** The Identity Service: its database role, and the client Creatio signs in with. */
  | "database-identity-password"
  | "identity-client-id"
  | "identity-client-secret"
  /** Supplied, not generated: Terraform variables, known at plan time (the settings job's administrator). */
  | "creatio-admin-user"
  | "creatio-admin-password"
  /** Redis' TLS mode: not all secret (certificates are public), but generated at apply time like the passwords. */
  | "redis-ca-certificate"
  | "redis-tls-certificate"
  | "redis-tls-key";

const MARK = /@@secret:([a-z-]+)@@/g;

/** The placeholder a renderer model carries instead of the secret. Contains no character any renderer escapes. */
export function secretPlaceholder(name: SecretName): string {
  return `@@secret:${name}@@`;
}

/** Whether rendered text carries a secret placeholder. */
export function hasSecretPlaceholder(rendered: string): boolean {
  return new RegExp(MARK.source).test(rendered);
}

/** The text as reviewers see it. */
export function toReviewText(rendered: string): string {
  return rendered.replace(MARK, (_, name: string) => `[secret:${name}]`);
}

/** Terraform template escaping of literal text: `${` → `$${`, `%{` → `%%{`. */
export function escapeTerraformTemplate(text: string): string {
  // Function replacers: in a replacement string "$$" would itself collapse to "$".
  return text.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** The text as Terraform must receive it; `reference(name)` returns the token of the secret's attribute. */
export function toTerraformText(rendered: string, reference: (name: SecretName) => string): string {
  return escapeTerraformTemplate(rendered).replace(MARK, (_, name: string) => reference(name as SecretName));
}
