/**
 * Terraform's string templates, as far as cdk.tf.json uses them: `${type.name.attribute}`, `${local.name}` and
 * `${var.name}` references, `${sha256(type.name.attribute)}` (lowercase hex of the UTF-8 text, as Terraform's function), and the
 * escapes `$${` (a literal `${`) and `%%{` (a literal `%{`). Anything else (a function call, an expression, a
 * `%{` directive) is refused by name: the applier must never pass on text Terraform would have changed.
 */

import * as crypto from "crypto";

export interface Reference {
  readonly type: string;
  readonly name: string;
  readonly attribute: string;
}

const REFERENCE = /^([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.([a-z][a-z0-9_]*)$/;
/** `local.<name>` and `var.<name>`: a reference with type "local" or "var" and no attribute. */
const LOCAL = /^(local|var)\.([A-Za-z0-9_-]+)$/;

/** `sha256(<reference>)`. */
const SHA256 = /^sha256\(([^()]+)\)$/;

type Part = { text: string } | { ref: Reference; sha256?: true };

function parse(template: string, where: string): Part[] {
  const parts: Part[] = [];
  let text = "";
  for (let i = 0; i < template.length; ) {
    if (template.startsWith("$${", i)) {
      text += "${";
      i += 3;
    } else if (template.startsWith("%%{", i)) {
      text += "%{";
      i += 3;
    } else if (template.startsWith("${", i)) {
      const end = template.indexOf("}", i);
      const whole = end < 0 ? "" : template.slice(i + 2, end).trim();
      const hashed = SHA256.exec(whole);
      const expr = hashed ? hashed[1].trim() : whole;
      const m = REFERENCE.exec(expr);
      const local = m ? undefined : LOCAL.exec(expr);
      if (!m && !local) throw new Error(`${where}: the template expression "\${${whole}}" is not implemented by the Docker tier's applier`);
      if (text) parts.push({ text });
      text = "";
      const ref = m ? { type: m[1], name: m[2], attribute: m[3] } : { type: local![1], name: local![2], attribute: "" };
      parts.push(hashed ? { ref, sha256: true } : { ref });
      i = end + 1;
    } else if (template.startsWith("%{", i)) {
      throw new Error(`${where}: template directives (%{ … }) are not implemented by the Docker tier's applier`);
    } else {
      text += template[i++];
    }
  }
  if (text) parts.push({ text });
  return parts;
}

/** Every reference in a value (strings anywhere inside arrays and objects). */
export function references(value: unknown, where: string): Reference[] {
  if (typeof value === "string") return parse(value, where).flatMap((p) => ("ref" in p ? [p.ref] : []));
  if (Array.isArray(value)) return value.flatMap((v) => references(v, where));
  if (value && typeof value === "object") return Object.values(value).flatMap((v) => references(v, where));
  return [];
}

/** The value with every template string rendered: references looked up, escapes turned into their literal text. */
export function resolve<T>(value: T, lookup: (ref: Reference) => string, where: string): T {
  if (typeof value === "string") {
    return parse(value, where)
      .map((p) => ("ref" in p ? (p.sha256 ? crypto.createHash("sha256").update(lookup(p.ref), "utf8").digest("hex") : lookup(p.ref)) : p.text))
      .join("") as T;
  }
  if (Array.isArray(value)) return value.map((v) => resolve(v, lookup, where)) as T;
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, lookup, where)])) as T;
  }
  return value;
}
