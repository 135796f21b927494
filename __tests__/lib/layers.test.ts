/**
 * The layers point one way: app/ (maps an environment file to constructs) → schema/ (the file's schema and loader)
 * and constructs/ (the product); schema/ → constructs/ (the rules the schema shares); constructs/ → nothing above
 * it. config/ holds the user's environments and no code.
 */
import * as fs from "fs";
import * as path from "path";
import ts from "typescript";
import { REPO } from "../support/farm";

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith(".ts") ? [p] : [];
  });
}

/** Top-level folder each relative import of `file` resolves to: every form (`import … from`, `import "…"`,
 * `export … from`, `import(…)`, `require(…)`), as TypeScript's own pre-processor finds them. */
function importedLayers(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => path.relative(REPO, path.resolve(path.dirname(file), name)).split(path.sep)[0]);
}

test.each([
  ["constructs", ["app", "schema", "config", "main.ts", "main"]],
  ["schema", ["app", "config", "main.ts", "main"]],
])("%s/ imports nothing from %j", (layer, forbidden) => {
  const offenders = sources(path.join(REPO, layer)).flatMap((f) =>
    importedLayers(f)
      .filter((l) => forbidden.includes(l))
      .map((l) => `${path.relative(REPO, f)} → ${l}/`),
  );
  expect(offenders).toEqual([]);
});

test("the check sees imports: app/ does import constructs/ and schema/", () => {
  expect(new Set(importedLayers(path.join(REPO, "app/portal.ts")))).toEqual(new Set(["app", "schema", "constructs"]));
});
