// @ts-check
/**
 * The Identity Service's appsettings.json as the service sees it, and what the farm must have put there before the
 * service may start: PostgreSQL as the provider with one connection string under both names, an absolute path to a
 * PKCS#12 signing certificate with an empty password, and the clients as a JSON-encoded string.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const tls = require("tls");

/** Microsoft.Extensions.Logging's levels; a name is parsed case-insensitively, anything else fails the start. */
const LOG_LEVELS = ["Trace", "Debug", "Information", "Warning", "Error", "Critical", "None"];

/**
 * A configuration value by its `A:B:C` path, keys matched case-insensitively as .NET's configuration does (of two
 * keys that differ only in case, the later one wins). Null counts as absent.
 * @param {unknown} root @param {string} keyPath
 * @returns {unknown}
 */
function setting(root, keyPath) {
  let node = root;
  for (const part of keyPath.split(":")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    const key = Object.keys(node).filter((k) => k.toLowerCase() === part.toLowerCase()).pop();
    if (key === undefined) return undefined;
    node = /** @type {Record<string, unknown>} */ (node)[key];
  }
  return node === null ? undefined : node;
}

/** A scalar setting as .NET reads it (numbers and booleans are strings to the configuration). @param {unknown} v */
function scalar(v) {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

/**
 * `Server=…;Port=…;Database=…;User ID=…;Password=…` as DbConnectionStringBuilder splits it: keys case-insensitive
 * and trimmed, a value may be quoted with ' or " (the quote doubled inside), the last of a repeated key wins.
 * @param {string} text
 */
function connectionStringPairs(text) {
  /** @type {Record<string, string>} */
  const out = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) {
      if (text.slice(i).trim()) throw new Error(`no "=" in "${text.slice(i).trim()}"`);
      break;
    }
    const key = text.slice(i, eq).replace(/^[\s;]+/, "").trim().toLowerCase();
    let j = eq + 1;
    while (text[j] === " ") j++;
    let value = "";
    const quote = text[j];
    if (quote === "'" || quote === '"') {
      j++;
      for (;;) {
        if (j >= text.length) throw new Error(`unterminated quoted value of "${key}"`);
        if (text[j] === quote && text[j + 1] === quote) {
          value += quote;
          j += 2;
        } else if (text[j] === quote) {
          break;
        } else {
          value += text[j++];
        }
      }
      j = text.indexOf(";", j + 1);
    } else {
      const end = text.indexOf(";", j);
      value = (end < 0 ? text.slice(j) : text.slice(j, end)).trim();
      j = end;
    }
    if (key) out[key] = value;
    i = j < 0 ? text.length : j + 1;
  }
  return out;
}

/** The first of Npgsql's synonyms present. @param {Record<string, string>} kv @param {string[]} names */
function first(kv, names) {
  for (const n of names) if (kv[n] !== undefined) return kv[n];
  return undefined;
}

/**
 * An Npgsql connection string → node-postgres options, or the reason it is not one.
 * @param {string} text
 */
function npgsqlOptions(text) {
  const kv = connectionStringPairs(text);
  const host = first(kv, ["server", "host"]);
  const database = first(kv, ["database", "db"]);
  const user = first(kv, ["user id", "userid", "username", "user name", "user"]);
  const missing = [!host && "Server", !database && "Database", !user && "User ID"].filter(Boolean);
  if (missing.length) throw new Error(`no ${missing.join(", ")}`);
  const port = Number(kv.port ?? 5432);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`Port ${JSON.stringify(kv.port)} is not a port`);
  const timeout = Number(kv.timeout ?? 15); // Npgsql's connection timeout, seconds
  const searchPath = kv["search path"];
  return {
    host: /** @type {string} */ (host),
    port,
    database: /** @type {string} */ (database),
    user: /** @type {string} */ (user),
    password: first(kv, ["password", "psw", "pwd"]),
    connectionTimeoutMillis: (Number.isFinite(timeout) && timeout > 0 ? timeout : 15) * 1000,
    // Npgsql's `Search Path` sets the session's search_path, so where unqualified tables land.
    ...(searchPath ? { options: `-c search_path=${searchPath.replace(/\s+/g, "")}` } : {}),
  };
}

/**
 * The signing certificate: readable, PKCS#12, a private key and a certificate, empty password (what the service
 * loads it with). Returns its description and public key as a JWK, or throws the reason.
 * @param {string} file
 */
function loadCertificate(file) {
  let pfx;
  try {
    pfx = fs.readFileSync(file);
  } catch (e) {
    throw new Error(`X509CertificatePath ${file} cannot be read: ${/** @type {Error} */ (e).message}`);
  }
  let secureContext;
  try {
    secureContext = tls.createSecureContext({ pfx, passphrase: "" });
  } catch (e) {
    throw new Error(`X509CertificatePath ${file} is not a PKCS#12 file with a private key and a certificate under an empty password: ${/** @type {Error} */ (e).message}`);
  }
  const socket = new tls.TLSSocket(/** @type {any} */ (null), { secureContext, isServer: true });
  const cert = /** @type {import("tls").PeerCertificate | null} */ (socket.getCertificate());
  socket.destroy();
  if (!cert || !cert.raw) throw new Error(`X509CertificatePath ${file}: no certificate in the PKCS#12 file`);
  const x509 = new crypto.X509Certificate(cert.raw);
  const thumbprint = x509.fingerprint.replace(/:/g, "");
  const jwk = x509.publicKey.export({ format: "jwk" });
  const x5t = crypto.createHash("sha1").update(cert.raw).digest("base64url");
  return {
    subject: x509.subject.replace(/\n/g, ", "),
    validTo: x509.validTo,
    thumbprint,
    jwk: { ...jwk, kid: thumbprint, use: "sig", x5t, x5c: [cert.raw.toString("base64")], ...(jwk.kty === "RSA" ? { alg: "RS256" } : {}) },
  };
}

/**
 * @typedef {{ ClientId: string, ClientName?: string, Secrets: string[], AllowedGrantTypes: string[], AllowedScopes?: string[] }} Client
 */

/** @param {unknown} v */
const stringArray = (v) => Array.isArray(v) && v.every((s) => typeof s === "string" && s.length > 0);

/**
 * `Clients`: a string (the service deserializes the value of Configuration["Clients"]; a JSON array in the file
 * becomes `Clients:0:…` keys and that value is null) holding an array of clients.
 * @param {unknown} value
 * @returns {{ clients: Client[], problems: string[] }}
 */
function parseClients(value) {
  if (value === undefined) return { clients: [], problems: ["Clients is missing"] };
  if (typeof value !== "string") {
    const found = Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `a ${typeof value}`;
    return { clients: [], problems: [`Clients must be a JSON-encoded string, found ${found} (the service reads Configuration["Clients"] and deserializes it)`] };
  }
  let parsed;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    return { clients: [], problems: [`Clients is not JSON: ${/** @type {Error} */ (e).message}`] };
  }
  if (!Array.isArray(parsed)) return { clients: [], problems: ["Clients must encode an array of clients"] };
  /** @type {string[]} */
  const problems = [];
  const seen = new Set();
  parsed.forEach((c, i) => {
    const where = `Clients[${i}]`;
    if (c === null || typeof c !== "object" || Array.isArray(c)) return problems.push(`${where} is not an object`);
    if (typeof c.ClientId !== "string" || !c.ClientId) problems.push(`${where} has no ClientId`);
    else if (seen.has(c.ClientId)) problems.push(`${where}: ClientId ${c.ClientId} appears twice`);
    else seen.add(c.ClientId);
    if (!stringArray(c.Secrets)) problems.push(`${where}: Secrets must be an array of non-empty strings`);
    if (!stringArray(c.AllowedGrantTypes)) problems.push(`${where}: AllowedGrantTypes must be an array of grant types`);
    if (c.AllowedScopes !== undefined && !stringArray(c.AllowedScopes)) problems.push(`${where}: AllowedScopes must be an array of scopes`);
    if (c.ClientName !== undefined && typeof c.ClientName !== "string") problems.push(`${where}: ClientName must be a string`);
    return undefined;
  });
  return { clients: problems.length ? [] : parsed, problems };
}

/**
 * Where Kestrel listens: `Kestrel:Endpoints:Http:Url` overrides ASPNETCORE_URLS (first URL), then
 * ASPNETCORE_HTTP_PORTS, then port 8080 (the .NET 8 images' default). `+`, `*`, `0.0.0.0`, `[::]` and any host name
 * other than localhost mean every address.
 * @param {unknown} appsettings @param {NodeJS.ProcessEnv} env
 */
function listenAddress(appsettings, env) {
  const kestrel = scalar(setting(appsettings, "Kestrel:Endpoints:Http:Url"));
  /** @type {[string | undefined, string]} */
  let [url, source] = [undefined, "default"];
  if (kestrel) [url, source] = [kestrel, "Kestrel:Endpoints:Http:Url"];
  else if (env.ASPNETCORE_URLS?.trim()) [url, source] = [env.ASPNETCORE_URLS.split(";").map((u) => u.trim()).filter(Boolean)[0], "ASPNETCORE_URLS"];
  else if (env.ASPNETCORE_HTTP_PORTS?.trim()) [url, source] = [`http://+:${env.ASPNETCORE_HTTP_PORTS.split(";")[0].trim()}`, "ASPNETCORE_HTTP_PORTS"];
  if (url === undefined) return { host: "0.0.0.0", port: 8080, url: "http://+:8080", source };
  const m = /^(https?):\/\/(\[[^\]]*\]|[^:/]*)(?::(\d+))?\/?$/i.exec(url);
  if (!m) throw new Error(`${source}: ${JSON.stringify(url)} is not an http://host:port URL`);
  if (m[1].toLowerCase() !== "http") throw new Error(`${source}: ${url}: the stand-in serves plain HTTP only`);
  const host = m[2].toLowerCase();
  const port = Number(m[3] ?? 80);
  if (port <= 0 || port > 65535) throw new Error(`${source}: ${url}: no such port`);
  let address = "0.0.0.0";
  if (host === "localhost") address = "127.0.0.1";
  else if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) address = host;
  else if (host.startsWith("[") && host !== "[::]") address = host.slice(1, -1);
  return { host: address, port, url, source };
}

/**
 * Everything the service needs from appsettings.json, or the list of what is wrong.
 * @param {unknown} appsettings @param {NodeJS.ProcessEnv} env
 */
function checkSettings(appsettings, env) {
  /** @type {string[]} */
  const problems = [];

  const levelText = scalar(setting(appsettings, "Logging:LogLevel:Default")) ?? "Information";
  const logLevel = LOG_LEVELS.find((l) => l.toLowerCase() === levelText.trim().toLowerCase());
  if (!logLevel) problems.push(`Logging:LogLevel:Default ${JSON.stringify(levelText)} is not a log level (${LOG_LEVELS.join(", ")})`);

  const provider = scalar(setting(appsettings, "DbProvider"));
  if (provider !== "Postgres") problems.push(`DbProvider is ${provider === undefined ? "missing" : JSON.stringify(provider)}, not "Postgres"`);

  const dbString = scalar(setting(appsettings, "DatabaseConnectionString"));
  const pgString = scalar(setting(appsettings, "PostgresConnection"));
  /** @type {ReturnType<typeof npgsqlOptions> | undefined} */
  let db;
  if (!dbString) problems.push("DatabaseConnectionString is missing");
  if (!pgString) problems.push("PostgresConnection is missing");
  if (dbString && pgString) {
    if (dbString !== pgString) problems.push("DatabaseConnectionString and PostgresConnection differ");
    else {
      try {
        db = npgsqlOptions(dbString);
      } catch (e) {
        problems.push(`DatabaseConnectionString is not an Npgsql connection string: ${/** @type {Error} */ (e).message}`);
      }
    }
  }

  const certPath = scalar(setting(appsettings, "X509CertificatePath"));
  /** @type {ReturnType<typeof loadCertificate> | undefined} */
  let certificate;
  if (!certPath) problems.push("X509CertificatePath is missing");
  else if (!path.isAbsolute(certPath)) problems.push(`X509CertificatePath ${JSON.stringify(certPath)} is not an absolute path`);
  else {
    try {
      certificate = loadCertificate(certPath);
    } catch (e) {
      problems.push(/** @type {Error} */ (e).message);
    }
  }

  const { clients, problems: clientProblems } = parseClients(setting(appsettings, "Clients"));
  problems.push(...clientProblems);

  /** @type {ReturnType<typeof listenAddress> | undefined} */
  let listen;
  try {
    listen = listenAddress(appsettings, env);
  } catch (e) {
    problems.push(/** @type {Error} */ (e).message);
  }

  const allowedHosts = (scalar(setting(appsettings, "AllowedHosts")) ?? "*").split(";").map((h) => h.trim().toLowerCase()).filter(Boolean);
  return { problems, logLevel: logLevel ?? "Information", db, certificate, clients, listen, allowedHosts };
}

/**
 * ASP.NET Core's host filtering: `*` (or nothing) allows every Host, `*.example.com` its subdomains.
 * @param {string[]} allowed @param {string | undefined} hostHeader
 */
function hostAllowed(allowed, hostHeader) {
  if (allowed.length === 0 || allowed.includes("*")) return true;
  if (!hostHeader) return false;
  const h = hostHeader.toLowerCase();
  const host = h.startsWith("[") ? h.slice(1, h.indexOf("]")) : h.replace(/:\d+$/, "");
  return allowed.some((a) => (a.startsWith("*.") ? host.endsWith(a.slice(1)) : host === a));
}

module.exports = { setting, connectionStringPairs, npgsqlOptions, loadCertificate, parseClients, listenAddress, checkSettings, hostAllowed, LOG_LEVELS };
