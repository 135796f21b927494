/**
 * Shared by the patch-step tests (patch-webhost-config.awk, merge-appsettings.awk, entrypoint.sh): the assets, the
 * fixtures, the awks and shells they run under, temp files, and what patching the fixture is expected to change.
 * Missing tools make the tests FAIL (never skip).
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { diffLines } from "diff";

export const ASSETS = path.resolve(__dirname, "../../../constructs/creatio-nodes/assets");
export const FIXTURES = path.resolve(__dirname, "../../fixtures");
export const PATCH_AWK = path.join(ASSETS, "patch-webhost-config.awk");
export const MERGE_AWK = path.join(ASSETS, "merge-appsettings.awk");
export const ENTRYPOINT = path.join(ASSETS, "entrypoint.sh");

export const FIXTURE_CONFIG = fs.readFileSync(path.join(FIXTURES, "Terrasoft.WebHost.dll.config"), "utf8");
export const FIXTURE_CONFIG_NO_TENANT = fs.readFileSync(path.join(FIXTURES, "Terrasoft.WebHost.no-tenant.dll.config"), "utf8");
export const FIXTURE_APPSETTINGS = fs.readFileSync(path.join(FIXTURES, "appsettings.json"));

export const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
export const INSTALL_HINT = "install the missing tools: apt-get install gawk busybox (and mawk, libxml2-utils, dash if absent)";

export interface Awk {
  readonly name: string;
  readonly cmd: string;
  readonly pre: readonly string[];
}
export const AWKS: readonly Awk[] = [
  { name: "mawk", cmd: "mawk", pre: [] },
  { name: "gawk", cmd: "gawk", pre: [] },
  { name: "busybox awk", cmd: "busybox", pre: ["awk"] },
];

export const toolCache = new Map<string, boolean>();
export function toolWorks(cmd: string, args: readonly string[]): boolean {
  const key = JSON.stringify([cmd, ...args]);
  let ok = toolCache.get(key);
  if (ok === undefined) {
    const r = spawnSync(cmd, [...args], { stdio: "ignore" });
    ok = !r.error && r.status === 0;
    toolCache.set(key, ok);
  }
  return ok;
}

export function requireTool(label: string, cmd: string, args: readonly string[]): void {
  if (!toolWorks(cmd, args)) throw new Error(`${label} is required by the farm patch-step tests but is not usable; ${INSTALL_HINT}`);
}

export function requireAwk(awk: Awk): void {
  requireTool(awk.name, awk.cmd, [...awk.pre, "BEGIN { exit 0 }"]);
}

/** Every file a test writes goes under one temp folder, removed after the test file. */
export const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-patch-"));
let tmpSeq = 0;
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }));

/** A fresh folder under the temp root. */
export function newTmpDir(prefix: string): string {
  const dir = path.join(tmpRoot, `${prefix}${++tmpSeq}`);
  fs.mkdirSync(dir);
  return dir;
}

export function writeTmp(name: string, content: string | Buffer): string {
  const file = path.join(newTmpDir("f"), name);
  fs.writeFileSync(file, content);
  return file;
}

export interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

export function runAwk(awk: Awk, args: readonly string[]): Run {
  // A UTF-8 locale is the harder case for gawk (multibyte string functions); the
  // entrypoint itself runs awk with LC_ALL=C.
  const r = spawnSync(awk.cmd, [...awk.pre, ...args], { env: { ...process.env, LC_ALL: "C.UTF-8" } });
  if (r.error) throw new Error(`${awk.name} could not be run (${r.error.message}); ${INSTALL_HINT}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString("utf8") };
}

export function patchConfig(awk: Awk, content: string | Buffer, tenantId = "7", extra: readonly string[] = []): Run {
  return runAwk(awk, ["-v", `tenant_id=${tenantId}`, ...extra, "-f", PATCH_AWK, writeTmp("Terrasoft.WebHost.dll.config", content)]);
}

export function mergeAppsettings(awk: Awk, overlay: string | Buffer, target: string | Buffer): Run {
  return runAwk(awk, ["-f", MERGE_AWK, writeTmp("appsettings.farm.json", overlay), writeTmp("appsettings.json", target)]);
}

/** The check the entrypoint runs on appsettings.<environment>.json. */
export function checkAppsettings(awk: Awk, overlay: string | Buffer, target: string | Buffer): Run {
  return runAwk(awk, ["-v", "check_only=1", "-f", MERGE_AWK, writeTmp("appsettings.farm.json", overlay), writeTmp("appsettings.Production.json", target)]);
}

/**
 * Evaluates several XPath expressions with one `xmllint --noout --xpath` call (which
 * also fails on any well-formedness error) and returns their string values.
 */
export function xpath(xml: Buffer, exprs: readonly string[]): string[] {
  const file = writeTmp("x.config", xml);
  const parts = exprs.map((e) => `string(${e})`);
  const joined = parts.length === 1 ? parts[0] : `concat(${parts.join(", '|', ")})`;
  const r = spawnSync("xmllint", ["--noout", "--xpath", joined, file]);
  if (r.error) throw new Error(`xmllint could not be run (${r.error.message}); ${INSTALL_HINT}`);
  expect(r.stderr.toString()).toBe("");
  expect(r.status).toBe(0);
  return r.stdout.toString("utf8").trim().split("|");
}

export function xmllintNoout(xml: Buffer): SpawnSyncReturns<Buffer> {
  return spawnSync("xmllint", ["--noout", writeTmp("n.config", xml)]);
}

/** The multisets of lines removed and added between two texts (a minimal line diff), each sorted. */
export function lineDiff(before: string, after: string): { removed: string[]; added: string[] } {
  const removed: string[] = [];
  const added: string[] = [];
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, "").split("\n");
    if (part.removed) removed.push(...lines);
    else if (part.added) added.push(...lines);
  }
  return { removed: removed.sort(), added: added.sort() };
}

export const crlf = (s: string): string => s.replace(/\n/g, "\r\n");
export const CLUSTER_KEYS: ReadonlyArray<readonly [string, string]> = [
  ["quartz.jobStore.clustered", "true"],
  ["quartz.jobStore.acquireTriggersWithinLock", "true"],
  ["quartz.scheduler.instanceId", "AUTO"],
];

export const add6 = (key: string, value: string): string => `      <add key="${key}" value="${value}" />`;

/** The exact line changes expected when the fixture is patched with tenant_id=7. */
export const EXPECTED_REMOVED = [
  `    <add key="TenantId" value="1" />`,
  add6("quartz.jobStore.clustered", "false"), // BPMonline
  add6("quartz.jobStore.clustered", "false"), // Campaign
  add6("quartz.jobStore.acquireTriggersWithinLock", "false"), // BPMonline
  add6("quartz.jobStore.acquireTriggersWithinLock", "false"), // BulkEmail
].sort();
export const EXPECTED_ADDED = [
  `    <add key="TenantId" value="7" />`,
  ...Array(4).fill(add6("quartz.jobStore.clustered", "true")), // 2 rewritten + 2 inserted
  ...Array(4).fill(add6("quartz.jobStore.acquireTriggersWithinLock", "true")), // 2 rewritten + 2 inserted
  ...Array(2).fill(add6("quartz.scheduler.instanceId", "AUTO")), // BulkEmail, TouchPoints inserted
].sort();

export const FORWARDED_OVERLAY = {
  ForwardedHeaders: {
    Enable: true,
    ForwardedForHeaderName: "X-Forwarded-For",
    ForwardLimit: null,
    KnownProxiesIP: ["172.30.0.2"],
  },
};
export const overlayText = (o: object): string => JSON.stringify(o, null, 2) + "\n";
export const parseJson = (b: Buffer): Record<string, unknown> => {
  const s = b.toString("utf8");
  return JSON.parse(s.charCodeAt(0) === 0xfeff ? s.slice(1) : s) as Record<string, unknown>;
};
export const BASE = parseJson(FIXTURE_APPSETTINGS);
