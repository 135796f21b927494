/**
 * `terraform apply` after a change to the environment file, as the Docker tier plays it: the deployed environment
 * synthesized again with an edit, then applied over the deployment's state by the applier.
 */
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import YAML from "yaml";
import { synthFarm } from "../../../main";
import { Applier } from "./apply/applier";
import { Deployment, ENV } from "./farm";

/** Synthesizes the deployed environment with `edit` applied, into a folder of its own; the new stack folder. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function synthesizeWith(d: Deployment, edit: (config: Record<string, any>) => void, name: string): string {
  const dir = path.join(d.workDir, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, "config"), { recursive: true });
  const config = structuredClone(d.config);
  edit(config);
  fs.writeFileSync(path.join(dir, "config", `${ENV}.yaml`), YAML.stringify(config));
  const synth = synthFarm({ configDir: path.join(dir, "config"), outdir: path.join(dir, "cdktf.out") });
  if (!synth.ok) throw new Error(synth.errors.join("\n"));
  return path.join(dir, "cdktf.out", "stacks", ENV);
}

/** Applies a synthesized stack over the deployment's state; the lines of what it destroyed, replaced or created. */
export async function applyStack(docker: Docker, d: Deployment, stackDir: string): Promise<string[]> {
  const state = JSON.parse(fs.readFileSync(d.stateFile, "utf8"));
  const applier = new Applier(docker, stackDir, state);
  const lines: string[] = [];
  try {
    await applier.update((line) => lines.push(line));
  } finally {
    applier.save(d.stateFile);
  }
  return lines;
}
