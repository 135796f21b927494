// Runs a TypeScript entry of this project in a plain node child process (no ts-jest): .ts files are transpiled on
// require. Used where a test needs a separate process, e.g. with another locale in its environment.
// Transpiled files are cached by content hash under node_modules/.cache/, so only the first run loads TypeScript.
// usage: node __tests__/support/run-ts.js <file.ts> [args...]
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

const CACHE = path.join(__dirname, "..", "..", "node_modules", ".cache", "creatio-farm-run-ts");
// The key covers what the output depends on: TypeScript's version, these options, the file and its text.
const OPTIONS = { module: "CommonJS", target: "ES2022", esModuleInterop: true };
const SALT = `${require("typescript/package.json").version}\0${JSON.stringify(OPTIONS)}`;
let ts;

function transpile(source, filename) {
  const key = crypto.createHash("sha256").update(SALT).update("\0").update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(CACHE, `${key}.js`);
  if (fs.existsSync(cached)) return fs.readFileSync(cached, "utf8");
  ts ??= require("typescript");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { ...OPTIONS, module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
    fileName: filename,
  });
  fs.mkdirSync(CACHE, { recursive: true });
  // Written aside and renamed: two children transpiling the same file at once never read half a file.
  const partial = `${cached}.${process.pid}`;
  fs.writeFileSync(partial, outputText);
  fs.renameSync(partial, cached);
  return outputText;
}

require.extensions[".ts"] = (module, filename) => {
  module._compile(transpile(fs.readFileSync(filename, "utf8"), filename), filename);
};
const [entry, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], entry, ...args];
require(path.resolve(entry));
