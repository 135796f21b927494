import { execFile, spawnSync } from "child_process";
import { promisify } from "util";
import * as fs from "fs";
import * as path from "path";
import { runCli, synthFarm } from "../../main";
import { besideDev, readTree, REPO, tempDir, uploadContent } from "../support/farm";

// Some tests start synth in processes of their own (TypeScript compiled as they load): several seconds on a busy
// 2-core machine. The timeout guards against a hang; it is not a speed goal (bench:synth measures speed).
jest.setTimeout(30_000);

const execFileAsync = promisify(execFile);
const RUN_TS = path.join(REPO, "__tests__/support/run-ts.js");
const SYNTH_CHILD = path.join(REPO, "scripts/bench-synth-child.ts");
const DEV = fs.readFileSync(path.join(REPO, "__tests__/fixtures/environments/dev.yaml"), "utf8");

/** A project folder with the given environment files; synth writes to <dir>/cdktf.out. */
function project(files: Record<string, string> = { "dev.yaml": DEV }): { dir: string; configDir: string; outdir: string } {
  const dir = tempDir("synth");
  const configDir = path.join(dir, "config");
  fs.mkdirSync(configDir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(configDir, name), text);
  return { dir, configDir, outdir: path.join(dir, "cdktf.out") };
}

function synthOk(p: { configDir: string; outdir: string }) {
  const result = synthFarm(p);
  if (!result.ok) throw new Error(result.errors.join("\n"));
  return result;
}

/** Terraform addresses that differ between two synths of the dev stack. */
function resourceDiff(before: { outdir: string }, after: { outdir: string }) {
  const resources = (p: { outdir: string }) =>
    JSON.parse(fs.readFileSync(path.join(p.outdir, "stacks/dev/cdk.tf.json"), "utf8")).resource as Record<string, Record<string, unknown>>;
  const a = resources(before);
  const b = resources(after);
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const type of Object.keys({ ...a, ...b }).sort()) {
    for (const name of Object.keys({ ...a[type], ...b[type] }).sort()) {
      const x = a[type]?.[name];
      const y = b[type]?.[name];
      if (x === undefined) added.push(`${type}.${name}`);
      else if (y === undefined) removed.push(`${type}.${name}`);
      else if (JSON.stringify(x) !== JSON.stringify(y)) changed.push(`${type}.${name}`);
    }
  }
  return { changed, added, removed };
}

const cleanup: string[] = [];
afterEach(() => cleanup.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function tracked<T extends { dir: string }>(p: T): T {
  cleanup.push(p.dir);
  return p;
}

describe("synth output", () => {
  test("two synths of the same config in different directories are byte-identical", () => {
    const a = tracked(project());
    const b = tracked(project());
    synthOk(a);
    synthOk(b);
    const treeA = readTree(a.outdir);
    expect(Object.keys(treeA).length).toBeGreaterThan(10);
    expect(readTree(b.outdir)).toEqual(treeA);
    // no absolute path of either project leaks into the output
    expect(JSON.stringify(treeA)).not.toContain(a.dir);
  });

  test("the output does not depend on the machine's locale (ICU collation differs, e.g. Danish sorts aa after b)", async () => {
    const config = DEV.replace("name: node-1,", "name: b,").replace("name: node-2,", "name: aa,");
    // Both synths at once, each in a process of its own locale.
    const outputs = await Promise.all(
      ["C.UTF-8", "da_DK.UTF-8"].map(async (locale) => {
        const p = tracked(project({ "dev.yaml": config }));
        const { stderr } = await execFileAsync(process.execPath, [RUN_TS, SYNTH_CHILD, p.configDir, p.outdir], {
          env: { ...process.env, LANG: locale, LC_ALL: locale },
        });
        expect(stderr).toBe("");
        return readTree(p.outdir);
      }),
    );
    // the hazard is real on this machine: ICU orders these two names differently under the two locales
    const collated = ["C.UTF-8", "da_DK.UTF-8"].map((locale) =>
      spawnSync(process.execPath, ["-e", 'console.log(["b","aa"].sort((x,y)=>x.localeCompare(y)).join())'], {
        encoding: "utf8",
        env: { ...process.env, LANG: locale, LC_ALL: locale },
      }).stdout.trim(),
    );
    expect(collated).toEqual(["aa,b", "b,aa"]);
    expect(outputs[1]).toEqual(outputs[0]);
    expect(outputs[0]["stacks/dev/files/dev-haproxy-config/opt/creatio-farm/staged/haproxy.cfg"]).toMatch(/server aa [^\n]*\n\s+server b /);
  });

  test("every provisioned file has a review copy that is exactly what Terraform hands the container", () => {
    const p = tracked(project());
    synthOk(p);
    const stackDir = path.join(p.outdir, "stacks/dev");
    const tf = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    let checked = 0;
    for (const c of Object.values<any>(tf.resource.docker_container)) {
      for (const upload of c.upload ?? []) {
        const review = fs.readFileSync(path.join(stackDir, "files", c.name, upload.file), "utf8");
        // Terraform's view of the content: escapes undone, references to secrets shown as reviewers see them.
        const content = uploadContent(tf, upload);
        const delivered = content
          .replace(/\$\{random_password\.secrets_([a-z-]+)_\w+\.(result|bcrypt_hash)\}/g, (_, name: string, attr: string) =>
            `[secret:${attr === "bcrypt_hash" ? `${name}-hash` : name}]`,
          )
          .replace(/\$\{sha256\(random_password\.secrets_([a-z-]+)_\w+\.result\)\}/g, (_, name: string) => `[secret:${name}-hash]`)
          .replace(/\$\$\{/g, "${")
          .replace(/%%\{/g, "%{");
        expect(delivered).toBe(review);
        // Terraform would evaluate any ${ or %{ left unescaped: only the secret references may remain.
        const leftover = content
          .replace(/\$\{random_password\.secrets_[a-z-]+_\w+\.(result|bcrypt_hash)\}/g, "")
          .replace(/\$\{sha256\(random_password\.secrets_[a-z-]+_\w+\.result\)\}/g, "")
          .replace(/\$\$\{|%%\{/g, "");
        expect(leftover).not.toMatch(/\$\{|%\{/);
        checked++;
      }
    }
    // Every review copy under files/ was checked: none is written without an upload behind it.
    expect(checked).toBe(Object.keys(readTree(path.join(stackDir, "files"))).length);
    // haproxy.cfg (%{+Q}r) and the PostgreSQL bootstrap script (${POSTGRES_USER:-}) hold literal interpolation syntax
    expect(fs.readFileSync(path.join(stackDir, "files/dev-haproxy-config/opt/creatio-farm/staged/haproxy.cfg"), "utf8")).toContain("%{+Q}r");
    expect(fs.readFileSync(path.join(stackDir, "files/dev-postgres-bootstrap/opt/creatio-farm/bootstrap.sh"), "utf8")).toContain("${POSTGRES_USER:-}");
  });

  test("the node image is built from the context synth writes, and a change to that context changes its tag", () => {
    const p = tracked(project());
    synthOk(p);
    const stackDir = path.join(p.outdir, "stacks/dev");
    const images = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8")).resource.docker_image;
    const built = Object.values<any>(images).filter((i) => i.build);
    expect(built).toEqual([
      expect.objectContaining({ name: expect.stringMatching(/^creatio-farm\/dev-creatio:[0-9a-f]{12}$/), build: { context: "images/creatio", dockerfile: "images/creatio/Dockerfile", no_cache: true } }),
    ]);
    // Terraform resolves both paths from the stack's folder: the context is there, Dockerfile included.
    const context = readTree(path.join(stackDir, built[0].build.context));
    expect(Object.keys(context).sort()).toEqual([
      "Dockerfile",
      "opt/creatio-farm/appsettings.farm.json",
      "opt/creatio-farm/configure-web-farm.sh",
      "opt/creatio-farm/entrypoint.sh",
      "opt/creatio-farm/merge-appsettings.awk",
      "opt/creatio-farm/patch-webhost-config.awk",
    ]);
    expect(fs.statSync(path.join(stackDir, built[0].build.context, "opt/creatio-farm/entrypoint.sh")).mode & 0o111).not.toBe(0);
    // A setting that reaches the image changes its tag, so Terraform builds a new image and replaces the nodes.
    const other = tracked(project({ "dev.yaml": DEV.replace("tenantId: 1", "tenantId: 2") }));
    synthOk(other);
    const otherImages = JSON.parse(fs.readFileSync(path.join(other.outdir, "stacks/dev/cdk.tf.json"), "utf8")).resource.docker_image;
    const otherTag = Object.values<any>(otherImages).find((i) => i.build).name;
    expect(otherTag).not.toBe(built[0].name);
    expect(readTree(path.join(other.outdir, "stacks/dev/images/creatio")).Dockerfile).toContain("CREATIO_TENANT_ID=2");
  });

  test("no secret value and no internal placeholder is written", () => {
    const p = tracked(project());
    synthOk(p);
    const tree = readTree(p.outdir);
    const all = Object.values(tree).join("\n");
    expect(all).not.toContain("@@secret:");
    expect(tree["stacks/dev/files/dev-creatio-node-1/app/ConnectionStrings.config"]).toContain("password=[secret:database-password];");
  });

  test("changing one node's weight changes the balancer's config job only: the balancer itself is not replaced", () => {
    const before = tracked(project());
    const after = tracked(project({ "dev.yaml": DEV.replace("{ name: node-2, weight: 1 }", "{ name: node-2, weight: 3 }") }));
    synthOk(before);
    synthOk(after);
    const { changed, added, removed } = resourceDiff(before, after);
    expect(changed).toEqual([expect.stringMatching(/^docker_container\.balancer_config-job_\w+$/)]);
    expect([...added, ...removed]).toEqual([]);
  });

  test("adding a node adds its resources and changes the balancer's config job, and nothing else: no running node or balancer is replaced", () => {
    const before = tracked(project());
    const after = tracked(project({ "dev.yaml": DEV.replace("    - { name: node-2, weight: 1 }\n", "    - { name: node-2, weight: 1 }\n    - { name: node-3, weight: 1 }\n") }));
    synthOk(before);
    synthOk(after);
    const { changed, added, removed } = resourceDiff(before, after);
    expect(changed).toEqual([expect.stringMatching(/^docker_container\.balancer_config-job_\w+$/)]);
    expect(added).toEqual([
      expect.stringMatching(/^docker_container\.creatio_node-3_container_\w+$/),
      expect.stringMatching(/^docker_volume\.creatio_node-3_logs_\w+$/),
    ]);
    expect(removed).toEqual([]);
  });

  test("re-synth replaces generated files, drops removed stacks and keeps what Terraform put beside them", () => {
    const p = tracked(project({ "dev.yaml": DEV, "qa.yaml": besideDev(DEV) }));
    synthOk(p);
    const qaCache = path.join(p.outdir, "stacks/qa/.terraform/providers.txt");
    fs.mkdirSync(path.dirname(qaCache), { recursive: true });
    fs.writeFileSync(qaCache, "provider cache");
    fs.writeFileSync(path.join(p.outdir, "stacks/dev/files/leftover.txt"), "stale");
    // WHEN qa is removed from config/
    fs.rmSync(path.join(p.configDir, "qa.yaml"));
    synthOk(p);
    // THEN its generated files are gone, its Terraform cache is not, and dev holds no stale file
    expect(fs.existsSync(path.join(p.outdir, "stacks/qa/cdk.tf.json"))).toBe(false);
    expect(fs.existsSync(path.join(p.outdir, "stacks/qa/files"))).toBe(false);
    expect(fs.existsSync(path.join(p.outdir, "stacks/qa/images"))).toBe(false);
    expect(fs.readFileSync(qaCache, "utf8")).toBe("provider cache");
    expect(fs.existsSync(path.join(p.outdir, "stacks/dev/files/leftover.txt"))).toBe(false);
    expect(fs.existsSync(path.join(p.outdir, "stacks/dev/cdk.tf.json"))).toBe(true);
  });
});

describe("bad input", () => {
  test("exit code 1, one line per problem, no stack trace, cdktf.out exactly as it was", () => {
    // GIVEN a previous good synth and a config that has since gone bad in two places
    const p = tracked(project());
    synthOk(p);
    const before = readTree(p.outdir);
    fs.writeFileSync(
      path.join(p.configDir, "dev.yaml"),
      DEV.replace("weight: 1 }", "weight: heavy }").replace("tenantId: 1", "tenantId: 1\n  nodez: []"),
    );
    const out: string[] = [];
    const err: string[] = [];
    // WHEN
    const code = runCli({ configDir: p.configDir, outdir: p.outdir }, { out: (l) => out.push(l), err: (l) => err.push(l) });
    // THEN
    const file = path.join(p.configDir, "dev.yaml");
    expect(code).toBe(1);
    expect(err).toEqual([
      `${file}:6 creatio.nodez: unknown key; expected one of: image, tenantId, httpPort, appDir, resources, nodes`,
      `${file}:9 creatio.nodes[1].weight: expected an integer 1..256, got "heavy"`,
      `synth: 2 problem(s); nothing was written to ${p.outdir}/`,
    ]);
    expect(err.join("\n")).not.toMatch(/\n\s+at /);
    expect(out).toEqual([]);
    expect(readTree(p.outdir)).toEqual(before);
    expect(fs.readdirSync(p.dir).sort()).toEqual(["cdktf.out", "config"]); // no staging folder left behind
  });

});
