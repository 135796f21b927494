/**
 * Publishes the config schema as JSON Schema for editors (`# yaml-language-server: $schema=…` in each
 * environment file). `npm run schema` writes it; a unit test fails when the committed file is stale.
 */
import * as fs from "fs";
import * as path from "path";
import { configJsonSchema } from "../schema/json-schema";

const target = path.join(__dirname, "..", "..", "config", "creatio-farm.schema.json");
fs.writeFileSync(target, configJsonSchema());
console.log(`schema: wrote ${path.relative(process.cwd(), target)}`);
