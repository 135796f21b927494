/** entrypoint.sh, the patch step as a node runs it at start (and the image build runs it), under dash and busybox sh. */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
  ASSETS,
  ENTRYPOINT,
  FIXTURE_CONFIG,
  FIXTURE_APPSETTINGS,
  INSTALL_HINT,
  requireTool,
  newTmpDir,
  lineDiff,
  EXPECTED_REMOVED,
  EXPECTED_ADDED,
  FORWARDED_OVERLAY,
  overlayText,
  parseJson,
  BASE,
} from "./support/patch-step";

interface Shell {
  readonly name: string;
  readonly cmd: string;
  readonly pre: readonly string[];
  /** CREATIO_AWK for this run; busybox sh is paired with busybox awk (Alpine-like image). */
  readonly awk?: string;
}
const SHELLS: readonly Shell[] = [
  { name: "dash", cmd: "dash", pre: [] },
  { name: "busybox sh", cmd: "busybox", pre: ["sh"], awk: "busybox awk" },
];

describe.each(SHELLS)("entrypoint.sh under $name", (shell) => {
  const CMD = ["sh", "-c", 'echo started "$$" "$@"', "sh", "a", "b c"];

  beforeAll(() => requireTool(shell.name, shell.cmd, [...shell.pre, "-c", "exit 0"]));

  function stage(opts: { config?: string | null; appsettings?: Buffer | null } = {}): { app: string; farm: string } {
    const root = newTmpDir("e");
    const app = path.join(root, "app");
    const farm = path.join(root, "farm");
    fs.mkdirSync(app, { recursive: true });
    fs.mkdirSync(farm, { recursive: true });
    for (const f of ["patch-webhost-config.awk", "merge-appsettings.awk"]) fs.copyFileSync(path.join(ASSETS, f), path.join(farm, f));
    fs.writeFileSync(path.join(farm, "appsettings.farm.json"), overlayText(FORWARDED_OVERLAY));
    const config = opts.config === undefined ? FIXTURE_CONFIG : opts.config;
    if (config !== null) fs.writeFileSync(path.join(app, "Terrasoft.WebHost.dll.config"), config, { mode: 0o640 });
    const appsettings = opts.appsettings === undefined ? FIXTURE_APPSETTINGS : opts.appsettings;
    if (appsettings !== null) fs.writeFileSync(path.join(app, "appsettings.json"), appsettings);
    return { app, farm };
  }

  function entrypoint(
    dirs: { app: string; farm: string },
    tenant: string | undefined,
    cmd: readonly string[] = CMD,
    extraEnv: Record<string, string> = {},
  ): SpawnSyncReturns<Buffer> {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("CREATIO_")) env[k] = v;
    Object.assign(env, extraEnv);
    env.CREATIO_APP_DIR = dirs.app;
    env.CREATIO_FARM_DIR = dirs.farm;
    if (tenant !== undefined) env.CREATIO_TENANT_ID = tenant;
    if (shell.awk) env.CREATIO_AWK = shell.awk;
    const r = spawnSync(shell.cmd, [...shell.pre, ENTRYPOINT, ...cmd], { env });
    if (r.error) throw new Error(`${shell.name} could not be run (${r.error.message}); ${INSTALL_HINT}`);
    return r;
  }

  const snapshot = (dir: string): Record<string, string> =>
    Object.fromEntries(fs.readdirSync(dir).sort().map((f) => [f, fs.readFileSync(path.join(dir, f)).toString("base64")]));

  it("GIVEN the script WHEN syntax-checked with -n THEN it parses", () => {
    const r = spawnSync(shell.cmd, [...shell.pre, "-n", ENTRYPOINT]);
    expect(r.stderr.toString()).toBe("");
    expect(r.status).toBe(0);
  });

  describe("GIVEN a container start with CREATIO_TENANT_ID=7", () => {
    let dirs: { app: string; farm: string };
    let first: SpawnSyncReturns<Buffer>;
    beforeAll(() => {
      dirs = stage();
      first = entrypoint(dirs, "7");
    });

    it("WHEN it runs THEN it patches both files, reports each on stderr and execs the command (same PID, args intact)", () => {
      expect(first.status).toBe(0);
      expect(first.stdout.toString()).toBe(`started ${first.pid} a b c\n`);
      const err = first.stderr.toString();
      expect(err).toMatch(/^creatio-farm: .*\/Terrasoft\.WebHost\.dll\.config patched$/m);
      expect(err).toMatch(/^creatio-farm: .*\/appsettings\.json patched$/m);
      expect(err.trim().split("\n")).toHaveLength(2);
    });

    it("WHEN it runs THEN the files hold the patched content, keep their mode and no temp file is left", () => {
      const config = fs.readFileSync(path.join(dirs.app, "Terrasoft.WebHost.dll.config"));
      expect(lineDiff(FIXTURE_CONFIG, config.toString("utf8"))).toEqual({ removed: EXPECTED_REMOVED, added: EXPECTED_ADDED });
      expect(fs.statSync(path.join(dirs.app, "Terrasoft.WebHost.dll.config")).mode & 0o777).toBe(0o640);
      expect(parseJson(fs.readFileSync(path.join(dirs.app, "appsettings.json")))).toEqual({ ...BASE, ...FORWARDED_OVERLAY });
      expect(fs.readdirSync(dirs.app).sort()).toEqual(["Terrasoft.WebHost.dll.config", "appsettings.json"]);
    });

    it("WHEN it runs a second time THEN both files are reported unchanged and keep their bytes and mtime", () => {
      const old = new Date("2001-02-03T04:05:06Z");
      for (const f of fs.readdirSync(dirs.app)) fs.utimesSync(path.join(dirs.app, f), old, old);
      const before = snapshot(dirs.app);
      const second = entrypoint(dirs, "7");
      expect(second.status).toBe(0);
      expect(second.stdout.toString()).toMatch(/^started \d+ a b c\n$/);
      const err = second.stderr.toString();
      expect(err).toMatch(/^creatio-farm: .*\/Terrasoft\.WebHost\.dll\.config unchanged$/m);
      expect(err).toMatch(/^creatio-farm: .*\/appsettings\.json unchanged$/m);
      expect(err).not.toMatch(/patched/);
      expect(snapshot(dirs.app)).toEqual(before);
      for (const f of fs.readdirSync(dirs.app)) expect(fs.statSync(path.join(dirs.app, f)).mtime.getTime()).toBe(old.getTime());
    });
  });

  describe.each([
    ["CREATIO_TENANT_ID is unset", undefined],
    ["CREATIO_TENANT_ID is 0", "0"],
    ["CREATIO_TENANT_ID is not an integer", "1; echo injected"],
  ])("GIVEN %s", (_label, tenant) => {
    it("WHEN it runs THEN it exits non-zero with a creatio-farm: message, does not run the command and touches nothing", () => {
      const dirs = stage();
      const before = snapshot(dirs.app);
      const r = entrypoint(dirs, tenant);
      expect(r.status).not.toBe(0);
      expect(r.stdout.toString()).toBe("");
      expect(r.stderr.toString()).toMatch(/^creatio-farm: .*CREATIO_TENANT_ID/m);
      expect(snapshot(dirs.app)).toEqual(before);
    });
  });

  describe("GIVEN a portal node's environment (CREATIO_AUTH_PROVIDERS, CREATIO_SAU_PASSWORD_FILE)", () => {
    it("WHEN it starts THEN only the portal provider signs users in and the SAU password is the generated one", () => {
      const dirs = stage();
      const sau = path.join(dirs.farm, "user-management-sau-password");
      fs.writeFileSync(sau, "Gen3ratedSauPassw0rd");
      const r = entrypoint(dirs, "1", CMD, { CREATIO_AUTH_PROVIDERS: "SSPUserPassword", CREATIO_SAU_PASSWORD_FILE: sau });
      expect(r.stderr.toString()).not.toMatch(/refusing/);
      expect(r.status).toBe(0);
      const config = fs.readFileSync(path.join(dirs.app, "Terrasoft.WebHost.dll.config"), "utf8");
      expect(config).toContain(`<auth providerNames="SSPUserPassword" autoLoginProviderNames="" `);
      expect(config).toContain(`<add key="UserManagementSauPassword" value="Gen3ratedSauPassw0rd" />`);
    });

    it("WHEN the providers name one the file does not define THEN the node does not start", () => {
      const r = entrypoint(stage(), "1", CMD, { CREATIO_AUTH_PROVIDERS: "SSPLdapProvider" });
      expect(r.status).not.toBe(0);
      expect(r.stdout.toString()).toBe("");
      expect(r.stderr.toString()).toMatch(/auth provider SSPLdapProvider is not defined/);
    });
  });

  describe("GIVEN a Terrasoft.WebHost.dll.config without <quartzConfig>", () => {
    it("WHEN it runs THEN it fails closed: non-zero, command not run, file untouched, no temp file left", () => {
      const dirs = stage({ config: FIXTURE_CONFIG.replace(/ {2}<quartzConfig [\s\S]*<\/quartzConfig>\n/, "") });
      const before = snapshot(dirs.app);
      const r = entrypoint(dirs, "7");
      expect(r.status).not.toBe(0);
      expect(r.stdout.toString()).toBe("");
      expect(r.stderr.toString()).toMatch(/^creatio-farm: no <quartzConfig>/m);
      expect(snapshot(dirs.app)).toEqual(before);
    });
  });

  describe("GIVEN a Terrasoft.WebHost.dll.config whose Application data store is not on Redis", () => {
    it("WHEN it runs THEN it fails closed: a node with its own application store would serve stale data", () => {
      const dirs = stage({ config: FIXTURE_CONFIG.replace("Terrasoft.Redis.ApplicationDataRedisStore", "Terrasoft.Core.Store.ApplicationDataStore") });
      const before = snapshot(dirs.app);
      const r = entrypoint(dirs, "7");
      expect(r.status).not.toBe(0);
      expect(r.stdout.toString()).toBe("");
      expect(r.stderr.toString()).toMatch(/^creatio-farm: storeDataAdapters\/Application store adapter is Terrasoft\.Core\.Store\.ApplicationDataStore/m);
      expect(snapshot(dirs.app)).toEqual(before);
    });
  });

  describe("GIVEN CREATIO_DATA_PROTECTION_KEYS", () => {
    const keyXml = (expires: string) => `<key id="00000000-0000-0000-0000-000000000001" version="1">\n  <expirationDate>${expires}</expirationDate>\n</key>\n`;
    const FUTURE = "2999-01-01T00:00:00.0000000Z";
    function withKeys(keys: Record<string, string>, seed: Record<string, string> = {}) {
      const dirs = stage();
      const keysDir = path.join(dirs.app, "..", "keys");
      fs.mkdirSync(keysDir);
      for (const [name, text] of Object.entries(keys)) fs.writeFileSync(path.join(keysDir, name), text);
      if (Object.keys(seed).length) fs.mkdirSync(path.join(dirs.farm, "data-protection-seed"));
      for (const [name, text] of Object.entries(seed)) fs.writeFileSync(path.join(dirs.farm, "data-protection-seed", name), text);
      return { dirs, keysDir, run: () => entrypoint(dirs, "7", CMD, { CREATIO_DATA_PROTECTION_KEYS: keysDir }) };
    }

    it("WHEN the key directory holds an active key THEN the node starts without a word about it", () => {
      const r = withKeys({ "key-1.xml": keyXml(FUTURE) }).run();
      expect(r.status).toBe(0);
      expect(r.stderr.toString()).not.toMatch(/DataProtection|key ring/);
    });

    it("WHEN the key directory is empty THEN it is seeded from the image's ring (each file by a rename) and the node starts", () => {
      const { keysDir, run } = withKeys({}, { "key-a.xml": keyXml(FUTURE), "key-b.xml": keyXml(FUTURE) });
      const r = run();
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toMatch(/^started /);
      expect(r.stderr.toString()).toMatch(/^creatio-farm: .*keys seeded with the key ring of the image$/m);
      expect(fs.readdirSync(keysDir).sort()).toEqual(["key-a.xml", "key-b.xml"]);
      // a second start finds the ring and leaves it alone
      const again = run();
      expect(again.status).toBe(0);
      expect(again.stderr.toString()).not.toMatch(/seeded/);
    });

    it("WHEN neither the key directory nor the image holds a key THEN it fails closed: each node would make its own ring", () => {
      const r = withKeys({}).run();
      expect(r.status).not.toBe(0);
      expect(r.stdout.toString()).toBe("");
      expect(r.stderr.toString()).toMatch(/^creatio-farm: no DataProtection key in .*keys and none in .*data-protection-seed; refusing to start/m);
    });

    it("WHEN every key has expired THEN the node starts, with a warning that the nodes will make new keys of their own", () => {
      const r = withKeys({ "key-1.xml": keyXml("2020-01-01T00:00:00.0000000Z") }).run();
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toMatch(/^started /);
      expect(r.stderr.toString()).toMatch(/^creatio-farm: warning: every DataProtection key in .*keys has expired/m);
    });
  });

  describe("GIVEN no Terrasoft.WebHost.dll.config at all", () => {
    it("WHEN it runs THEN it fails closed without running the command", () => {
      const r = entrypoint(stage({ config: null }), "7");
      expect(r.status).not.toBe(0);
      expect(r.stdout.toString()).toBe("");
      expect(r.stderr.toString()).toMatch(/^creatio-farm: .*Terrasoft\.WebHost\.dll\.config not found/m);
    });
  });

  describe("GIVEN no appsettings.json", () => {
    it("WHEN it runs THEN appsettings.json is created from the overlay, and a second run leaves it unchanged", () => {
      const dirs = stage({ appsettings: null });
      const r = entrypoint(dirs, "7");
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toMatch(/^started /);
      expect(fs.readFileSync(path.join(dirs.app, "appsettings.json"), "utf8")).toBe(overlayText(FORWARDED_OVERLAY));
      const again = entrypoint(dirs, "7");
      expect(again.status).toBe(0);
      expect(again.stderr.toString()).toMatch(/^creatio-farm: .*\/appsettings\.json unchanged$/m);
    });
  });

  describe("GIVEN a later configuration source that would override what the farm sets (read by .NET after appsettings.json)", () => {
    it.each([
      ["appsettings.Production.json setting ForwardedHeaders", { file: ["appsettings.Production.json", `{ "ForwardedHeaders": { "KnownNetworks": ["0.0.0.0/0"] } }\n`] }, /appsettings\.Production\.json sets what the farm sets/],
      ["appsettings.Staging.json reaching in by path", { file: ["appsettings.Staging.json", `{ "ForwardedHeaders:KnownNetworks": ["0.0.0.0/0"] }\n`] }, /appsettings\.Staging\.json sets what the farm sets/],
      ["an environment variable", { env: { ForwardedHeaders__KnownNetworks__0: "0.0.0.0/0" } }, /environment variable ForwardedHeaders__KnownNetworks__0 overrides/],
      ["a prefixed environment variable, any case", { env: { ASPNETCORE_FORWARDEDHEADERS__KNOWNPROXIES__0: "10.0.0.1" } }, /environment variable ASPNETCORE_FORWARDEDHEADERS__KNOWNPROXIES__0 overrides/],
      ["a command-line argument", { args: ["--ForwardedHeaders:KnownNetworks:0=0.0.0.0/0"] }, /command-line argument --ForwardedHeaders:KnownNetworks:0=0\.0\.0\.0\/0 overrides/],
      ["a bare key=value argument", { args: ["forwardedheaders:KnownProxies:0=10.0.0.1"] }, /command-line argument forwardedheaders:KnownProxies:0=10\.0\.0\.1 overrides/],
      ["a --key value argument", { args: ["--ForwardedHeaders:KnownNetworks:0", "0.0.0.0/0"] }, /command-line argument --ForwardedHeaders:KnownNetworks:0 overrides/],
    ] as const)("WHEN %s THEN the node refuses to start", (_, source, message) => {
      const dirs = stage();
      if ("file" in source) fs.writeFileSync(path.join(dirs.app, source.file[0]), source.file[1]);
      const r = entrypoint(dirs, "7", "args" in source ? [...CMD, ...source.args] : CMD, "env" in source ? { ...source.env } : {});
      expect(r.stderr.toString()).toMatch(message);
      expect(r.status).not.toBe(0);
      expect(r.stdout.toString()).not.toMatch(/^started/);
    });

    it("WHEN the other sources set other things THEN the node starts", () => {
      const dirs = stage();
      fs.writeFileSync(path.join(dirs.app, "appsettings.Production.json"), `{ "Logging": { "LogLevel": { "Default": "Warning" } } }\n`);
      const r = entrypoint(dirs, "7", [...CMD, "--Logging:LogLevel:Default=Warning"], { Logging__LogLevel__Default: "Warning", ASPNETCORE_URLS: "http://+:5000" });
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toMatch(/^started /);
    });
  });

  describe("GIVEN no command to exec", () => {
    it("WHEN it runs THEN it fails with a creatio-farm: message and patches nothing", () => {
      const dirs = stage();
      const before = snapshot(dirs.app);
      const r = entrypoint(dirs, "7", []);
      expect(r.status).not.toBe(0);
      expect(r.stderr.toString()).toMatch(/^creatio-farm: no command given/m);
      expect(snapshot(dirs.app)).toEqual(before);
    });
  });
});
