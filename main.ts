/**
 * Entry point of `npm run synth` and of the cdktf CLI (cdktf.json "app"): every `config/<env>.yaml` becomes the
 * stack `<env>` under cdktf.out/, with each provisioned file beside it for review.
 *
 * All-or-nothing: configs are validated first, each environment is synthesized into a staging directory next to
 * the output, and only a complete, error-free synth replaces the generated entries of cdktf.out/. Anything else in
 * cdktf.out/ (a stack's .terraform/ cache, plan files) is left alone. Under the cdktf CLI (`keepGoing`), a broken
 * environment is left out and reported instead, so `cdktf diff dev` works while `staging` is being fixed.
 */
import * as fs from "fs";
import * as path from "path";
import { App } from "cdktf";
import { ENV_NAME, Environment, loadEnvironment, scanConfigDir } from "./schema/load";
import { environmentClashes } from "./schema/clashes";
import { CreatioFarmStack } from "./app/farm-stack";
import { reviewSummary } from "./app/review-summary";
import { FarmValidationError } from "./constructs/lib/errors";
import { byCodeUnit } from "./constructs/lib/order";

export interface SynthOptions {
  /** Folder of `<env>.yaml` files. */
  readonly configDir: string;
  /** Synth output folder. */
  readonly outdir: string;
  /** Only these environments; the others' output is left as it is. @default - every environment */
  readonly environments?: readonly string[];
  /**
   * Synthesize every environment that is valid and leave the broken ones out (their output removed, so nothing
   * stale can be deployed), reporting them as problems. The cdktf CLI's mode. @default false
   */
  readonly keepGoing?: boolean;
}

export type SynthResult =
  | {
      ok: true;
      stacks: string[];
      /** One line per stack: what changed against the previous output. */
      summary: string[];
      warnings: string[];
      /** keepGoing only: the environments left out, and why. */
      problems: string[];
    }
  | { ok: false; errors: string[]; warnings: string[] };

/** Entries of a stack folder that synth owns; everything else there belongs to the user or to Terraform. */
const GENERATED_IN_STACK = ["cdk.tf.json", "files", "images"];

export function synthFarm(options: SynthOptions): SynthResult {
  const scan = scanConfigDir(options.configDir);
  const warnings = scan.warnings;
  const fail = (errors: string[]): SynthResult => ({ ok: false, errors, warnings });
  if (scan.errors.length) return fail(scan.errors);
  if (scan.files.length === 0) return fail([`${options.configDir}: no environment files (<env>.yaml) found`]);

  const nameOf = (file: string) => path.basename(file).replace(/\.ya?ml$/, "");
  const all = scan.files.map(nameOf);
  const selected = new Set(options.environments ?? all);
  const unknown = [...selected].filter((n) => !all.includes(n));
  if (unknown.length) return fail(unknown.map((n) => `synth: no environment "${n}" in ${options.configDir}/ (there: ${all.join(", ")})`));

  // Every environment is read (the clash checks need them all); only the selected ones must be valid.
  const problems = new Map<string, string[]>();
  const loaded: Environment[] = [];
  for (const file of scan.files) {
    const result = loadEnvironment(file, fs.readFileSync(file, "utf8"));
    if (result.ok) loaded.push(result.environment);
    else if (selected.has(nameOf(file))) problems.set(nameOf(file), result.errors);
  }
  const report = () => [...new Set([...problems.values()].flat())];
  // A clash is between two environments, and neither one alone is the broken one: nothing is synthesized, in
  // every mode, so that neither's output is removed or replaced on account of the other.
  const clashes = environmentClashes(loaded, selected);
  if (clashes.length) return fail([...report(), ...clashes]);
  if (problems.size && !options.keepGoing) return fail(report());

  const outdir = path.resolve(options.outdir);
  fs.mkdirSync(path.dirname(outdir), { recursive: true });
  const staging = fs.mkdtempSync(path.join(path.dirname(outdir), `.${path.basename(outdir)}.staging-`));
  try {
    const built: string[] = [];
    for (const env of loaded.filter((e) => selected.has(e.name) && !problems.has(e.name))) {
      const findings = synthOne(env, path.join(staging, env.name));
      if (findings.length) problems.set(env.name, findings);
      else built.push(env.name);
    }
    if (problems.size && !options.keepGoing) return fail(report());
    // A full run also removes the output (and manifest entries) of environments that are gone; keepGoing, that of
    // the broken ones, so nothing stale can be deployed.
    const gone = options.environments ? [] : [...new Set([...listStacks(outdir), ...manifestStacks(outdir)])].filter((s) => !all.includes(s));
    const remove = [...gone, ...(options.keepGoing ? problems.keys() : [])];
    const summary = publish(staging, outdir, built, remove);
    return { ok: true, stacks: built, summary, warnings, problems: report() };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** Synthesizes one environment into `dir`; its problems, each naming the file. */
function synthOne(env: Environment, dir: string): string[] {
  const app = new App({ outdir: dir, stackTraces: false });
  // The cdktf CLI sets this to write stacks with error annotations (policy findings) anyway; here a finding must
  // stop its stack, as it does under npm run synth.
  const continueOnErrors = process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS;
  delete process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS;
  try {
    new CreatioFarmStack(app, env.name, env.config);
    app.synth();
    return [];
  } catch (e) {
    if (e instanceof FarmValidationError) return [`${env.file}: ${e.message}`];
    const findings = constructFindings(e);
    if (!findings) throw e;
    return findings.map((f) => `${env.file}: ${f}`);
  } finally {
    if (continueOnErrors !== undefined) process.env.CDKTF_CONTINUE_SYNTH_ON_ERROR_ANNOTATIONS = continueOnErrors;
  }
}

/**
 * cdktf reports failed construct validations and policy findings as one error whose lines read
 * `[<construct path>] <message>`; those are the user's to fix. Any other error is a bug here: undefined.
 */
function constructFindings(e: unknown): string[] | undefined {
  const message = e instanceof Error ? e.message : String(e);
  if (!/^(Validation failed|App-level validation failed|Encountered Annotations)/.test(message)) return undefined;
  return message
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("["));
}

function manifestStacks(outdir: string): string[] {
  return Object.keys(readManifest(path.join(outdir, "manifest.json"))?.stacks ?? {});
}

function listStacks(outdir: string): string[] {
  const dir = path.join(outdir, "stacks");
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

interface Manifest {
  stacks: Record<string, unknown>;
  version?: string;
}

function readManifest(file: string): Manifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Manifest;
  } catch {
    return undefined;
  }
}

/**
 * Moves the built stacks into place and removes `remove`; the manifest keeps every other stack it listed. Returns
 * the review summary: one line per built or removed stack, against what was there before.
 */
function publish(staging: string, outdir: string, built: readonly string[], remove: readonly string[]): string[] {
  const targetStacks = path.join(outdir, "stacks");
  fs.mkdirSync(targetStacks, { recursive: true });
  const tfJson = (stackDir: string) => {
    const file = path.join(stackDir, "cdk.tf.json");
    return fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : undefined;
  };
  const summary: string[] = [];
  const manifestFile = path.join(outdir, "manifest.json");
  const manifest: Manifest = readManifest(manifestFile) ?? { stacks: {} };
  for (const name of [...remove].sort()) {
    const target = path.join(targetStacks, name);
    if (fs.existsSync(target) || manifest.stacks[name]) summary.push(`${name}: removed from ${path.basename(outdir)}/`);
    removeGenerated(target);
    delete manifest.stacks[name];
  }
  for (const name of [...built].sort()) {
    const target = path.join(targetStacks, name);
    const staged = path.join(staging, name);
    summary.push(reviewSummary(name, tfJson(target), tfJson(path.join(staged, "stacks", name))));
    removeGenerated(target);
    fs.mkdirSync(target, { recursive: true });
    for (const entry of GENERATED_IN_STACK) {
      const from = path.join(staged, "stacks", name, entry);
      if (fs.existsSync(from)) fs.renameSync(from, path.join(target, entry));
    }
    const fresh = readManifest(path.join(staged, "manifest.json"))!;
    manifest.stacks[name] = fresh.stacks[name];
    manifest.version = fresh.version;
  }
  const sorted = { ...manifest, stacks: Object.fromEntries(Object.entries(manifest.stacks).sort(([a], [b]) => byCodeUnit(a, b))) };
  fs.writeFileSync(manifestFile, `${JSON.stringify(sorted, null, 2)}\n`);
  return summary;
}

/** Removes what synth generated in a stack folder; removes the folder too if nothing else is left in it. */
function removeGenerated(stackDir: string): void {
  for (const entry of GENERATED_IN_STACK) fs.rmSync(path.join(stackDir, entry), { recursive: true, force: true });
  if (fs.existsSync(stackDir) && fs.readdirSync(stackDir).length === 0) fs.rmdirSync(stackDir);
}

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export const USAGE = [
  "usage: npm run synth -- [environment ...]",
  "",
  "Synthesizes config/<environment>.yaml into cdktf.out/stacks/<environment>/ for every environment, or only the",
  "ones named (the others' output is left as it is). Prints one line per stack of what changed.",
  "",
  "  -h, --help   this text",
];

/** The command line: environment names, or --help. Anything else is an error. */
export function parseArgs(argv: readonly string[]): { help: true } | { help: false; environments?: string[] } | { error: string } {
  const environments: string[] = [];
  for (const arg of argv) {
    if (arg === "-h" || arg === "--help") return { help: true };
    if (arg.startsWith("-")) return { error: `synth: unknown option ${arg} (see --help)` };
    if (!ENV_NAME.test(arg)) return { error: `synth: "${arg}" is not an environment name (config/<name>.yaml; see --help)` };
    environments.push(arg);
  }
  return { help: false, environments: environments.length ? [...new Set(environments)] : undefined };
}

/** `npm run synth`: returns the exit code. Problems are printed one per line, never with a stack trace. */
export function runCli(options: SynthOptions, io: CliIo = { out: console.log, err: console.error }): number {
  try {
    const result = synthFarm(options);
    for (const line of result.warnings) io.err(`warning: ${line}`);
    if (result.ok) {
      for (const line of result.summary) io.out(line);
      for (const line of result.problems) io.err(line);
      if (result.problems.length) io.err(`synth: ${result.problems.length} problem(s); the environments they name were left out`);
      io.out(`synth: ${result.stacks.join(", ") || "nothing"} → ${options.outdir}/stacks/`);
      // keepGoing is the cdktf CLI's mode: it prints a failing app's output a second time, so problems that left
      // some environments out do not fail it while others were synthesized (`cdktf diff <env>` of one left out finds
      // no such stack). Nothing synthesized at all is a failure.
      return result.stacks.length || !result.problems.length ? 0 : 1;
    }
    for (const line of result.errors) io.err(line);
    io.err(`synth: ${result.errors.length} problem(s); nothing was written to ${options.outdir}/`);
  } catch (e) {
    // An unexpected failure is a bug in this program, not in the config: say so, without a wall of stack.
    io.err(`synth: internal error: ${(e as Error).message}`);
    if (process.env.CREATIO_FARM_DEBUG) io.err(String((e as Error).stack));
    io.err(`synth: cdktf.out/ was not changed (set CREATIO_FARM_DEBUG=1 for the stack trace)`);
  }
  return 1;
}

/** `node scripts/synth.js [args]` and the cdktf CLI (which sets CDKTF_OUTDIR and passes no arguments). */
export function main(argv: readonly string[], env: NodeJS.ProcessEnv, io?: CliIo): number {
  const print = io ?? { out: console.log, err: console.error };
  const args = parseArgs(argv);
  if ("error" in args) {
    print.err(args.error);
    return 2;
  }
  if (args.help) {
    USAGE.forEach((l) => print.out(l));
    return 0;
  }
  const underCdktf = env.CDKTF_OUTDIR !== undefined;
  return runCli({ configDir: "config", outdir: env.CDKTF_OUTDIR ?? "cdktf.out", environments: args.environments, keepGoing: underCdktf }, print);
}

if (require.main === module) process.exitCode = main(process.argv.slice(2), process.env);
