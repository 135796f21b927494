import * as fs from "fs";
import * as path from "path";
import { configJsonSchema } from "../../schema/json-schema";
import { REPO } from "../support/farm";

test("config/creatio-farm.schema.json is up to date (run `npm run schema` after changing schema/schema.ts)", () => {
  const committed = fs.readFileSync(path.join(REPO, "config/creatio-farm.schema.json"), "utf8");
  expect(committed).toBe(configJsonSchema());
});

test("the JSON Schema documents every key and forbids unknown ones", () => {
  const schema = JSON.parse(configJsonSchema());
  const creatio = schema.properties.creatio;
  expect(creatio.additionalProperties).toBe(false);
  expect(creatio.properties.nodes.items.properties.weight).toMatchObject({ minimum: 1, maximum: 256, default: 1 });
  const undocumented: string[] = [];
  const walk = (node: any, at: string) => {
    for (const [key, child] of Object.entries<any>(node?.properties ?? {})) {
      if (!child.description) undocumented.push(`${at}${key}`);
      walk(child, `${at}${key}.`);
      walk(child.items, `${at}${key}[].`);
    }
  };
  walk(schema, "");
  expect(undocumented).toEqual([]);
});
