import { z } from "zod";
import { stableJson } from "../constructs/lib/template";
import { farmConfigSchema } from "./schema";

/** The environment schema as JSON Schema (what a user may write: defaults shown, nothing required that has one). */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(farmConfigSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return stableJson({
    ...schema,
    $id: "https://creatio-farm.invalid/config/creatio-farm.schema.json",
    title: "creatio-farm environment (config/<env>.yaml)",
  });
}
