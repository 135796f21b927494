import * as fs from "fs";
import * as path from "path";
import { configJsonSchema } from "../../schema/json-schema";
import { REPO } from "../support/farm";

test("the README's config reference documents every key of the schema, and no key that does not exist", () => {
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Config reference"), readme.indexOf("## Deploy"));
  const documented = [...section.matchAll(/^\| `([a-zA-Z0-9.[\]]+)` \|/gm)].map((m) => m[1]).sort();
  const keys: string[] = [];
  const walk = (node: any, at: string) => {
    for (const [key, child] of Object.entries<any>(node?.properties ?? {})) {
      const here = `${at}${key}`;
      if (child.properties || child.items?.properties) {
        walk(child, `${here}.`);
        walk(child.items, `${here}[].`);
      } else keys.push(here);
    }
  };
  walk(JSON.parse(configJsonSchema()), "");
  expect(documented).toEqual(keys.sort());
});
