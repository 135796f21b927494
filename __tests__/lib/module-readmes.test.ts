/**
 * Every constructs/<module>/README.md opens with a runnable snippet. Each snippet is compiled and run here, as a
 * user would run it from the project root, with its synth output sent to a temp folder.
 */
import * as fs from "fs";
import * as path from "path";
import ts from "typescript";
import { readTree, REPO, tempDir } from "../support/farm";

const modules = fs
  .readdirSync(path.join(REPO, "constructs"), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

function firstSnippet(readme: string): string {
  const m = /^```ts\n([\s\S]*?)^```/m.exec(readme);
  if (!m) throw new Error("no ```ts snippet");
  return m[1];
}

test("every module has a README", () => {
  expect(modules.filter((m) => !fs.existsSync(path.join(REPO, "constructs", m, "README.md")))).toEqual([]);
});

describe.each(modules.filter((m) => fs.existsSync(path.join(REPO, "constructs", m, "README.md"))))("constructs/%s/README.md", (mod) => {
  const readme = fs.readFileSync(path.join(REPO, "constructs", mod, "README.md"), "utf8");

  test("opens with a snippet (before any prose section)", () => {
    expect(readme.indexOf("```ts")).toBeLessThan(readme.indexOf("\n\n", readme.indexOf("\n") + 1) + 2);
  });

  test("its snippet runs and synthesizes", () => {
    const source = firstSnippet(readme);
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, esModuleInterop: true } }).outputText
      .replace(/require\("\.\/(constructs|config)\//g, `require("${REPO}/$1/`);
    const outdir = tempDir(`snippet-${mod}`);
    const saved = process.env.CDKTF_OUTDIR;
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    process.env.CDKTF_OUTDIR = outdir;
    try {
      new Function("require", "exports", js)(require, {});
      expect(Object.keys(readTree(outdir))).toContain("stacks/demo/cdk.tf.json");
    } finally {
      log.mockRestore();
      if (saved === undefined) delete process.env.CDKTF_OUTDIR;
      else process.env.CDKTF_OUTDIR = saved;
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
