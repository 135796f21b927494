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
import { farmConfigSchema, FarmConfig } from "./schema";

export interface Environment {
  /** Stack name, from the file name: `config/dev.yaml` → `dev`. */
  readonly name: string;
  /** Path as given (relative paths stay relative, so messages match what the user typed). */
  readonly file: string;
  readonly config: FarmConfig;
}

export type LoadResult = { ok: true; environments: Environment[] } | { ok: false; errors: string[] };

const ENV_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** Every `*.yaml` in `dir` is an environment; sorted, so output order never depends on the file system. */
export function environmentFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => path.join(dir, f));
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
  const name = path.basename(file, ".yaml");
  if (!ENV_NAME.test(name)) {
    return {
      ok: false,
      errors: [`${file}:1 (file name): expected a lowercase environment name of letters, digits and '-' (max 20), got "${name}"`],
    };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
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
  const parsed = farmConfigSchema.safeParse(raw);
  if (parsed.success) return { ok: true, environment: { name, file, config: parsed.data } };
  const errors = parsed.error.issues.flatMap((issue) => formatIssue(file, doc, lines, raw, issue));
  // File order reads best; the sort is stable, so problems on one line keep the schema's order.
  const lineOf = (e: string) => Number(/^[^:]*:(\d+) /.exec(e.slice(file.length))?.[1] ?? 0);
  return { ok: false, errors: [...new Set(errors)].sort((a, b) => lineOf(a) - lineOf(b)) };
}

function formatIssue(file: string, doc: Document, lines: LineCounter, raw: unknown, issue: $ZodIssue): string[] {
  const at = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `${file}:${keyLine(doc, lines, at, key)} ${keyPath([...at, key])}: ${issue.message}`);
  }
  const line = valueLine(doc, lines, at);
  // "expected …" messages name the value they saw; cross-key findings ("duplicate node name …") carry their own.
  const got = issue.message.startsWith("expected ") ? `, got ${describe(valueAt(raw, at))}` : "";
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
