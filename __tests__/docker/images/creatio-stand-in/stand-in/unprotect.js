// @ts-check
// node /opt/stand-in/unprotect.js <keys directory> <application name> <payload>
// Opens a protected payload with the key ring in <keys directory>, as a node configured that way would; prints
// the result as JSON ({"ok":true,...} or {"ok":false,"reason":...}). The Docker tier uses it to show that a
// session cookie is bound to the farm's key ring, and not readable with another one.
"use strict";
const { KeyRing } = require("./key-ring");

const [dir, applicationName, payload] = process.argv.slice(2);
if (!dir || !applicationName || !payload) {
  process.stderr.write("usage: unprotect.js <keys directory> <application name> <payload>\n");
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(new KeyRing(dir, applicationName).load().unprotect(payload))}\n`);
