// Copies the non-TypeScript files the constructs read at synth (handlebars templates, container scripts) next to
// the compiled JavaScript in dist/, so `node dist/main.js` finds them exactly where ts-jest finds the sources.
const fs = require("fs");
const path = require("path");

const ASSET = /\.(hbs|awk|sh)$/;
function copy(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const from = path.join(dir, entry.name);
    if (entry.isDirectory()) copy(from);
    else if (ASSET.test(entry.name)) {
      const to = path.join("dist", from);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.copyFileSync(from, to);
    }
  }
}
copy("constructs");
