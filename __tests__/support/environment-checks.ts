/**
 * The checks every environment gets, the product's fixtures and the user's config/ alike: it synthesizes, one
 * snapshot per stack and one per file rendered from the environment, and every provisioned file checked by the
 * real program that reads its format. The file model says the format, so a new kind of file gets its check by
 * adding a format here, not by matching file names.
 */
import * as fs from "fs";
import * as path from "path";
import { Testing } from "cdktf";
import { IConstruct } from "constructs";
import { environmentFiles, loadEnvironments } from "../../schema/load";
import { CreatioFarmStack } from "../../app/farm-stack";
import { BuiltImage } from "../../constructs/lib/built-image";
import { FarmContainer } from "../../constructs/lib/farm-container";
import { FileFormat, RenderedFile } from "../../constructs/lib/provisioned-file";
import { toReviewText } from "../../constructs/lib/secret-text";
import { STATS_TEST_HASH } from "./hashes";
import { REPO, tempDir } from "./farm";
import { requireProgram, run } from "./programs";
import { selfSignedCertificate } from "./self-signed";
import { nginxCheck } from "./nginx-check";
import { HOST_HAPROXY_HAS_CLIENT_HS } from "../live/support/loopback";

let certificate = "";

/** Runs a program on the content written to a temp file. */
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

/**
 * The other files of the same container, by the path a config names them at: the file itself, or one staged under
 * another directory with that name (the balancer's config job installs them where haproxy.cfg names them).
 */
type Siblings = (pathInContainer: string) => string;

/** The real program that reads each format, run on every file of that format. */
const CHECKS: Partial<Record<FileFormat, (content: string, siblings: Siblings) => void>> = {
  haproxy: (content, siblings) => {
    // The real certificate and the generated hash exist only on the Docker host: stand-ins of the same form.
    let cfg = content
      .replace("[secret:stats-password-hash]", STATS_TEST_HASH)
      .replace(/ crt \/usr\/local\/etc\/haproxy\/certs\/\S+\.pem /g, ` crt ${certificate} `);
    // The product needs HAProxy 2.8+ for this one line; a Debian 12 host has 2.6. The Docker tier runs the file
    // unchanged on HAProxy 3.0, so here everything else is checked and the line itself only for its form.
    if (!HOST_HAPROXY_HAS_CLIENT_HS) {
      expect(cfg).toMatch(/^    timeout client-hs \d+s$/m);
      cfg = cfg.replace(/^    timeout client-hs \d+s\n/m, "");
    }
    // the Lua task haproxy.cfg loads, rendered for the same environment
    const dir = tempDir("lua");
    try {
      cfg = cfg.replace(/^    lua-load (\S+)$/m, (_, inContainer: string) => {
        const lua = path.join(dir, path.basename(inContainer));
        fs.writeFileSync(lua, siblings(inContainer));
        return `    lua-load ${lua}`;
      });
      // the server state file as the config job leaves it before a first start (the format version)
      cfg = cfg.replace(/^    server-state-file (\S+)$/m, () => {
        const state = path.join(dir, "servers.state");
        fs.writeFileSync(state, "1\n");
        return `    server-state-file ${state}`;
      });
      expect(checkWith("haproxy", "haproxy", (f) => ["-dW", "-c", "-f", f], cfg).output).toContain("Configuration file is valid");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
  nginx: (content) => {
    const result = nginxCheck(content);
    expect([result.status, result.output]).toEqual([0, expect.stringContaining("test is successful")]);
  },
  xml: (content) => {
    const result = checkWith("xmllint", "libxml2-utils", (f) => ["--noout", f], content);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  },
  json: (content) => expect(() => JSON.parse(content)).not.toThrow(),
  sh: (content) => {
    const result = checkWith("sh", "dash", (f) => ["-n", f], content);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  },
};

/** Formats a program cannot check here, and the test file that runs the real program on them instead. */
const CHECKED_ELSEWHERE: Partial<Record<FileFormat, string>> = {
  awk: "__tests__/creatio-nodes/patch-webhost-config.test.ts", // and merge-appsettings: mawk, gawk and busybox awk
  lua: "__tests__/support/environment-checks.ts", // haproxy -c above loads it (lua-load) with the haproxy.cfg beside it
  sql: "__tests__/live/postgres-bootstrap.live.test.ts", // a real PostgreSQL (the restore's two in postgres-restore.live.test.ts)
  redis: "__tests__/live/redis-conf.live.test.ts", // a real redis-server
  pg_hba: "__tests__/live/postgres-bootstrap.live.test.ts", // a real PostgreSQL reloads it
  dockerfile: "__tests__/docker/farm-up.docker.test.ts", // the Docker tier builds it
  text: "", // no program reads it
  secret: "__tests__/docker/data.docker.test.ts", // the image's entrypoint reads it (POSTGRES_PASSWORD_FILE)
};

/** The environments of `configDir`, loaded as synth loads them; a folder that does not load fails with synth's messages. */
export function environmentsOf(configDir: string) {
  const loaded = loadEnvironments(environmentFiles(configDir));
  if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
  return loaded.environments;
}

/** Each format checked elsewhere names a test that exists. */
export function checkedElsewhereExists(): void {
  for (const [format, file] of Object.entries(CHECKED_ELSEWHERE)) {
    if (format !== "text") expect([format, fs.existsSync(path.join(REPO, file))]).toEqual([format, true]);
  }
}

/** Every file an environment provisions, as reviewers read it: `<container><path>` and `images/<context>/<path>`. */
function provisionedFiles(root: IConstruct): Array<{ key: string; file: RenderedFile }> {
  return root.node.findAll().flatMap((c) => {
    if (c instanceof FarmContainer) return c.renderedFiles().map((file) => ({ key: `${c.name}${file.path}`, file }));
    if (c instanceof BuiltImage) return c.contextFiles().map((file) => ({ key: `${c.contextDir}/${file.path}`, file }));
    return [];
  });
}

/** Defines, for every environment of `configDir`, its snapshots and the check of every file it provisions. */
export function describeEnvironments(configDir: string): void {
  const environments = environmentsOf(configDir);
  const workDir = tempDir("environments");
  beforeAll(() => (certificate = selfSignedCertificate(workDir).pem));
  afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));
  describe.each(environments.map((e) => [e.name, e] as const))("environment %s", (name, env) => {
  const stack = new CreatioFarmStack(Testing.app(), name, env.config);
  const json = Testing.synth(stack, true);
  const files = provisionedFiles(stack);

  test("stack snapshot", () => {
    expect(json).toMatchSnapshot();
  });

  test("the files checked here are every container upload and every build context's files", () => {
    const tf = JSON.parse(json);
    const uploads = Object.values<any>(tf.resource.docker_container).flatMap((c) => (c.upload ?? []).map((u: any) => `${c.name}${u.file}`));
    expect(files.filter((f) => !f.key.startsWith("images/")).map((f) => f.key).sort()).toEqual(uploads.sort());
    const contexts = Object.values<any>(tf.resource.docker_image).filter((i) => i.build).map((i) => `${i.build.context}/Dockerfile`);
    expect(contexts.length).toBeGreaterThan(0);
    for (const dockerfile of contexts) expect(files.map((f) => f.key)).toContain(dockerfile);
  });

  test.each(files.filter((f) => f.file.generated).map((f) => [f.key, f] as const))("%s matches its snapshot", (_, { file }) => {
    expect(toReviewText(file.content)).toMatchSnapshot();
  });

  test("every file's format is checked: by a program here or by the test named for it", () => {
    expect(files.filter((f) => !CHECKS[f.file.format] && CHECKED_ELSEWHERE[f.file.format] === undefined).map((f) => `${f.key} (${f.file.format})`)).toEqual([]);
  });

  const checked = files.filter((f) => CHECKS[f.file.format]);
  test.each(checked.map((f) => [f.key, f.file.format, f] as const))("%s (%s) passes its format's check", (_, format, { file }) => {
    const container = _.slice(0, _.indexOf("/"));
    const siblings: Siblings = (p) => {
      const sibling =
        files.find((f) => f.key === `${container}${p}`) ??
        files.find((f) => f.key.startsWith(`${container}/`) && path.posix.basename(f.key) === path.posix.basename(p));
      if (!sibling) throw new Error(`${container} has no file ${p}`);
      return toReviewText(sibling.file.content);
    };
    CHECKS[format]!(toReviewText(file.content), siblings);
  });
});
}
