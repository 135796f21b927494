// @ts-check
/**
 * `dotnet Terrasoft.WebHost.dll`                        → the stand-in web host (server.js)
 * `dotnet Terrasoft.WebHost.dll configureWebFarmMode`  → the stand-in for Creatio's web-farm command
 * Run from the application root, as Creatio is (the image's WORKDIR).
 */
"use strict";

const [dll, command, ...rest] = process.argv.slice(2);
const appDir = process.cwd();

function usage(message) {
  process.stderr.write(`stand-in: ${message}\nusage: dotnet Terrasoft.WebHost.dll [configureWebFarmMode]\n`);
  process.exit(2);
}

if (dll !== "Terrasoft.WebHost.dll") usage(`unknown assembly ${JSON.stringify(dll)}`);
if (rest.length) usage(`unexpected arguments ${JSON.stringify(rest)}`);
if (command === "configureWebFarmMode") {
  require("./configure-web-farm").configureWebFarm(appDir);
} else if (command === undefined) {
  require("./server").serve(appDir).catch((e) => {
    process.stderr.write(`stand-in: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
} else {
  usage(`unknown command ${JSON.stringify(command)}`);
}
