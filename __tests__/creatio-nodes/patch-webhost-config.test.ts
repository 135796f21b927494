/**
 * patch-webhost-config.awk, the part of the patch step that edits Terrasoft.WebHost.dll.config: every case runs
 * under mawk, gawk and busybox awk.
 */
import {
  FIXTURE_CONFIG,
  FIXTURE_CONFIG_NO_TENANT,
  BOM,
  INSTALL_HINT,
  AWKS,
  toolWorks,
  requireTool,
  requireAwk,
  Run,
  patchConfig,
  xpath,
  xmllintNoout,
  lineDiff,
  crlf,
  CLUSTER_KEYS,
  add6,
  EXPECTED_REMOVED,
  EXPECTED_ADDED,
  writeTmp,
} from "./support/patch-step";

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

  describe("GIVEN a <remove> or <clear/> after the cluster keys or TenantId (which .NET applies in order)", () => {
    // after the first block's last cluster key (acquireTriggersWithinLock, which follows clustered)
    const last = add6("quartz.jobStore.acquireTriggersWithinLock", "false") + "\n";
    const removeAfter = FIXTURE_CONFIG.replace(last, last + `      <remove key="Quartz.JobStore.Clustered" />\n`);
    const clearAfter = FIXTURE_CONFIG.replace(last, last + `      <clear />\n`).replace(/(<add key="TenantId" value="\d+" \/>\n)/, `$1    <remove key="TenantId" />\n`);

    it.each([
      ["a <remove> of quartz.jobStore.clustered", removeAfter],
      ["a <clear/> in the block and a <remove> of TenantId", clearAfter],
    ])("WHEN %s follows THEN the keys are in force in the patched file, read the way .NET reads it", (_, input) => {
      // control: in the input, the first block's clustering is not in force
      expect(effectiveQuartz(input)[0]["quartz.jobstore.clustered"]).not.toBe("true");
      const r = patchConfig(awk, input, "7");
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const out = r.stdout.toString("utf8");
      for (const block of effectiveQuartz(out)) {
        expect(block).toEqual(
          expect.objectContaining({
            "quartz.jobstore.clustered": "true",
            "quartz.jobstore.acquiretriggerswithinlock": "true",
            "quartz.scheduler.instanceid": "AUTO",
          }),
        );
      }
      expect(effectiveAppSettings(out).tenantid).toBe("7");
      // and once more changes nothing
      expect(patchConfig(awk, out, "7").stdout.equals(r.stdout)).toBe(true);
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

/** Children add/remove/clear of one collection, applied in order as .NET does: lower-cased key → value. */
function applyInOrder(body: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const m of body.replace(/<!--[\s\S]*?-->/g, "").matchAll(/<(add|remove|clear)\b([^>]*)>/g)) {
    const attr = (name: string) => new RegExp(`\\b${name}\\s*=\\s*(["'])(.*?)\\1`).exec(m[2])?.[2];
    if (m[1] === "clear") for (const k of Object.keys(values)) delete values[k];
    else if (m[1] === "remove") delete values[(attr("key") ?? "").toLowerCase()];
    else values[(attr("key") ?? "").toLowerCase()] = attr("value") ?? "";
  }
  return values;
}

/** The settings in force in each <quartz> block of <quartzConfig>. */
function effectiveQuartz(xml: string): Record<string, string>[] {
  const config = /<quartzConfig\b[^>]*>([\s\S]*?)<\/quartzConfig>/.exec(xml.replace(/<!--[\s\S]*?-->/g, ""))![1];
  return [...config.matchAll(/<quartz\b[^>]*>([\s\S]*?)<\/quartz>/g)].map((b) => applyInOrder(b[1]));
}

/** The settings in force in the root's <appSettings>. */
function effectiveAppSettings(xml: string): Record<string, string> {
  return applyInOrder(/<appSettings>([\s\S]*?)<\/appSettings>/.exec(xml)![1]);
}

describe.each(AWKS)("a portal node's restrictions with $name", (awk) => {
  const SAU = "Q7rT9wX2mK4pL8vN3bY6cZ1aH5sJ0dF2";
  const sauFile = () => writeTmp("sau-password", `${SAU}\n`);
  beforeAll(() => requireAwk(awk));

  it("GIVEN auth_providers=SSPUserPassword WHEN patched THEN <auth> names only it, autologin is empty, everything else is untouched, and a second run changes nothing", () => {
    const out = patchConfig(awk, FIXTURE_CONFIG, "1", ["-v", "auth_providers=SSPUserPassword"]);
    expect(out.stderr.toString()).toBe("");
    const [names, autologin, providers] = xpath(out.stdout, [
      "/configuration/terrasoft/auth/@providerNames",
      "/configuration/terrasoft/auth/@autoLoginProviderNames",
      "count(/configuration/terrasoft/auth/providers/provider)",
    ]);
    expect([names, autologin, providers]).toEqual(["SSPUserPassword", "", "3"]);
    const again = patchConfig(awk, out.stdout, "1", ["-v", "auth_providers=SSPUserPassword"]);
    expect(again.stdout.equals(out.stdout)).toBe(true);
  });

  it("GIVEN an <auth> without the attributes (or with autologin providers) THEN they are added (or emptied)", () => {
    const bare = FIXTURE_CONFIG.replace(`<auth providerNames="InternalUserPassword,SSPUserPassword" autoLoginProviderNames="" `, `<auth autoLoginProviderNames='InternalUserPassword' `);
    expect(bare).not.toBe(FIXTURE_CONFIG);
    const out = patchConfig(awk, bare, "1", ["-v", "auth_providers=SSPUserPassword"]);
    expect(out.stderr.toString()).toBe("");
    expect(xpath(out.stdout, ["/configuration/terrasoft/auth/@providerNames", "/configuration/terrasoft/auth/@autoLoginProviderNames"])).toEqual(["SSPUserPassword", ""]);
  });

  it("GIVEN no auth_providers THEN <auth> is untouched (internal nodes keep every provider)", () => {
    const out = patchConfig(awk, FIXTURE_CONFIG, "1");
    expect(xpath(out.stdout, ["/configuration/terrasoft/auth/@providerNames"])).toEqual(["InternalUserPassword,SSPUserPassword"]);
  });

  it.each([
    ["a provider the file does not define", FIXTURE_CONFIG, "SSPUserPassword,SSPLdapProvider", /auth provider SSPLdapProvider is not defined in <auth><providers>/],
    ["no <auth> at all", FIXTURE_CONFIG.replace(/ {4}<auth [\s\S]*?<\/auth>\n/, ""), "SSPUserPassword", /no <auth> element in <terrasoft>/],
    [
      "an <auth> only inside a comment",
      FIXTURE_CONFIG.replace(/( {4}<auth [\s\S]*?<\/auth>\n)/, (block) => `<!--${block.replace(/<!--.*?-->/g, "")}-->`),
      "SSPUserPassword",
      /no <auth> element in <terrasoft>/,
    ],
    ["a malformed list", FIXTURE_CONFIG, "SSPUserPassword,,x", /auth_providers must be provider names/],
  ])("GIVEN %s THEN it fails closed: exit 2, nothing on stdout", (_, content, providers, message) => {
    const out = patchConfig(awk, content, "1", ["-v", `auth_providers=${providers}`]);
    expect(out.status).toBe(2);
    expect(out.stdout.length).toBe(0);
    expect(out.stderr.toString()).toMatch(message);
  });

  it("GIVEN sau_password_file WHEN the key is missing THEN it is inserted in <appSettings>; WHEN present THEN only its value changes; a second run changes nothing", () => {
    const out = patchConfig(awk, FIXTURE_CONFIG, "1", ["-v", `sau_password_file=${sauFile()}`]);
    expect(out.stderr.toString()).toBe("");
    expect(xpath(out.stdout, ["/configuration/appSettings/add[@key='UserManagementSauPassword']/@value", "count(/configuration/appSettings/add[@key='UserManagementSauPassword'])"])).toEqual([SAU, "1"]);
    const shipped = FIXTURE_CONFIG.replace(`    <add key="TenantId" value="1" />\n`, `    <add key="TenantId" value="1" />\n    <add key="UserManagementSauPassword" value="Cm6GUdgaZEmvuwaH" />\n`);
    const rotated = patchConfig(awk, shipped, "1", ["-v", `sau_password_file=${sauFile()}`]);
    // against the same file patched without it: that line is the only difference
    expect(lineDiff(patchConfig(awk, shipped, "1").stdout.toString("utf8"), rotated.stdout.toString("utf8"))).toEqual({
      removed: [`    <add key="UserManagementSauPassword" value="Cm6GUdgaZEmvuwaH" />`],
      added: [`    <add key="UserManagementSauPassword" value="${SAU}" />`],
    });
    expect(patchConfig(awk, rotated.stdout, "1", ["-v", `sau_password_file=${sauFile()}`]).stdout.equals(rotated.stdout)).toBe(true);
  });

  it.each([
    ["no <appSettings> at all", FIXTURE_CONFIG.replace(/ {2}<appSettings>[\s\S]*?<\/appSettings>\n/, ""), /UserManagementSauPassword could not be set .*\(no <appSettings> of its own\)/],
    ["<appSettings configSource=…/>", FIXTURE_CONFIG.replace(/ {2}<appSettings>[\s\S]*?<\/appSettings>\n/, `  <appSettings configSource="appSettings.config" />\n`), /takes its keys from another file/],
    ["<appSettings file=…> (keys of another file over these)", FIXTURE_CONFIG.replace("<appSettings>", `<appSettings file="more.config">`), /takes its keys from another file/],
  ])("GIVEN %s and a sau_password_file THEN it fails closed rather than leave the public password in force", (_, content, message) => {
    expect(content).not.toBe(FIXTURE_CONFIG);
    const out = patchConfig(awk, content, "1", ["-v", `sau_password_file=${sauFile()}`]);
    expect(out.status).toBe(2);
    expect(out.stdout.length).toBe(0);
    expect(out.stderr.toString()).toMatch(message);
  });

  it.each([
    ["missing", "/nonexistent/sau", /cannot read the UserManagementSauPassword from \/nonexistent\/sau/],
    ["empty", "", /cannot read the UserManagementSauPassword|must be letters and digits only/],
    ["not alphanumeric", `a"b<c`, /must be letters and digits only/],
  ])("GIVEN a sau_password_file that is %s THEN it fails closed without echoing the content", (label, content, message) => {
    const file = label === "missing" ? content : writeTmp("sau-bad", content);
    const out = patchConfig(awk, FIXTURE_CONFIG, "1", ["-v", `sau_password_file=${file}`]);
    expect(out.status).toBe(2);
    expect(out.stdout.length).toBe(0);
    expect(out.stderr.toString()).toMatch(message);
    if (label !== "missing" && content) expect(out.stderr.toString()).not.toContain(content.slice(0, 3));
  });
});
