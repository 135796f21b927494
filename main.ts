/**
 * Entry point of `npm run synth` and of the cdktf CLI (cdktf.json "app"): every `config/<env>.yaml` becomes the
 * stack `<env>` under cdktf.out/, with each provisioned file beside it for review.
 *
 * All-or-nothing: configs are validated first, the app is synthesized into a staging directory next to the
 * output, and only a complete, error-free synth replaces the generated entries of cdktf.out/. Anything else in
 * cdktf.out/ (a stack's .terraform/ cache, plan files) is left alone.
 */
import * as fs from "fs";
import * as path from "path";
import { App } from "cdktf";
import { environmentFiles, loadEnvironments } from "./config/load";
import { CreatioFarmStack } from "./app/farm-stack";
import { FarmValidationError } from "./constructs/lib/errors";

export interface SynthOptions {
  /** Folder of `<env>.yaml` files. */
  readonly configDir: string;
  /** Synth output folder. */
  readonly outdir: string;
}

export type SynthResult = { ok: true; stacks: string[] } | { ok: false; errors: string[] };

/** Entries of a stack folder that synth owns; everything else there belongs to the user or to Terraform. */
const GENERATED_IN_STACK = ["cdk.tf.json", "files", "images"];

export function synthFarm(options: SynthOptions): SynthResult {
  const loaded = loadEnvironments(environmentFiles(options.configDir));
  if (!loaded.ok) return loaded;

  const outdir = path.resolve(options.outdir);
  fs.mkdirSync(path.dirname(outdir), { recursive: true });
  const staging = fs.mkdtempSync(path.join(path.dirname(outdir), `.${path.basename(outdir)}.staging-`));
  try {
    const app = new App({ outdir: staging, stackTraces: false });
    const errors: string[] = [];
    for (const env of loaded.environments) {
      try {
        new CreatioFarmStack(app, env.name, env.config);
      } catch (e) {
        if (!(e instanceof FarmValidationError)) throw e;
        errors.push(`${env.file}: ${e.message}`);
      }
    }
    if (errors.length) return { ok: false, errors };
    try {
      app.synth();
    } catch (e) {
      const findings = constructFindings(e);
      if (!findings) throw e;
      return { ok: false, errors: findings };
    }
    publish(staging, outdir);
    return { ok: true, stacks: loaded.environments.map((e) => e.name) };
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
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

function publish(staging: string, outdir: string): void {
  const stagedStacks = path.join(staging, "stacks");
  const targetStacks = path.join(outdir, "stacks");
  fs.mkdirSync(targetStacks, { recursive: true });
  const fresh = new Set(fs.readdirSync(stagedStacks));
  for (const name of fs.readdirSync(targetStacks)) {
    if (!fresh.has(name)) removeGenerated(path.join(targetStacks, name));
  }
  for (const name of [...fresh].sort()) {
    const target = path.join(targetStacks, name);
    removeGenerated(target);
    fs.mkdirSync(target, { recursive: true });
    for (const entry of GENERATED_IN_STACK) {
      const from = path.join(stagedStacks, name, entry);
      if (fs.existsSync(from)) fs.renameSync(from, path.join(target, entry));
    }
  }
  fs.renameSync(path.join(staging, "manifest.json"), path.join(outdir, "manifest.json"));
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

/** `npm run synth`: returns the exit code. Problems are printed one per line, never with a stack trace. */
export function runCli(options: SynthOptions, io: CliIo = { out: console.log, err: console.error }): number {
  try {
    const result = synthFarm(options);
    if (result.ok) {
      io.out(`synth: ${result.stacks.join(", ")} → ${options.outdir}/stacks/`);
      return 0;
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

if (require.main === module) {
  process.exitCode = runCli({ configDir: "config", outdir: process.env.CDKTF_OUTDIR ?? "cdktf.out" });
}
