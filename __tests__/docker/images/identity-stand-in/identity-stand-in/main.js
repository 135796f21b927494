// @ts-check
/**
 * `dotnet IdentityService.dll` → the stand-in Identity Service (server.js), run from the application root (the
 * image's WORKDIR), as the real service is.
 */
"use strict";

const [dll, ...rest] = process.argv.slice(2);

/** @param {string} message */
function usage(message) {
  process.stderr.write(`identity stand-in: ${message}\nusage: dotnet IdentityService.dll\n`);
  process.exit(2);
}

if (dll !== "IdentityService.dll") usage(`unknown assembly ${JSON.stringify(dll)}`);
if (rest.length) usage(`unexpected arguments ${JSON.stringify(rest)}`);
require("./server")
  .serve(process.cwd())
  .catch((/** @type {unknown} */ e) => {
    process.stderr.write(`identity stand-in: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
