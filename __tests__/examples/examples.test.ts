/**
 * The example environments in config/: one snapshot per stack and one per rendered file, and every rendered file
 * checked by the real program that reads it (haproxy, xmllint, sh, JSON.parse).
 */
import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";
import { environmentFiles, loadEnvironments } from "../../config/load";
import { CreatioFarmStack } from "../../constructs/farm-stack";
import { synthFarm } from "../../main";
import { STATS_TEST_HASH } from "../support/hashes";
import { readTree, REPO, tempDir } from "../support/farm";
import { requireProgram, run } from "../support/programs";
import { selfSignedCertificate } from "../support/self-signed";

const loaded = loadEnvironments(environmentFiles(path.join(REPO, "config")));
if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
const environments = loaded.environments;

const workDir = tempDir("examples");
const outdir = path.join(workDir, "cdktf.out");
const synth = synthFarm({ configDir: path.join(REPO, "config"), outdir });
if (!synth.ok) throw new Error(synth.errors.join("\n"));
const tree = readTree(outdir);
const certificate = selfSignedCertificate(workDir).pem;
afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

/**
 * Rendered files of one environment: what is provisioned into containers (`<container>/<path in container>`) and
 * the build contexts of the images the stack builds (`images/<image>/<path>`).
 */
function renderedFiles(env: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [p, content] of Object.entries(tree)) {
    if (p.startsWith(`stacks/${env}/files/`)) out[p.slice(`stacks/${env}/files/`.length)] = content;
    else if (p.startsWith(`stacks/${env}/images/`)) out[p.slice(`stacks/${env}/`.length)] = content;
  }
  return out;
}

/** Files copied as they are from the product's assets, not rendered from the environment: no snapshot of those. */
const STATIC_ASSET = /\.(awk|sh)$/;

function checkWith(program: string, pkg: string, args: (file: string) => string[], content: string) {
  const bin = requireProgram(program, pkg);
  const dir = tempDir("check");
  const file = path.join(dir, "file");
  fs.writeFileSync(file, content);
  try {
    return run(bin, args(file));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("the examples are dev and prod", () => {
  expect(environments.map((e) => e.name)).toEqual(["dev", "prod"]);
});

describe.each(environments.map((e) => [e.name, e] as const))("environment %s", (name, env) => {
  test("stack snapshot", () => {
    const stack = new CreatioFarmStack(Testing.app(), name, env.config);
    expect(Testing.synth(stack, true)).toMatchSnapshot();
  });

  const files = renderedFiles(name);

  test("rendered files: one per provisioned file of every container, and each built image's context", () => {
    const tf = JSON.parse(tree[`stacks/${name}/cdk.tf.json`]);
    const uploads = Object.values<any>(tf.resource.docker_container).flatMap((c) => (c.upload ?? []).map((u: any) => `${c.name}${u.file}`));
    expect(Object.keys(files).filter((f) => !f.startsWith("images/")).sort()).toEqual(uploads.sort());
    const contexts = Object.values<any>(tf.resource.docker_image).filter((i) => i.build).map((i) => `${i.build.context}/Dockerfile`);
    expect(contexts.length).toBeGreaterThan(0);
    for (const dockerfile of contexts) expect(Object.keys(files)).toContain(dockerfile);
  });

  test.each(Object.keys(files).filter((f) => !STATIC_ASSET.test(f)))("%s matches its snapshot", (file) => {
    expect(files[file]).toMatchSnapshot();
  });

  test.each(Object.keys(files).filter((f) => f.endsWith("haproxy.cfg")))("%s passes haproxy -dW -c", (file) => {
    // The real certificate and the generated hash exist only on the Docker host: stand-ins of the same form.
    const cfg = files[file]
      .replace("[secret:stats-password-hash]", STATS_TEST_HASH)
      .replace(/ crt \/usr\/local\/etc\/haproxy\/certs\/\S+\.pem /g, ` crt ${certificate} `);
    const result = checkWith("haproxy", "haproxy", (f) => ["-dW", "-c", "-f", f], cfg);
    expect(result.output).toContain("Configuration file is valid");
  });

  test.each(Object.keys(files).filter((f) => f.endsWith(".config")))("%s is well-formed XML (xmllint)", (file) => {
    const result = checkWith("xmllint", "libxml2-utils", (f) => ["--noout", f], files[file]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  test.each(Object.keys(files).filter((f) => f.endsWith(".json")))("%s is JSON", (file) => {
    expect(() => JSON.parse(files[file])).not.toThrow();
  });

  test.each(Object.keys(files).filter((f) => f.endsWith(".sh")))("%s passes sh -n", (file) => {
    const result = checkWith("sh", "dash", (f) => ["-n", f], files[file]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
