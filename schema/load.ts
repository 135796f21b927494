/**
 * Loads `config/<env>.yaml` files: YAML → schema → typed environment, or one error line per problem:
 *
 *   config/dev.yaml:7 creatio.nodes[1].weight: expected an integer 1..256, got "heavy"
 *
 * Nothing here writes files or throws for bad input; callers decide what to do with the lines.
 */
import * as fs from "fs";
import * as path from "path";
import { isMap, isScalar, isSeq, LineCounter, Node, parseDocument, Document } from "yaml";
import type { $ZodIssue } from "zod/v4/core";
import { byCodeUnit } from "../constructs/lib/order";
import { farmConfigSchema, FarmConfig } from "./schema";

export interface Environment {
  /** Stack name, from the file name: `config/dev.yaml` → `dev`. */
  readonly name: string;
  /** Path as given (relative paths stay relative, so messages match what the user typed). */
  readonly file: string;
  readonly config: FarmConfig;
  /** Line of the value at a key path (of its closest written ancestor when the key is not written). */
  readonly lineOf: (at: ReadonlyArray<string | number>) => number;
}

export type LoadResult = { ok: true; environments: Environment[] } | { ok: false; errors: string[] };

/** What an environment (and its stack) may be called: the file name without its extension. */
export const ENV_NAME = /^[a-z][a-z0-9-]{0,19}$/;
/** The published JSON Schema sits beside the environments, for editors. */
export const SCHEMA_FILE = "creatio-farm.schema.json";
const ENV_EXTENSION = /\.ya?ml$/;

export interface ConfigDirScan {
  /** Environment files (`<env>.yaml` or `<env>.yml`), sorted by name. */
  readonly files: string[];
  /** Entries that are neither an environment nor the schema: ignored, and said so. */
  readonly warnings: string[];
  /** An environment written twice (`dev.yaml` and `dev.yml`), or a folder named like an environment. */
  readonly errors: string[];
}

/**
 * What `dir` holds: every `*.yaml` and `*.yml` file is an environment; sorted, so output order never depends on
 * the file system. Anything else but the schema is reported, never silently skipped.
 */
export function scanConfigDir(dir: string): ConfigDirScan {
  const files: string[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const seen = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => byCodeUnit(a.name, b.name))) {
    const file = path.join(dir, entry.name);
    if (ENV_EXTENSION.test(entry.name)) {
      if (!entry.isFile()) {
        errors.push(`${file}: is a ${entry.isDirectory() ? "folder" : "special file"}, not an environment file; move it out of ${dir}/`);
        continue;
      }
      const name = entry.name.replace(ENV_EXTENSION, "");
      const other = seen.get(name);
      if (other) {
        errors.push(`${file}: environment "${name}" is also written as ${other}; keep one of the two files`);
        continue;
      }
      seen.set(name, file);
      files.push(file);
    } else if (entry.name !== SCHEMA_FILE) {
      warnings.push(`${file}: not an environment (<env>.yaml) or the schema; ignored`);
    }
  }
  return { files, warnings, errors };
}

/** Every environment file in `dir` (see `scanConfigDir`). */
export function environmentFiles(dir: string): string[] {
  return scanConfigDir(dir).files;
}

export function loadEnvironments(files: readonly string[]): LoadResult {
  const environments: Environment[] = [];
  const errors: string[] = [];
  if (files.length === 0) errors.push("config: no environment files (config/<env>.yaml) found");
  for (const file of files) {
    const result = loadEnvironment(file, fs.readFileSync(file, "utf8"));
    if (result.ok) environments.push(result.environment);
    else errors.push(...result.errors);
  }
  return errors.length ? { ok: false, errors } : { ok: true, environments };
}

export function loadEnvironment(
  file: string,
  text: string,
): { ok: true; environment: Environment } | { ok: false; errors: string[] } {
  const name = path.basename(file).replace(ENV_EXTENSION, "");
  if (!ENV_NAME.test(name)) {
    return {
      ok: false,
      errors: [`${file}:1 (file name): expected a lowercase environment name of letters, digits and '-' (max 20), got "${name}"`],
    };
  }
  const lines = new LineCounter();
  // merge: YAML merge keys (`<<: *base`), so environments can share a block.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: true });
  if (doc.errors.length) {
    return {
      ok: false,
      errors: doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line} (yaml): ${e.message.split(" at line ")[0]}`),
    };
  }
  let raw: unknown;
  try {
    raw = doc.contents === null ? undefined : doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // e.g. an alias bomb ("Excessive alias count"): refuse the file, do not crash
    return { ok: false, errors: [`${file}:1 (yaml): ${(e as Error).message.split("\n")[0]}`] };
  }
  const parsed = farmConfigSchema.safeParse(withoutExtensions(raw));
  if (parsed.success) {
    return { ok: true, environment: { name, file, config: parsed.data, lineOf: (at) => valueLine(doc, lines, at) } };
  }
  const errors = parsed.error.issues.flatMap((issue) => formatIssue(file, doc, lines, raw, issue));
  // File order reads best; the sort is stable, so problems on one line keep the schema's order.
  const lineOf = (e: string) => Number(/^[^:]*:(\d+) /.exec(e.slice(file.length))?.[1] ?? 0);
  return { ok: false, errors: [...new Set(errors)].sort((a, b) => lineOf(a) - lineOf(b)) };
}

/**
 * Top-level `x-…` keys are the file's own (anchors for merge keys, notes): not part of the environment. As in
 * Compose files, they let `<<: *base` share a block.
 */
function withoutExtensions(raw: unknown): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).filter(([k]) => !k.startsWith("x-")));
}

function formatIssue(file: string, doc: Document, lines: LineCounter, raw: unknown, issue: $ZodIssue): string[] {
  const at = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `${file}:${keyLine(doc, lines, at, key)} ${keyPath([...at, key])}: ${issue.message}`);
  }
  const line = valueLine(doc, lines, at);
  // "expected …" messages name the value they saw; cross-key findings ("duplicate node name …") carry their own.
  const got = issue.message.startsWith("expected ") && !issue.message.includes(", got ") ? `, got ${describe(valueAt(raw, at))}` : "";
  return [`${file}:${line} ${keyPath(at)}: ${issue.message}${got}`];
}

/** `creatio.nodes[1].weight`; `(root)` for the document itself. */
export function keyPath(at: ReadonlyArray<string | number>): string {
  if (at.length === 0) return "(root)";
  return at.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/**
 * Line of the value at `at`. When the key is missing, the line where its closest existing ancestor's key is
 * written (`balancer:` for a missing `balancer.image`), which is where the reader has to add it.
 */
function valueLine(doc: Document, lines: LineCounter, at: ReadonlyArray<string | number>): number {
  for (let n = at.length; n > 0; n--) {
    const node = doc.getIn(at.slice(0, n), true) as Node | undefined;
    if (!node) continue;
    if (n === at.length && isScalar(node) && node.range) return lines.linePos(node.range[0]).line;
    return keyLine(doc, lines, at.slice(0, n - 1), at[n - 1]);
  }
  return 1;
}

/** Line where `key` is written inside the mapping (or the list item) at `at`. */
function keyLine(doc: Document, lines: LineCounter, at: ReadonlyArray<string | number>, key: string | number): number {
  const parent = at.length === 0 ? doc.contents : doc.getIn(at, true);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
    if (pair && isScalar(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]).line;
  }
  if (isSeq(parent) && typeof key === "number") {
    const item = parent.items[key];
    if (item && (isScalar(item) || isMap(item) || isSeq(item)) && item.range) return lines.linePos(item.range[0]).line;
  }
  return at.length === 0 ? 1 : valueLine(doc, lines, at);
}

function valueAt(raw: unknown, at: ReadonlyArray<string | number>): unknown {
  let v: unknown = raw;
  for (const p of at) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[p];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  // A very long value is shown by its start and length: one line per problem stays one line.
  if (typeof v === "string") return v.length > 80 ? `${JSON.stringify(`${v.slice(0, 80)}…`)} (${v.length} characters)` : JSON.stringify(v);
  return String(v);
}
