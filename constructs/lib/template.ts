/**
 * Handlebars for config files that are not HTML: `noEscape` (HTML escaping would corrupt haproxy.cfg, XML and
 * SQL; each renderer escapes for its own format with the helpers below) and `strict` (a missing model field is an
 * error, not an empty string). Templates live next to the renderer that uses them.
 */
import * as fs from "fs";
import * as path from "path";
import Handlebars from "handlebars";

const hb = Handlebars.create();

/** XML attribute/text escaping: the five predefined entities. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

hb.registerHelper("xml", (value: unknown) => escapeXml(String(value)));

const cache = new Map<string, HandlebarsTemplateDelegate>();

/** Compiles `file` (resolved against `dir`, usually `__dirname`) once per process. */
export function template(dir: string, file: string): (model: object) => string {
  const full = path.join(dir, file);
  let compiled = cache.get(full);
  if (!compiled) {
    compiled = hb.compile(fs.readFileSync(full, "utf8"), { strict: true, noEscape: true });
    cache.set(full, compiled);
  }
  return compiled;
}

const assets = new Map<string, string>();

/** Reads a static asset shipped next to a construct (scripts copied into containers as they are), once per process. */
export function asset(dir: string, file: string): string {
  const full = path.join(dir, file);
  let text = assets.get(full);
  if (text === undefined) {
    text = fs.readFileSync(full, "utf8");
    assets.set(full, text);
  }
  return text;
}

/** JSON with sorted keys and a trailing newline: byte-stable for the same data. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + "\n";
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
