/**
 * Farm patch step: the awk programs and the POSIX sh entrypoint that patch a Creatio
 * container's Terrasoft.WebHost.dll.config and appsettings.json at start-up.
 *
 * Every awk test runs against mawk, gawk and busybox awk; the entrypoint runs under
 * dash and busybox sh. Missing tools make the tests FAIL (never skip).
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ASSETS = path.resolve(__dirname, "../../constructs/creatio-nodes/assets");
const FIXTURES = path.resolve(__dirname, "../fixtures");
const PATCH_AWK = path.join(ASSETS, "patch-webhost-config.awk");
const MERGE_AWK = path.join(ASSETS, "merge-appsettings.awk");
const ENTRYPOINT = path.join(ASSETS, "entrypoint.sh");

const FIXTURE_CONFIG = fs.readFileSync(path.join(FIXTURES, "Terrasoft.WebHost.dll.config"), "utf8");
const FIXTURE_CONFIG_NO_TENANT = fs.readFileSync(path.join(FIXTURES, "Terrasoft.WebHost.no-tenant.dll.config"), "utf8");
const FIXTURE_APPSETTINGS = fs.readFileSync(path.join(FIXTURES, "appsettings.json"));

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const INSTALL_HINT = "install the missing tools: apt-get install gawk busybox (and mawk, libxml2-utils, dash if absent)";

interface Awk {
  readonly name: string;
  readonly cmd: string;
  readonly pre: readonly string[];
}
const AWKS: readonly Awk[] = [
  { name: "mawk", cmd: "mawk", pre: [] },
  { name: "gawk", cmd: "gawk", pre: [] },
  { name: "busybox awk", cmd: "busybox", pre: ["awk"] },
];

const toolCache = new Map<string, boolean>();
function toolWorks(cmd: string, args: readonly string[]): boolean {
  const key = JSON.stringify([cmd, ...args]);
  let ok = toolCache.get(key);
  if (ok === undefined) {
    const r = spawnSync(cmd, [...args], { stdio: "ignore" });
    ok = !r.error && r.status === 0;
    toolCache.set(key, ok);
  }
  return ok;
}

function requireTool(label: string, cmd: string, args: readonly string[]): void {
  if (!toolWorks(cmd, args)) throw new Error(`${label} is required by the farm patch-step tests but is not usable; ${INSTALL_HINT}`);
}

function requireAwk(awk: Awk): void {
  requireTool(awk.name, awk.cmd, [...awk.pre, "BEGIN { exit 0 }"]);
}

let tmpRoot = "";
let tmpSeq = 0;
beforeAll(() => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-patch-"));
});
afterAll(() => {
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
});

function writeTmp(name: string, content: string | Buffer): string {
  const dir = path.join(tmpRoot, `f${++tmpSeq}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

function runAwk(awk: Awk, args: readonly string[]): Run {
  // A UTF-8 locale is the harder case for gawk (multibyte string functions); the
  // entrypoint itself runs awk with LC_ALL=C.
  const r = spawnSync(awk.cmd, [...awk.pre, ...args], { env: { ...process.env, LC_ALL: "C.UTF-8" } });
  if (r.error) throw new Error(`${awk.name} could not be run (${r.error.message}); ${INSTALL_HINT}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString("utf8") };
}

function patchConfig(awk: Awk, content: string | Buffer, tenantId = "7", extra: readonly string[] = []): Run {
  return runAwk(awk, ["-v", `tenant_id=${tenantId}`, ...extra, "-f", PATCH_AWK, writeTmp("Terrasoft.WebHost.dll.config", content)]);
}

function mergeAppsettings(awk: Awk, overlay: string | Buffer, target: string | Buffer): Run {
  return runAwk(awk, ["-f", MERGE_AWK, writeTmp("appsettings.farm.json", overlay), writeTmp("appsettings.json", target)]);
}

/**
 * Evaluates several XPath expressions with one `xmllint --noout --xpath` call (which
 * also fails on any well-formedness error) and returns their string values.
 */
function xpath(xml: Buffer, exprs: readonly string[]): string[] {
  const file = writeTmp("x.config", xml);
  const parts = exprs.map((e) => `string(${e})`);
  const joined = parts.length === 1 ? parts[0] : `concat(${parts.join(", '|', ")})`;
  const r = spawnSync("xmllint", ["--noout", "--xpath", joined, file]);
  if (r.error) throw new Error(`xmllint could not be run (${r.error.message}); ${INSTALL_HINT}`);
  expect(r.stderr.toString()).toBe("");
  expect(r.status).toBe(0);
  return r.stdout.toString("utf8").trim().split("|");
}

function xmllintNoout(xml: Buffer): SpawnSyncReturns<Buffer> {
  return spawnSync("xmllint", ["--noout", writeTmp("n.config", xml)]);
}

/** Line-level LCS diff: the multisets of removed and added lines. */
function lineDiff(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split("\n");
  const b = after.split("\n");
  const dp = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
    }
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
    } else if (dp[i + 1][j] >= dp[i][j + 1]) {
      removed.push(a[i++]);
    } else {
      added.push(b[j++]);
    }
  }
  removed.push(...a.slice(i));
  added.push(...b.slice(j));
  return { removed: removed.sort(), added: added.sort() };
}

const crlf = (s: string): string => s.replace(/\n/g, "\r\n");

const CLUSTER_KEYS: ReadonlyArray<readonly [string, string]> = [
  ["quartz.jobStore.clustered", "true"],
  ["quartz.jobStore.acquireTriggersWithinLock", "true"],
  ["quartz.scheduler.instanceId", "AUTO"],
];

const add6 = (key: string, value: string): string => `      <add key="${key}" value="${value}" />`;

/** The exact line changes expected when the fixture is patched with tenant_id=7. */
const EXPECTED_REMOVED = [
  `    <add key="TenantId" value="1" />`,
  add6("quartz.jobStore.clustered", "false"), // BPMonline
  add6("quartz.jobStore.clustered", "false"), // Campaign
  add6("quartz.jobStore.acquireTriggersWithinLock", "false"), // BPMonline
  add6("quartz.jobStore.acquireTriggersWithinLock", "false"), // BulkEmail
].sort();
const EXPECTED_ADDED = [
  `    <add key="TenantId" value="7" />`,
  ...Array(4).fill(add6("quartz.jobStore.clustered", "true")), // 2 rewritten + 2 inserted
  ...Array(4).fill(add6("quartz.jobStore.acquireTriggersWithinLock", "true")), // 2 rewritten + 2 inserted
  ...Array(2).fill(add6("quartz.scheduler.instanceId", "AUTO")), // BulkEmail, TouchPoints inserted
].sort();

const COMMENTED_CLUSTER_KEY = `      <!--<add key="quartz.jobStore.clustered" value="false" />-->\n`;
const COMMENTED_BLOCK = FIXTURE_CONFIG.slice(
  FIXTURE_CONFIG.indexOf("    <!--\n    Additional scheduler"),
  FIXTURE_CONFIG.indexOf("  </quartzConfig>"),
);
const PROVIDER_SECTION = FIXTURE_CONFIG.slice(FIXTURE_CONFIG.indexOf("  <quartz>\n"), FIXTURE_CONFIG.indexOf("  <quartzConfig "));

interface FailCase {
  readonly label: string;
  readonly content: string;
  readonly tenant?: string;
}
const failCase = (label: string, content: string, tenant?: string): FailCase => ({ label, content, tenant });
const FAIL_CLOSED_CASES: readonly FailCase[] = [
  failCase("there is no <quartzConfig>", FIXTURE_CONFIG.replace(/ {2}<quartzConfig [\s\S]*<\/quartzConfig>\n/, "")),
  failCase(
    "<quartzConfig> exists only inside a comment",
    `<?xml version="1.0"?>\n<configuration>\n  <!--\n  <quartzConfig>\n    <quartz>\n      <add key="quartz.jobStore.clustered" value="true" />\n    </quartz>\n  </quartzConfig>\n  -->\n</configuration>\n`,
  ),
  failCase("<quartzConfig> has no <quartz> block", `<configuration>\n  <quartzConfig defaultScheduler="X">\n  </quartzConfig>\n</configuration>\n`),
  failCase("<quartzConfig> delegates to a configSource", `<configuration>\n  <quartzConfig configSource="quartz.config" />\n</configuration>\n`),
  failCase("a </quartz> is missing", FIXTURE_CONFIG.replace("    </quartz>\n", "")),
  failCase("a </quartz> is mangled", FIXTURE_CONFIG.replace("    </quartz>\n", "    </ quartz>\n")),
  failCase("a <quartz/> block is self-closing", `<configuration>\n  <quartzConfig>\n    <quartz isActive="true" />\n  </quartzConfig>\n</configuration>\n`),
  failCase("a comment is never closed", FIXTURE_CONFIG.replace(`    <quartz isActive="true">\n`, `    <!-- never closed\n    <quartz isActive="true">\n`)),
  failCase("a cluster <add> cannot be parsed", FIXTURE_CONFIG.replace(add6("quartz.jobStore.clustered", "false"), `      <add key="quartz.jobStore.clustered" value=false />`)),
  failCase("the file is empty", ""),
  failCase("tenant_id is 0", FIXTURE_CONFIG, "0"),
  failCase("tenant_id is not a number", FIXTURE_CONFIG, "abc"),
  failCase("tenant_id is empty", FIXTURE_CONFIG, ""),
];

test("GIVEN the test host WHEN the patch-step tests start THEN mawk, gawk, busybox awk/sh, dash and xmllint are installed", () => {
  const missing = [
    ...AWKS.filter((a) => !toolWorks(a.cmd, [...a.pre, "BEGIN { exit 0 }"])).map((a) => a.name),
    ...(toolWorks("busybox", ["sh", "-c", "exit 0"]) ? [] : ["busybox sh"]),
    ...(toolWorks("dash", ["-c", "exit 0"]) ? [] : ["dash"]),
    ...(toolWorks("xmllint", ["--version"]) ? [] : ["xmllint"]),
  ];
  if (missing.length > 0) throw new Error(`missing: ${missing.join(", ")}; ${INSTALL_HINT}`);
});

describe.each(AWKS)("patch-webhost-config.awk with $name", (awk) => {
  beforeAll(() => {
    requireAwk(awk);
    requireTool("xmllint", "xmllint", ["--version"]);
  });

  describe("GIVEN the representative shipped config (4 schedulers, TenantId present)", () => {
    let out: Run;
    beforeAll(() => {
      out = patchConfig(awk, FIXTURE_CONFIG, "7");
    });

    it("WHEN patched THEN it exits 0 and prints nothing on stderr", () => {
      expect(out.stderr).toBe("");
      expect(out.status).toBe(0);
    });

    it("WHEN patched THEN exactly the expected lines are changed or added", () => {
      expect(lineDiff(FIXTURE_CONFIG, out.stdout.toString("utf8"))).toEqual({ removed: EXPECTED_REMOVED, added: EXPECTED_ADDED });
    });

    it("WHEN patched THEN xmllint --noout accepts it and every quartzConfig block has each cluster key exactly once with the right value", () => {
      const blocks = "/configuration/quartzConfig/quartz";
      const [total, ...perKey] = xpath(out.stdout, [
        `count(${blocks})`,
        ...CLUSTER_KEYS.map(([k, v]) => `count(${blocks}[count(add[@key='${k}'])=1][add[@key='${k}']/@value='${v}'])`),
        `count(${blocks}/add[@key='quartz.scheduler.instanceName'])`,
        `/configuration/appSettings/add[@key='TenantId']/@value`,
        `count(/configuration/quartz/add[@key='quartz.jobStore.clustered'][@value='false'])`,
      ]);
      expect(total).toBe("4");
      expect(perKey).toEqual(["4", "4", "4", "4", "7", "1"]);
    });

    it("WHEN patched THEN comments (a commented-out key, a commented-out block) and the provider <quartz> section are untouched", () => {
      const text = out.stdout.toString("utf8");
      expect(COMMENTED_BLOCK).toContain(`value="NON_CLUSTERED"`);
      expect(text).toContain(COMMENTED_BLOCK);
      expect(text).toContain(COMMENTED_CLUSTER_KEY);
      expect(text).toContain(PROVIDER_SECTION);
      expect(PROVIDER_SECTION).toContain(`<add key="quartz.jobStore.clustered" value="false" />`);
    });

    it("WHEN patched again THEN the output is byte-identical (idempotent) and still silent", () => {
      const again = patchConfig(awk, out.stdout, "7");
      expect(again.status).toBe(0);
      expect(again.stderr).toBe("");
      expect(again.stdout.equals(out.stdout)).toBe(true);
    });

    it("WHEN the file uses CRLF THEN every line (inserted ones too) keeps CRLF and nothing else differs", () => {
      const r = patchConfig(awk, crlf(FIXTURE_CONFIG), "7");
      expect(r.status).toBe(0);
      const text = r.stdout.toString("utf8");
      expect(text).not.toMatch(/[^\r]\n/);
      expect(text).toBe(crlf(out.stdout.toString("utf8")));
      expect(patchConfig(awk, r.stdout, "7").stdout.equals(r.stdout)).toBe(true);
    });

    it("WHEN the file starts with a UTF-8 BOM THEN the BOM is kept and nothing else differs", () => {
      const r = patchConfig(awk, Buffer.concat([BOM, Buffer.from(FIXTURE_CONFIG)]), "7");
      expect(r.status).toBe(0);
      expect(r.stdout.subarray(0, 3).equals(BOM)).toBe(true);
      expect(r.stdout.equals(Buffer.concat([BOM, out.stdout]))).toBe(true);
    });
  });

  describe("GIVEN a config whose appSettings has no TenantId key (only a commented-out one)", () => {
    it("WHEN patched THEN TenantId is inserted before </appSettings> like its siblings, the comment untouched, nothing on stderr", () => {
      const r = patchConfig(awk, FIXTURE_CONFIG_NO_TENANT, "7");
      expect(r.status).toBe(0);
      expect(r.stderr).toBe("");
      const text = r.stdout.toString("utf8");
      expect(text).toContain(`    <!--<add key="TenantId" value="0" />-->\n`);
      expect(text).toContain(`    <add key="Feature-StartSchedulerInWebApp" value="true" />\n    <add key="TenantId" value="7" />\n  </appSettings>`);
      expect(xpath(r.stdout, [`count(//appSettings/add[@key='TenantId'])`, `//appSettings/add[@key='TenantId']/@value`])).toEqual(["1", "7"]);
      expect(lineDiff(FIXTURE_CONFIG_NO_TENANT, text)).toEqual({
        removed: [add6("quartz.jobStore.acquireTriggersWithinLock", "false"), add6("quartz.jobStore.clustered", "false")].sort(),
        added: [`    <add key="TenantId" value="7" />`, add6("quartz.jobStore.acquireTriggersWithinLock", "true"), add6("quartz.jobStore.clustered", "true")].sort(),
      });
      expect(patchConfig(awk, r.stdout, "7").stdout.equals(r.stdout)).toBe(true);
    });
  });

  describe("GIVEN a config without an <appSettings> element", () => {
    it("WHEN patched THEN nothing is invented: a note on stderr, exit 0", () => {
      const input = `<configuration>\n  <quartzConfig>\n    <quartz>\n    </quartz>\n  </quartzConfig>\n</configuration>\n`;
      const r = patchConfig(awk, input, "7");
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/^creatio-farm: note: no <appSettings> element in .*; TenantId not set\n$/);
      expect(r.stdout.toString("utf8")).not.toContain("TenantId");
    });
  });

  describe("GIVEN require_redis_stores=1 (as the entrypoint runs it)", () => {
    const STORES = ["-v", "require_redis_stores=1"];
    it("WHEN the shipped config has the Application data store and the Workspace and Application caches on Redis THEN it passes silently", () => {
      const r = patchConfig(awk, FIXTURE_CONFIG, "7", STORES);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(r.stdout.equals(patchConfig(awk, FIXTURE_CONFIG, "7").stdout)).toBe(true);
    });

    const cacheBlock = (level: string) => new RegExp(`( {6}<storeAdapter levelName="${level}" type=")Terrasoft\\.Redis\\.GeneralCacheRedisStore(, Terrasoft\\.Redis">)`);
    const dataApplication = /( {6}<storeAdapter levelName="Application" type=")Terrasoft\.Redis\.ApplicationDataRedisStore(, Terrasoft\.Redis">)/;
    test.each([
      ["the Application data store is in memory", FIXTURE_CONFIG.replace(dataApplication, "$1Terrasoft.Core.Store.ApplicationDataStore$2"), /storeDataAdapters\/Application store adapter is Terrasoft\.Core\.Store\.ApplicationDataStore, Terrasoft\.Redis in .*, not a Redis store/],
      ["the Workspace cache is in memory", FIXTURE_CONFIG.replace(cacheBlock("Workspace"), "$1Terrasoft.Core.Store.MemoryCacheStore$2"), /storeCacheAdapters\/Workspace store adapter is Terrasoft\.Core\.Store\.MemoryCacheStore/],
      ["the Application cache is missing", FIXTURE_CONFIG.replace(/ {6}<storeAdapter levelName="Application" type="Terrasoft\.Redis\.GeneralCacheRedisStore[\s\S]*?<\/storeAdapter>\n/, ""), /no storeCacheAdapters\/Application store adapter in /],
      ["the only Redis Application cache is commented out", FIXTURE_CONFIG.replace(/( {6}<storeAdapter levelName="Application" type="Terrasoft\.Redis\.GeneralCacheRedisStore[\s\S]*?<\/storeAdapter>\n)/, "<!--\n$1-->\n"), /no storeCacheAdapters\/Application store adapter in /],
    ])("WHEN %s THEN it fails closed: exit 2, the reason on stderr, nothing on stdout", (_, content, reason) => {
      expect(content).not.toBe(FIXTURE_CONFIG);
      const r = patchConfig(awk, content, "7", STORES);
      expect(r.stderr).toMatch(reason);
      expect(r.status).toBe(2);
      expect(r.stdout.length).toBe(0);
    });
  });

  describe("GIVEN hand-edited markup (quotes, attribute order, case, multi-line tags, tabs, inline and empty blocks)", () => {
    const input = [
      `<?xml version="1.0"?>`,
      `<configuration>`,
      `\t<quartzConfig>`,
      `\t\t<quartz isActive='true'>`,
      `\t\t\t<add value='false' key='quartz.jobStore.clustered'/>`,
      `\t\t\t<add   key = "QUARTZ.SCHEDULER.INSTANCEID"`,
      `\t\t\t       value = "auto"  />`,
      `\t\t\t<add key="quartz.jobStore.acquireTriggersWithinLock"></add>`,
      `\t\t</quartz>`,
      `\t\t<quartz isActive="true"><add key="quartz.threadPool.threadCount" value="1" /></quartz>`,
      `\t\t<quartz isActive="true">`,
      `\t\t</quartz>`,
      `\t</quartzConfig>`,
      `</configuration>`,
      ``,
    ].join("\n");
    const expected = [
      `<?xml version="1.0"?>`,
      `<configuration>`,
      `\t<quartzConfig>`,
      `\t\t<quartz isActive='true'>`,
      `\t\t\t<add value='true' key='quartz.jobStore.clustered'/>`,
      `\t\t\t<add   key = "QUARTZ.SCHEDULER.INSTANCEID"`,
      `\t\t\t       value = "AUTO"  />`,
      `\t\t\t<add key="quartz.jobStore.acquireTriggersWithinLock" value="true"></add>`,
      `\t\t</quartz>`,
      `\t\t<quartz isActive="true"><add key="quartz.threadPool.threadCount" value="1" />` +
        `<add key="quartz.jobStore.clustered" value="true" />` +
        `<add key="quartz.jobStore.acquireTriggersWithinLock" value="true" />` +
        `<add key="quartz.scheduler.instanceId" value="AUTO" /></quartz>`,
      `\t\t<quartz isActive="true">`,
      `\t\t\t<add key="quartz.jobStore.clustered" value="true" />`,
      `\t\t\t<add key="quartz.jobStore.acquireTriggersWithinLock" value="true" />`,
      `\t\t\t<add key="quartz.scheduler.instanceId" value="AUTO" />`,
      `\t\t</quartz>`,
      `\t</quartzConfig>`,
      `</configuration>`,
      ``,
    ].join("\n");

    it("WHEN patched THEN only values are rewritten in place and missing keys are added inline or as indented lines", () => {
      const r = patchConfig(awk, input, "3");
      expect(r.status).toBe(0);
      expect(r.stdout.toString("utf8")).toBe(expected);
      expect(xmllintNoout(r.stdout).status).toBe(0);
      expect(patchConfig(awk, r.stdout, "3").stdout.toString("utf8")).toBe(expected);
    });
  });

  describe("GIVEN a block that declares quartz.jobStore.clustered twice", () => {
    it("WHEN patched THEN both occurrences are set (none removed, none inserted)", () => {
      const input = FIXTURE_CONFIG.replace(
        add6("quartz.jobStore.clustered", "false") + "\n",
        add6("quartz.jobStore.clustered", "false") + "\n" + add6("quartz.jobStore.clustered", "FALSE") + "\n",
      );
      const r = patchConfig(awk, input, "7");
      expect(r.status).toBe(0);
      expect(lineDiff(input, r.stdout.toString("utf8"))).toEqual({
        removed: [...EXPECTED_REMOVED, add6("quartz.jobStore.clustered", "FALSE")].sort(),
        added: [...EXPECTED_ADDED, add6("quartz.jobStore.clustered", "true")].sort(),
      });
      expect(xpath(r.stdout, [`count(/configuration/quartzConfig/quartz[1]/add[@key='quartz.jobStore.clustered'][@value='true'])`])).toEqual(["2"]);
    });
  });

  describe.each(FAIL_CLOSED_CASES)("GIVEN $label", ({ content, tenant }) => {
    it("WHEN patched THEN it fails closed: exit 2, a creatio-farm: line on stderr, nothing on stdout", () => {
      const r = patchConfig(awk, content, tenant ?? "7");
      expect(r.stderr).toMatch(/^creatio-farm: \S/m);
      expect(r.status).toBe(2);
      expect(r.stdout.length).toBe(0);
    });
  });
});

const FORWARDED_OVERLAY = {
  ForwardedHeaders: {
    Enable: true,
    ForwardedForHeaderName: "X-Forwarded-For",
    ForwardLimit: null,
    KnownProxiesIP: ["172.30.0.2"],
  },
};
const overlayText = (o: object): string => JSON.stringify(o, null, 2) + "\n";
const parseJson = (b: Buffer): Record<string, unknown> => {
  const s = b.toString("utf8");
  return JSON.parse(s.charCodeAt(0) === 0xfeff ? s.slice(1) : s) as Record<string, unknown>;
};
const BASE = parseJson(FIXTURE_APPSETTINGS);

describe.each(AWKS)("merge-appsettings.awk with $name", (awk) => {
  beforeAll(() => requireAwk(awk));

  describe("GIVEN the shipped appsettings.json (BOM, braces and escaped quotes in strings) and the ForwardedHeaders overlay", () => {
    let out: Run;
    beforeAll(() => {
      out = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), FIXTURE_APPSETTINGS);
    });

    it("WHEN merged THEN it parses to the top-level merge, in the original key order", () => {
      expect(out.stderr).toBe("");
      expect(out.status).toBe(0);
      const merged = parseJson(out.stdout);
      expect(merged).toEqual({ ...BASE, ...FORWARDED_OVERLAY });
      expect(Object.keys(merged)).toEqual(Object.keys(BASE));
      expect((merged.Kestrel as { Endpoints: { Https: { Certificate: { Password: string } } } }).Endpoints.Https.Certificate.Password).toBe('pa}ss"word');
    });

    it("WHEN merged THEN the BOM and every byte outside the replaced value are kept", () => {
      const src = FIXTURE_APPSETTINGS.toString("utf8");
      const at = src.indexOf(`"ForwardedHeaders": `) + `"ForwardedHeaders": `.length;
      const value = JSON.stringify(FORWARDED_OVERLAY.ForwardedHeaders, null, 2).replace(/\n/g, "\n  ");
      expect(out.stdout.subarray(0, 3).equals(BOM)).toBe(true);
      expect(out.stdout.toString("utf8")).toBe(src.slice(0, at) + value + "\n}\n");
    });

    it("WHEN merged again THEN the output is byte-identical (idempotent)", () => {
      const again = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), out.stdout);
      expect(again.status).toBe(0);
      expect(again.stdout.equals(out.stdout)).toBe(true);
    });

    it("WHEN the file uses CRLF THEN the output keeps CRLF everywhere (inserted lines too) and nothing else differs", () => {
      const r = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), Buffer.from(crlf(FIXTURE_APPSETTINGS.toString("utf8"))));
      expect(r.status).toBe(0);
      const text = r.stdout.toString("utf8");
      expect(text).not.toMatch(/[^\r]\n/);
      expect(text).toBe(crlf(out.stdout.toString("utf8")));
    });
  });

  describe("GIVEN an overlay with a key appsettings.json lacks", () => {
    it("WHEN merged THEN it is appended as the last top-level member and the merge is idempotent", () => {
      const overlay = { ...FORWARDED_OVERLAY, PathBase: "" };
      const r = mergeAppsettings(awk, overlayText(overlay), FIXTURE_APPSETTINGS);
      expect(r.status).toBe(0);
      const merged = parseJson(r.stdout);
      expect(merged).toEqual({ ...BASE, ...overlay });
      expect(Object.keys(merged)).toEqual([...Object.keys(BASE), "PathBase"]);
      expect(r.stdout.toString("utf8").endsWith(`  },\n  "PathBase": ""\n}\n`)).toBe(true);
      expect(mergeAppsettings(awk, overlayText(overlay), r.stdout).stdout.equals(r.stdout)).toBe(true);
    });
  });

  describe("GIVEN ForwardedHeaders only at a nested level", () => {
    it("WHEN merged THEN the nested object is untouched and a top-level member is appended", () => {
      const target = `{\n    "Proxy": { "ForwardedHeaders": { "Enable": false }, "Note": "}{" },\n    "Other": [1, {"ForwardedHeaders": 2}]\n}\n`;
      const r = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), target);
      expect(r.status).toBe(0);
      const text = r.stdout.toString("utf8");
      expect(text.startsWith(target.slice(0, target.lastIndexOf("]") + 1) + ",\n    \"ForwardedHeaders\": {\n      \"Enable\": true,")).toBe(true);
      expect(parseJson(r.stdout)).toEqual({ ...JSON.parse(target), ...FORWARDED_OVERLAY });
    });
  });

  describe("GIVEN an empty appsettings.json object {}", () => {
    it("WHEN merged THEN the result is the overlay and a second merge changes nothing", () => {
      const r = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), "{}");
      expect(r.status).toBe(0);
      expect(parseJson(r.stdout)).toEqual(FORWARDED_OVERLAY);
      expect(mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), r.stdout).stdout.equals(r.stdout)).toBe(true);
    });
  });

  describe.each([
    ["an unclosed object", `{ "a": { "b": 1 }\n`],
    ["a mismatched bracket", `{ "a": [1, 2} }\n`],
    ["an extra closing brace", `{ "a": 1 } }\n`],
    ["an unterminated string", `{ "a": "pa}ss\\" }\n`],
    ["a JSON array instead of an object", `[ { "a": 1 } ]\n`],
    ["an empty file", ``],
  ])("GIVEN appsettings.json with %s", (_label, target) => {
    it("WHEN merged THEN it fails closed: exit 2, a creatio-farm: line on stderr, nothing on stdout", () => {
      const r = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), target);
      expect(r.stderr).toMatch(/^creatio-farm: \S/m);
      expect(r.status).toBe(2);
      expect(r.stdout.length).toBe(0);
    });
  });
});

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
    const root = path.join(tmpRoot, `e${++tmpSeq}`);
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
