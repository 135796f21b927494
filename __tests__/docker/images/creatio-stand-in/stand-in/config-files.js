// @ts-check
/**
 * Reads Creatio's configuration files the way the runtime sees them: XML without comments, keys matched
 * case-insensitively, appsettings.json with its BOM, comments and trailing commas (which .NET accepts).
 */
"use strict";
const fs = require("fs");
const path = require("path");

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** @param {string} s */
function decodeXml(s) {
  return s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e) => ENTITIES[/** @type {keyof typeof ENTITIES} */ (e)]);
}

/** @param {string} xml */
function withoutComments(xml) {
  return xml.replace(/<!--[\s\S]*?-->/g, "");
}

/** Attributes of one start tag's inner text, names as written. @param {string} inner */
function attributes(inner) {
  /** @type {Record<string, string>} */
  const attrs = {};
  for (const m of inner.matchAll(/([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    attrs[m[1]] = decodeXml(m[2] ?? m[3]);
  }
  return attrs;
}

/** The inner text of the first `<name …>…</name>` element, or undefined. @param {string} xml @param {string} name */
function element(xml, name) {
  const m = new RegExp(`<${name}\\b[^>]*>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? m[1] : undefined;
}

/** `<add key= value=>` children of a block, keys lowercased (NameValueCollection is case-insensitive). */
function addEntries(block) {
  /** @type {Map<string, string>} */
  const entries = new Map();
  for (const m of block.matchAll(/<add\b([^>]*?)\/?>/g)) {
    const a = attributes(m[1]);
    if (a.key !== undefined) entries.set(a.key.toLowerCase(), a.value ?? "");
  }
  return entries;
}

/**
 * What the farm sets in Terrasoft.WebHost.dll.config: every Quartz scheduler block, TenantId, and the store adapter
 * types of the levels `configureWebFarmMode` moves to Redis.
 * @param {string} appDir
 */
function readWebHostConfig(appDir) {
  const xml = withoutComments(fs.readFileSync(path.join(appDir, "Terrasoft.WebHost.dll.config"), "utf8"));
  const quartzConfig = element(xml, "quartzConfig");
  const quartz = quartzConfig === undefined ? [] : [...quartzConfig.matchAll(/<quartz\b[^>]*>([\s\S]*?)<\/quartz>/g)].map((m) => addEntries(m[1]));
  const appSettings = addEntries(element(xml, "appSettings") ?? "");
  /** @param {string} section */
  const stores = (section) =>
    Object.fromEntries(
      [...(element(xml, section) ?? "").matchAll(/<storeAdapter\b([^>]*?)\/?>/g)].map((m) => {
        const a = attributes(m[1]);
        return [a.levelName, a.type];
      }),
    );
  const auth = /<auth\b([^>]*?)\/?>/.exec(element(xml, "terrasoft") ?? "");
  const providerNames = auth ? attributes(auth[1]).providerNames ?? "" : "";
  return {
    quartz,
    tenantId: appSettings.get("tenantid"),
    /** `<terrasoft><auth providerNames>`: the providers that may sign users in. */
    authProviders: providerNames.split(",").map((p) => p.trim()).filter(Boolean),
    storeDataAdapters: stores("storeDataAdapters"),
    storeCacheAdapters: stores("storeCacheAdapters"),
  };
}

/** name → connection string. @param {string} appDir */
function readConnectionStrings(appDir) {
  const xml = withoutComments(fs.readFileSync(path.join(appDir, "ConnectionStrings.config"), "utf8"));
  /** @type {Record<string, string>} */
  const strings = {};
  for (const m of xml.matchAll(/<add\b([^>]*?)\/?>/g)) {
    const a = attributes(m[1]);
    if (a.name !== undefined) strings[a.name] = a.connectionString ?? "";
  }
  return strings;
}

/** `a=1; B = 2;` → { a: "1", b: "2" } (keys lowercased, as ADO.NET reads them). @param {string} text */
function keyValues(text) {
  /** @type {Record<string, string>} */
  const out = {};
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return out;
}

/**
 * Creatio's `redis` string: with useTls=true, TLS to `host` (its certificate must be issued for that name and chain
 * to a CA the system trusts, as .NET checks it) and the password; without it, the password is ignored (Creatio's
 * documented behaviour).
 */
function redisOptions(text) {
  const kv = keyValues(text);
  const options = { host: kv.host, port: Number(kv.port ?? 6379), db: Number(kv.db ?? 0) };
  if (String(kv.usetls).toLowerCase() !== "true") return options;
  return { ...options, password: kv.password, tls: { servername: kv.host, ca: trustedCertificates(), minVersion: "TLSv1.2" } };
}

/**
 * The root store as .NET 8 on Linux builds it: every file in SSL_CERT_DIR, one directory (.NET 8 does not split a
 * colon-separated list: such a value names a directory that does not exist), plus the bundle file (SSL_CERT_FILE,
 * else Debian's default).
 */
function trustedCertificates() {
  const dir = process.env.SSL_CERT_DIR ?? "/etc/ssl/certs";
  const files = [process.env.SSL_CERT_FILE ?? "/etc/ssl/certs/ca-certificates.crt"];
  if (fs.existsSync(dir) && fs.statSync(dir).isDirectory()) files.push(...fs.readdirSync(dir).map((n) => path.join(dir, n)));
  const pems = [];
  for (const file of files) {
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) continue;
    const text = fs.readFileSync(file, "utf8");
    if (text.includes("-----BEGIN CERTIFICATE-----")) pems.push(text);
  }
  return pems;
}

/** JSON with // and /* comments and trailing commas removed, strings left alone. @param {string} text */
function relaxedJson(text) {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
    } else {
      out += c;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, "$1"));
}

/** @param {string} appDir */
function readAppsettings(appDir) {
  return relaxedJson(fs.readFileSync(path.join(appDir, "appsettings.json"), "utf8").replace(/^\uFEFF/, ""));
}

module.exports = { readWebHostConfig, readConnectionStrings, readAppsettings, keyValues, redisOptions, relaxedJson };
