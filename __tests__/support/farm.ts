import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Testing } from "cdktf";
import { farmConfigSchema, FarmConfig, FarmConfigInput } from "../../schema/schema";
import { CreatioFarmStack } from "../../app/farm-stack";

export const REPO = path.resolve(__dirname, "../..");

/** The smallest valid environment; tests override what they look at. */
export function minimalInput(): FarmConfigInput {
  return {
    creatio: { image: "registry.example.com/creatio-net8:8.3.1", nodes: [{ name: "node-1", weight: 2 }, { name: "node-2" }] },
    balancer: { image: "haproxy:2.8" },
    redis: { image: "redis:7.2" },
    database: { image: "postgres:16" },
  };
}

export function config(input: FarmConfigInput = minimalInput()): FarmConfig {
  return farmConfigSchema.parse(input);
}

/** A farm stack in a throwaway app, and its synthesized Terraform as parsed JSON. */
export function synthFarmStack(cfg: FarmConfig = config(), env = "test") {
  const app = Testing.app();
  const stack = new CreatioFarmStack(app, env, cfg);
  const json = Testing.synth(stack, true);
  return { stack, json, tf: JSON.parse(json) as TerraformJson };
}

export interface TerraformJson {
  resource: Record<string, Record<string, Record<string, any>>>;
  output: Record<string, { value: string; sensitive?: boolean }>;
  locals?: Record<string, string>;
  variable?: Record<string, Record<string, any>>;
  provider?: Record<string, unknown[]>;
}

/**
 * An upload's content as Terraform evaluates it, before references to resources: a content that is exactly
 * `${local.<name>}` (a shared file) is that local's text.
 */
export function uploadContent(tf: TerraformJson, upload: { content: string }): string {
  const m = /^\$\{local\.([A-Za-z0-9_-]+)\}$/.exec(upload.content);
  if (!m) return upload.content;
  const text = tf.locals?.[m[1]];
  if (text === undefined) throw new Error(`upload refers to local.${m[1]}, which is not in the stack`);
  return text;
}

/** Containers by Docker name. */
export function containers(tf: TerraformJson): Record<string, Record<string, any>> {
  return Object.fromEntries(Object.values(tf.resource.docker_container).map((c) => [c.name, c]));
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `creatio-farm-${prefix}-`));
}

/** Every file under `dir`, as { relative path: content }. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

/**
 * A copy of the dev environment (fixture or example) that fits beside it on one Docker host: subnets and host ports
 * of its own (HTTP 8081, stats 9001).
 */
export function besideDev(dev: string): string {
  const moved = dev.replace("httpPort: 80\n", "httpPort: 8081\n").replace("port: 9000,", "port: 9001,");
  if (!moved.includes("httpPort: 8081") || !moved.includes("port: 9001,")) throw new Error("besideDev: the dev file no longer has httpPort: 80 and stats port: 9000");
  return `network: { appSubnet: 172.30.90.0/24, dataSubnet: 172.30.91.0/24 }\n${moved}`;
}
