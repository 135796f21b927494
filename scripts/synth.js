// `npm run synth [-- env ...]` and the cdktf CLI's "app": compile with tsc when any source is newer than the last build (never
// run stale JavaScript), then run the compiled synth in this process. No ts-node at run time.
const { spawnSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const ROOT = path.join(__dirname, "..");
const STAMP = path.join(ROOT, "dist", ".build-stamp");
const SOURCES = ["main.ts", "app", "constructs", "schema", "scripts", "package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json"];

/** What the build compiles or copies; environment files (config/*.yaml) are read at run time, not built. */
const BUILT = /\.(ts|hbs|awk|sh|json)$/;

function newestMtime(p) {
  const stat = fs.statSync(p, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return BUILT.test(p) ? stat.mtimeMs : 0;
  return Math.max(0, ...fs.readdirSync(p).map((e) => newestMtime(path.join(p, e))));
}

function stale() {
  const built = fs.statSync(STAMP, { throwIfNoEntry: false });
  return !built || SOURCES.some((s) => newestMtime(path.join(ROOT, s)) > built.mtimeMs);
}

if (stale()) {
  const build = spawnSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
  fs.writeFileSync(STAMP, "");
}
const { main } = require(path.join(ROOT, "dist", "main.js"));
process.exitCode = main(process.argv.slice(2), process.env);
