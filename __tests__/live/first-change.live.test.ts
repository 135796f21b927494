/**
 * A platform team's first change, on a copy of this repository: add an environment, edit another, run the commands
 * the README gives, and `npm test` is green (as CI runs it, CI=true: snapshots must be committed). Before the
 * documented refresh, the user's snapshot check fails: a pull request cannot pass with unreviewed rendered output.
 * In the live tier because it runs the unit tier itself (minutes, and the real programs it checks files with).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { besideDev, REPO, tempDir } from "../support/farm";

jest.setTimeout(900_000);

let copy = "";

function sh(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(command, args, { cwd: copy, encoding: "utf8", env: { ...process.env, CI: "true", ...env }, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  copy = tempDir("first-change");
  // The repository as a clone has it (tracked and new files, nothing ignored), with this node_modules.
  const files = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: REPO, encoding: "utf8" }).stdout.split("\0").filter(Boolean);
  for (const file of files) {
    if (!fs.existsSync(path.join(REPO, file))) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
    fs.copyFileSync(path.join(REPO, file), path.join(copy, file));
  }
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(copy, "node_modules"));
});

afterAll(() => {
  if (copy) fs.rmSync(copy, { recursive: true, force: true });
});

test("add staging, add a node to dev, `npm run update`: `npm test` is green; before the update the snapshot check fails", () => {
  // GIVEN a new environment beside dev on the same Docker host (subnets and ports of its own) and a node more in dev
  const dev = fs.readFileSync(path.join(copy, "config/dev.yaml"), "utf8");
  fs.writeFileSync(path.join(copy, "config/staging.yaml"), besideDev(dev));
  fs.writeFileSync(path.join(copy, "config/dev.yaml"), dev.replace("    - { name: node-2, weight: 1 }\n", "    - { name: node-2, weight: 1 }\n    - { name: node-3, weight: 1 }\n"));

  // WHEN the tests run before the refresh THEN the user's snapshots fail (a new stack, a changed one)
  const before = sh("npx", ["jest", "__tests__/environments/config.test.ts"]);
  expect(before.code).not.toBe(0);
  expect(before.output).toMatch(/New snapshot was not written/);
  expect(before.output).toMatch(/environment dev › stack snapshot/);

  // WHEN the documented refresh runs THEN it says what changed, per stack
  const update = sh("npm", ["run", "--silent", "update"]);
  expect([update.code, update.output]).toEqual([0, expect.stringContaining("dev: 1 container replaced (haproxy-config: haproxy.cfg), 1 added (creatio-node-3), volumes +dev-creatio-node-3-logs")]);
  expect(update.output).toMatch(/^staging: new \(7 containers, 2 networks, 8 volumes; ports 0\.0\.0\.0:8081, 127\.0\.0\.1:9001\)$/m);
  expect(fs.existsSync(path.join(copy, "cdktf.out/stacks/staging/cdk.tf.json"))).toBe(true);

  // THEN the whole unit tier is green, product tests included (they read their own fixtures, not config/)
  const test = sh("npm", ["test"]);
  expect([test.code, test.output.split("\n").filter((l) => /^Tests:|✕/.test(l))]).toEqual([0, [expect.stringMatching(/^Tests: +\d+ passed, \d+ total$/)]]);
});
