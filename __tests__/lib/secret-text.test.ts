import { escapeTerraformTemplate, secretPlaceholder, toReviewText, toTerraformText } from "../../constructs/lib/secret-text";

/** Terraform's template unescaping of literal text (HCL spec: "$${" → "${", "%%{" → "%{"). */
function terraformUnescape(text: string): string {
  return text.replace(/\$\$\{/g, "${").replace(/%%\{/g, "%{");
}

describe("secret text", () => {
  const rendered = [
    'if [ -z "${POSTGRES_USER:-}" ]; then exit 1; fi',
    'log-format "%{+Q}r %[capture.req.hdr(0)]"',
    `password=${secretPlaceholder("database-password")};`,
    "already escaped looking: $${x} %%{y}",
  ].join("\n");

  test("literal ${ and %{ reach Terraform escaped, so Terraform hands the container the original bytes", () => {
    const tf = toTerraformText(rendered, () => "SECRET");
    expect(terraformUnescape(tf)).toBe(rendered.replace(secretPlaceholder("database-password"), "SECRET"));
    // and no unescaped interpolation is left for Terraform to evaluate
    expect(tf.replace(/\$\$\{|%%\{/g, "")).not.toMatch(/\$\{|%\{/);
  });

  test("placeholders become the Terraform reference, unescaped", () => {
    const tf = toTerraformText(secretPlaceholder("stats-password-hash"), (n) => "${random_password.x." + n + "}");
    expect(tf).toBe("${random_password.x.stats-password-hash}");
  });

  test("review copies name the secret and never hold a value", () => {
    expect(toReviewText(`a ${secretPlaceholder("database-password")} b`)).toBe("a [secret:database-password] b");
    expect(toReviewText(rendered)).not.toContain("@@secret:");
  });

  test("escaping uses literal replacement (a '$$' replacement pattern would collapse to '$')", () => {
    expect(escapeTerraformTemplate("${a}%{b}")).toBe("$${a}%%{b}");
  });
});
