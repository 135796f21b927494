/**
 * The command line and the config folder as a platform team uses them: several environments, one Docker host or
 * several, a selection of environments, files that are not environments, the cdktf CLI's path, and the review
 * summary printed after each synth.
 */
import * as fs from "fs";
import * as path from "path";
import { main, synthFarm } from "../../main";
import { besideDev, readTree, REPO, tempDir } from "../support/farm";

const DEV = fs.readFileSync(path.join(REPO, "__tests__/fixtures/environments/dev.yaml"), "utf8");
const STAGING = besideDev(DEV);

const cleanup: string[] = [];
afterEach(() => cleanup.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function project(files: Record<string, string>): { dir: string; configDir: string; outdir: string } {
  const dir = tempDir("cli");
  cleanup.push(dir);
  const configDir = path.join(dir, "config");
  fs.mkdirSync(configDir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(configDir, name), text);
  return { dir, configDir, outdir: path.join(dir, "cdktf.out") };
}

/** Runs `main` with the project as working directory; its exit code and what it printed. */
function run(p: { dir: string }, argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const cwd = process.cwd();
  process.chdir(p.dir);
  try {
    const code = main(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  } finally {
    process.chdir(cwd);
  }
}

describe("environments on one Docker host", () => {
  test("a copy of dev with the same subnets and ports is refused, naming both files, lines and keys", () => {
    const p = project({ "dev.yaml": DEV, "staging.yaml": DEV });
    const { code, err } = run(p, []);
    expect(code).toBe(1);
    expect(err).toEqual([
      "config/dev.yaml:1 network.appSubnet: 172.30.10.0/24 overlaps 172.30.10.0/24 of config/staging.yaml:1 network.appSubnet; environments on the default Docker host (DOCKER_HOST, or the local socket) need subnets of their own",
      "config/dev.yaml:1 network.dataSubnet: 172.30.11.0/24 overlaps 172.30.11.0/24 of config/staging.yaml:1 network.dataSubnet; environments on the default Docker host (DOCKER_HOST, or the local socket) need subnets of their own",
      "config/dev.yaml:11 balancer.httpPort: host port 0.0.0.0:80 is also published by config/staging.yaml:11 balancer.httpPort (0.0.0.0:80) on the default Docker host (DOCKER_HOST, or the local socket); give one of them another port or address",
      "config/dev.yaml:13 balancer.stats.port: host port 127.0.0.1:9000 is also published by config/staging.yaml:13 balancer.stats.port (127.0.0.1:9000) on the default Docker host (DOCKER_HOST, or the local socket); give one of them another port or address",
      "synth: 4 problem(s); nothing was written to cdktf.out/",
    ]);
    expect(fs.existsSync(p.outdir)).toBe(false);
  });

  test("with subnets and ports of its own it synthesizes; on another Docker host even the same ones do", () => {
    expect(synthFarm(project({ "dev.yaml": DEV, "staging.yaml": STAGING })).ok).toBe(true);
    const elsewhere = `docker: { host: "ssh://deploy@docker-2.example.com" }\n${DEV}`;
    const p = project({ "dev.yaml": DEV, "staging.yaml": elsewhere });
    expect(synthFarm(p).ok).toBe(true);
    const provider = JSON.parse(fs.readFileSync(path.join(p.outdir, "stacks/staging/cdk.tf.json"), "utf8")).provider.docker;
    expect(provider).toEqual([{ host: "ssh://deploy@docker-2.example.com" }]);
  });

  test.each([
    ["ssh://deploy@docker-2.example.com", "ssh://ops@DOCKER-2.example.com:22"],
    ["unix:///var/run/docker.sock", undefined],
  ])("%s and %s are one Docker host: the same subnets clash", (a, b) => {
    const on = (host: string | undefined, text: string) => (host ? `docker: { host: "${host}" }\n${text}` : text);
    const { code, err } = run(project({ "dev.yaml": on(a, DEV), "staging.yaml": on(b, DEV) }), []);
    expect(code).toBe(1);
    expect(err[0]).toMatch(/network\.appSubnet: 172\.30\.10\.0\/24 overlaps/);
  });

  test("0.0.0.0 takes the port on every address: another environment on 127.0.0.1 with that port clashes", () => {
    const loopback = STAGING.replace("httpPort: 8081\n", "httpPort: 80\n  bindAddress: 127.0.0.1\n");
    const { err } = run(project({ "dev.yaml": DEV, "staging.yaml": loopback }), []);
    expect(err.slice(0, -1)).toEqual([expect.stringMatching(/^config\/dev\.yaml:11 balancer\.httpPort: host port 0\.0\.0\.0:80 is also published by config\/staging\.yaml:\d+ balancer\.httpPort \(127\.0\.0\.1:80\)/)]);
  });

  test.each([
    ["tcp://docker-1.example.com:2375", "port 2375 is Docker's unencrypted API"],
    ["tcp://docker-1.example.com:02375", "port 2375 is Docker's unencrypted API"],
    ["https://docker-1.example.com", "expected unix:///path, ssh://user@host[:port] or tcp://host:port"],
  ])("docker.host %s is refused: %s", (host, message) => {
    const result = synthFarm(project({ "dev.yaml": `docker: { host: "${host}" }\n${DEV}` }));
    expect(result.ok ? [] : result.errors).toEqual([expect.stringContaining(`config/dev.yaml:1 docker.host: ${message}`)]);
  });
});

describe("the command line", () => {
  test("npm run synth -- staging synthesizes staging only: dev's output is left exactly as it was", () => {
    const p = project({ "dev.yaml": DEV, "staging.yaml": STAGING });
    expect(run(p, []).code).toBe(0);
    const devBefore = readTree(path.join(p.outdir, "stacks/dev"));
    // WHEN dev changes in config/ but only staging is synthesized
    fs.writeFileSync(path.join(p.configDir, "dev.yaml"), DEV.replace("weight: 2", "weight: 3"));
    fs.writeFileSync(path.join(p.configDir, "staging.yaml"), STAGING.replace("tenantId: 1", "tenantId: 2"));
    const { code, out } = run(p, ["staging"]);
    // THEN
    expect(code).toBe(0);
    expect(out).toEqual([
      "staging: 2 containers replaced (creatio-node-1: image; creatio-node-2: image)",
      "synth: staging → cdktf.out/stacks/",
    ]);
    expect(readTree(path.join(p.outdir, "stacks/dev"))).toEqual(devBefore);
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(p.outdir, "manifest.json"), "utf8")).stacks)).toEqual(["dev", "staging"]);
  });

  test("a broken environment does not block synthesizing another one by name", () => {
    const p = project({ "dev.yaml": DEV, "staging.yaml": "creatio: nope\n" });
    expect(run(p, ["dev"]).code).toBe(0);
    expect(run(p, []).code).toBe(1);
  });

  test.each([
    [["--help"], 0, /^usage: npm run synth -- \[environment \.\.\.\]$/],
    [["-h"], 0, /^usage:/],
    [["--force"], 2, /^synth: unknown option --force \(see --help\)$/],
    [["qa"], 1, /^synth: no environment "qa" in config\/ \(there: dev\)$/],
    [["Dev!"], 2, /^synth: "Dev!" is not an environment name/],
  ])("%j → exit %d", (argv, exit, line) => {
    const p = project({ "dev.yaml": DEV });
    const { code, out, err } = run(p, argv);
    expect(code).toBe(exit);
    expect([...out, ...err][0]).toMatch(line);
    if (exit !== 0) expect(fs.existsSync(p.outdir)).toBe(false);
  });
});

describe("the config folder", () => {
  test("a .yml file is an environment like a .yaml one; the same name twice is an error naming both", () => {
    expect(synthFarm(project({ "dev.yml": DEV })).ok).toBe(true);
    const { code, err } = run(project({ "dev.yaml": DEV, "dev.yml": DEV }), []);
    expect(code).toBe(1);
    expect(err[0]).toBe('config/dev.yml: environment "dev" is also written as config/dev.yaml; keep one of the two files');
  });

  test("a folder named like an environment is an error, not an internal one", () => {
    const p = project({ "dev.yaml": DEV });
    fs.mkdirSync(path.join(p.configDir, "old.yaml"));
    const { code, err } = run(p, []);
    expect(code).toBe(1);
    expect(err[0]).toBe("config/old.yaml: is a folder, not an environment file; move it out of config/");
  });

  test("every other file gets a warning, and the schema none", () => {
    const p = project({ "dev.yaml": DEV, "notes.txt": "x", "creatio-farm.schema.json": "{}", "dev.yaml.bak": "x" });
    const { code, err } = run(p, []);
    expect(code).toBe(0);
    expect(err).toEqual([
      "warning: config/dev.yaml.bak: not an environment (<env>.yaml) or the schema; ignored",
      "warning: config/notes.txt: not an environment (<env>.yaml) or the schema; ignored",
    ]);
  });

  test("YAML merge keys share a block; top-level x- keys hold the anchors", () => {
    const shared = [
      "x-node: &node { weight: 2 }",
      "x-images: &redis { image: redis:7.2 }",
      "creatio:",
      "  image: registry.example.com/creatio-net8:8.3.1",
      "  nodes:",
      "    - { <<: *node, name: node-1 }",
      "    - { <<: *node, name: node-2, weight: 1 }",
      "balancer: { image: haproxy:3.0 }",
      "redis: { <<: *redis, db: 1 }",
      "database: { image: postgres:16 }",
      "",
    ].join("\n");
    const p = project({ "dev.yaml": shared });
    expect(synthFarm(p).ok).toBe(true);
    const cfg = fs.readFileSync(path.join(p.outdir, "stacks/dev/files/dev-haproxy-config/opt/creatio-farm/staged/haproxy.cfg"), "utf8");
    expect(cfg).toMatch(/server node-1 [^\n]* weight 2 /);
    expect(cfg).toMatch(/server node-2 [^\n]* weight 1 /);
  });
});

describe("under the cdktf CLI (CDKTF_OUTDIR set, no arguments)", () => {
  test("a clash between two environments writes nothing and fails: neither is removed on account of the other", () => {
    const p = project({ "dev.yaml": DEV, "staging.yaml": STAGING });
    expect(run(p, []).code).toBe(0);
    const before = readTree(p.outdir);
    fs.writeFileSync(path.join(p.configDir, "staging.yaml"), STAGING.replace("httpPort: 8081\n", "httpPort: 80\n"));
    const { code, err } = run(p, [], { CDKTF_OUTDIR: p.outdir });
    expect(code).toBe(1);
    expect(err[0]).toMatch(/^config\/dev\.yaml:11 balancer\.httpPort: host port 0\.0\.0\.0:80 is also published by config\/staging\.yaml/);
    expect(readTree(p.outdir)).toEqual(before);
  });

  test("every environment broken: a failure, though each problem is printed", () => {
    const p = project({ "dev.yaml": "creatio: nope\n" });
    const { code, err } = run(p, [], { CDKTF_OUTDIR: p.outdir });
    expect(code).toBe(1);
    expect(err[0]).toMatch(/^config\/dev\.yaml:1 creatio: expected a mapping/);
  });

  test("a broken environment is left out and reported once; the others are synthesized; its old output is removed", () => {
    const p = project({ "dev.yaml": DEV, "staging.yaml": STAGING });
    expect(run(p, []).code).toBe(0);
    fs.writeFileSync(path.join(p.configDir, "staging.yaml"), STAGING.replace("tenantId: 1", "tenantId: x"));
    const { code, out, err } = run(p, [], { CDKTF_OUTDIR: p.outdir });
    expect(code).toBe(0);
    expect(err).toEqual([
      `config/staging.yaml:6 creatio.tenantId: expected an integer 1..2147483647, got "x"`,
      "synth: 1 problem(s); the environments they name were left out",
    ]);
    expect(out).toEqual(["staging: removed from cdktf.out/", "dev: no change", `synth: dev → ${p.outdir}/stacks/`]);
    expect(fs.existsSync(path.join(p.outdir, "stacks/staging/cdk.tf.json"))).toBe(false);
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(p.outdir, "manifest.json"), "utf8")).stacks)).toEqual(["dev"]);
  });
});

describe("the review summary", () => {
  test("one line per stack: a weight change replaces the config job for haproxy.cfg; a new node is added; a new stack says what it has", () => {
    const p = project({ "dev.yaml": DEV });
    expect(run(p, []).out).toEqual(["dev: new (7 containers, 2 networks, 8 volumes; ports 0.0.0.0:80, 127.0.0.1:9000)", "synth: dev → cdktf.out/stacks/"]);
    fs.writeFileSync(path.join(p.configDir, "dev.yaml"), DEV.replace("weight: 2", "weight: 3"));
    expect(run(p, []).out[0]).toBe("dev: 1 container replaced (haproxy-config: haproxy.cfg)");
    fs.writeFileSync(path.join(p.configDir, "dev.yaml"), DEV.replace("weight: 2", "weight: 3").replace("    - { name: node-2, weight: 1 }\n", "    - { name: node-2, weight: 1 }\n    - { name: node-3 }\n"));
    expect(run(p, []).out[0]).toBe("dev: 1 container replaced (haproxy-config: haproxy.cfg), 1 added (creatio-node-3), volumes +dev-creatio-node-3-logs");
    fs.writeFileSync(path.join(p.configDir, "dev.yaml"), DEV.replace("httpPort: 80\n", "httpPort: 8080\n"));
    expect(run(p, []).out[0]).toBe(
      "dev: 2 containers replaced (haproxy: ports; haproxy-config: haproxy.cfg), 1 removed (creatio-node-3), volumes -dev-creatio-node-3-logs, ports +0.0.0.0:8080 -0.0.0.0:80",
    );
    expect(run(p, []).out[0]).toBe("dev: no change");
  });

  test("a container whose upload refers to a changed generated resource is reported replaced for it", () => {
    const tls = DEV.replace("redis: { image: redis:7.2, db: 0 }", "redis: { image: redis:7.2, db: 0, tls: { enabled: true } }");
    const p = project({ "dev.yaml": tls });
    expect(run(p, []).code).toBe(0);
    fs.writeFileSync(path.join(p.configDir, "dev.yaml"), tls.replace("tls: { enabled: true }", "tls: { enabled: true, certificateDays: 400 }"));
    expect(run(p, []).out[0]).toBe("dev: 1 container replaced (redis: tls_locally_signed_cert secrets_redis-tls_server)");
  });

  test("a full synth drops a stack the manifest still lists though its folder is gone", () => {
    const p = project({ "dev.yaml": DEV, "staging.yaml": STAGING });
    expect(run(p, []).code).toBe(0);
    fs.rmSync(path.join(p.configDir, "staging.yaml"));
    fs.rmSync(path.join(p.outdir, "stacks/staging"), { recursive: true });
    expect(run(p, []).out).toEqual(["staging: removed from cdktf.out/", "dev: no change", "synth: dev → cdktf.out/stacks/"]);
    expect(Object.keys(JSON.parse(fs.readFileSync(path.join(p.outdir, "manifest.json"), "utf8")).stacks)).toEqual(["dev"]);
  });
});
