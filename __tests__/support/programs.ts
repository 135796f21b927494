import { spawnSync } from "child_process";

/**
 * The real programs that check rendered files. CI installs them (.ci/run); a machine without one fails the test
 * with the install command instead of skipping it.
 */
export function requireProgram(name: string, debianPackage: string): string {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  if (found.status !== 0) throw new Error(`${name} is not installed: apt-get install -y ${debianPackage}`);
  return found.stdout.trim();
}

export function run(cmd: string, args: string[], input?: string) {
  const r = spawnSync(cmd, args, { encoding: "utf8", input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, output: `${r.stdout}${r.stderr}` };
}
