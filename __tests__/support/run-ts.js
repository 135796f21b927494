// Runs a TypeScript entry of this project in a plain node child process (no ts-jest): .ts files are transpiled on
// require. Used where a test needs a separate process, e.g. with another locale in its environment.
// usage: node __tests__/support/run-ts.js <file.ts> [args...]
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

require.extensions[".ts"] = (module, filename) => {
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, "utf8"), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: filename,
  });
  module._compile(outputText, filename);
};
const [entry, ...args] = process.argv.slice(2);
process.argv = [process.argv[0], entry, ...args];
require(path.resolve(entry));
