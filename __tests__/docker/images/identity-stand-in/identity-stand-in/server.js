// @ts-check
/**
 * The stand-in Identity Service. At start it reads /app/appsettings.json and refuses to start unless the farm's
 * contract holds (see settings.js); then it creates its tables in the database, unqualified, so they land in the
 * first schema of the role's search_path as EF Core's migrations do, seeds the clients of `Clients` when the
 * "Clients" table is empty (and only then: the real service does not re-seed), and serves:
 *
 *   GET  /.well-known/openid-configuration       the discovery document, built from the request's Host
 *   GET  /.well-known/openid-configuration/jwks  the signing certificate's public key
 *   POST /connect/token                          client_credentials, the client authenticated by client_id and
 *                                                client_secret in the form or by HTTP Basic, checked against the
 *                                                database's rows (secrets stored as base64 SHA-256, as
 *                                                IdentityServer hashes them): 200 with a random bearer token, or
 *                                                400 invalid_client / unsupported_grant_type / unauthorized_client /
 *                                                invalid_scope
 *
 * Everything else is 404. With Logging:LogLevel:Default Debug or Trace every request is logged with its client id.
 */
"use strict";
const crypto = require("crypto");
const http = require("http");
const { Pool } = require("pg");
const { readAppsettings } = require("../stand-in/config-files");
const { checkSettings, hostAllowed } = require("./settings");

const TOKEN_LIFETIME_SECONDS = 3600;
const MIGRATION_LOCK = 4243; // pg_advisory_xact_lock key: replicas starting together create the tables once
const say = (/** @type {string} */ line) => process.stdout.write(`identity stand-in: ${line}\n`);

/** base64 SHA-256 of the UTF-8 text: IdentityServer's `"secret".Sha256()`. @param {string} secret */
function hashSecret(secret) {
  return crypto.createHash("sha256").update(secret, "utf8").digest("base64");
}

/** @param {string} a @param {string} b */
function sameText(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/**
 * The tables, created unqualified, and the clients seeded when there are none.
 * @param {import("pg").Pool} pool @param {import("./settings").Client[]} clients
 */
async function migrate(pool, clients) {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS "Clients" ("Id" serial PRIMARY KEY, "ClientId" text NOT NULL UNIQUE, "ClientName" text, ' +
        '"AllowedGrantTypes" text NOT NULL DEFAULT \'\', "AllowedScopes" text NOT NULL DEFAULT \'\')',
    );
    await client.query(
      'CREATE TABLE IF NOT EXISTS "ClientSecrets" ("Id" serial PRIMARY KEY, ' +
        '"ClientId" text NOT NULL REFERENCES "Clients" ("ClientId") ON DELETE CASCADE, "Value" text NOT NULL)',
    );
    const existing = Number((await client.query('SELECT count(*) AS n FROM "Clients"')).rows[0].n);
    if (existing === 0) {
      for (const c of clients) {
        await client.query('INSERT INTO "Clients" ("ClientId", "ClientName", "AllowedGrantTypes", "AllowedScopes") VALUES ($1, $2, $3, $4)', [
          c.ClientId,
          c.ClientName ?? null,
          c.AllowedGrantTypes.join(" "),
          (c.AllowedScopes ?? []).join(" "),
        ]);
        for (const s of c.Secrets) await client.query('INSERT INTO "ClientSecrets" ("ClientId", "Value") VALUES ($1, $2)', [c.ClientId, hashSecret(s)]);
      }
    }
    const schema = (
      await client.query('SELECT n.nspname AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(\'"Clients"\')')
    ).rows[0].schema;
    await client.query("COMMIT");
    return { schema: String(schema), existing, seeded: existing === 0 ? clients.length : 0 };
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** @param {import("http").IncomingMessage} req */
function readBody(req, limit = 65536) {
  return new Promise((resolve, reject) => {
    let size = 0;
    /** @type {Buffer[]} */
    const chunks = [];
    req.on("data", (c) => {
      size += c.length;
      if (size > limit) reject(new Error("body too large"));
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** @param {import("http").ServerResponse} res @param {number} status @param {unknown} body @param {Record<string, string>} headers */
function send(res, status, body, headers = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": typeof body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=UTF-8",
    "Content-Length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** RFC 6749 §2.3.1: Basic credentials are form-encoded before base64. @param {string | undefined} header */
function basicCredentials(header) {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? "");
  if (!m) return undefined;
  const text = Buffer.from(m[1], "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  const decode = (/** @type {string} */ s) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, "%20"));
    } catch {
      return s;
    }
  };
  return { clientId: decode(text.slice(0, colon)), secret: decode(text.slice(colon + 1)) };
}

/** @param {string} appDir */
async function serve(appDir) {
  let appsettings;
  try {
    appsettings = readAppsettings(appDir);
  } catch (e) {
    throw new Error(`appsettings.json cannot be read: ${/** @type {Error} */ (e).message}`);
  }
  const settings = checkSettings(appsettings, process.env);
  if (settings.problems.length) throw new Error(`refusing to start, appsettings.json is not configured for the farm:\n  ${settings.problems.join("\n  ")}`);
  const { db, certificate, clients, listen, logLevel, allowedHosts } = settings;
  if (!db || !certificate || !listen) throw new Error("internal: settings checked without their values");
  const debug = logLevel === "Trace" || logLevel === "Debug";

  say(`signing certificate ${certificate.subject}, thumbprint ${certificate.thumbprint}, valid to ${certificate.validTo}`);
  const pool = new Pool({ ...db, max: 4, idleTimeoutMillis: 10000 });
  pool.on("error", () => {}); // a restarted database ends idle clients; the next query opens a new one
  const migrated = await migrate(pool, clients).catch((e) => {
    throw new Error(`database ${db.host}:${db.port}/${db.database} as ${db.user}: ${e instanceof Error ? e.message : String(e)}`);
  });
  say(
    `tables "Clients" and "ClientSecrets" in schema ${migrated.schema} of database ${db.database} as ${db.user}; ` +
      (migrated.seeded || !migrated.existing
        ? `${migrated.seeded} client(s) seeded from appsettings.json`
        : `0 client(s) seeded (${migrated.existing} already in the table)`),
  );
  const scopes = [...new Set(clients.flatMap((c) => c.AllowedScopes ?? []))];

  /** @param {import("http").IncomingMessage} req */
  function issuer(req) {
    return `http://${String(req.headers.host ?? `localhost:${listen?.port}`).toLowerCase()}`;
  }

  /** @param {import("http").IncomingMessage} req @param {import("http").ServerResponse} res */
  async function token(req, res) {
    const noStore = { "Cache-Control": "no-store, no-cache, max-age=0", Pragma: "no-cache" };
    const error = (/** @type {string} */ code, /** @type {string} */ clientId = "") => {
      if (debug) say(`dbug: token request for client ${JSON.stringify(clientId)} refused: ${code}`);
      send(res, 400, { error: code }, noStore);
    };
    if (req.method !== "POST") return send(res, 405, "");
    const type = String(req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded") return error("invalid_request");
    const form = new URLSearchParams(await readBody(req));
    const basic = basicCredentials(req.headers.authorization);
    const clientId = basic ? basic.clientId : form.get("client_id") ?? "";
    const secret = basic ? basic.secret : form.get("client_secret") ?? "";
    if (!clientId) return error("invalid_client");
    const { rows } = await pool.query(
      'SELECT c."AllowedGrantTypes" AS grants, c."AllowedScopes" AS scopes, ' +
        'coalesce(array_agg(s."Value") FILTER (WHERE s."Value" IS NOT NULL), \'{}\') AS secrets ' +
        'FROM "Clients" c LEFT JOIN "ClientSecrets" s ON s."ClientId" = c."ClientId" WHERE c."ClientId" = $1 GROUP BY c."Id"',
      [clientId],
    );
    if (rows.length === 0) return error("invalid_client", clientId);
    const hash = hashSecret(secret);
    if (!secret || !rows[0].secrets.some((/** @type {string} */ v) => sameText(v, hash))) return error("invalid_client", clientId);
    const grantType = form.get("grant_type") ?? "";
    if (grantType !== "client_credentials") return error("unsupported_grant_type", clientId);
    const split = (/** @type {string | null} */ s) => String(s ?? "").split(/\s+/).filter(Boolean);
    if (!split(rows[0].grants).includes("client_credentials")) return error("unauthorized_client", clientId);
    const allowed = split(rows[0].scopes);
    const requested = split(form.get("scope"));
    if (requested.some((s) => !allowed.includes(s))) return error("invalid_scope", clientId);
    const scope = (requested.length ? requested : allowed).join(" ");
    if (debug) say(`dbug: token issued to client ${JSON.stringify(clientId)}${scope ? ` for ${scope}` : ""}`);
    return send(
      res,
      200,
      { access_token: crypto.randomBytes(32).toString("base64url"), expires_in: TOKEN_LIFETIME_SECONDS, token_type: "Bearer", scope },
      noStore,
    );
  }

  /** @param {import("http").IncomingMessage} req @param {import("http").ServerResponse} res */
  async function route(req, res) {
    if (!hostAllowed(allowedHosts, req.headers.host)) return send(res, 400, "Bad Request: the Host is not in AllowedHosts");
    const pathname = new URL(req.url ?? "/", "http://identity").pathname.toLowerCase();
    if (pathname === "/.well-known/openid-configuration" && req.method === "GET") {
      const base = issuer(req);
      return send(res, 200, {
        issuer: base,
        jwks_uri: `${base}/.well-known/openid-configuration/jwks`,
        token_endpoint: `${base}/connect/token`,
        scopes_supported: scopes,
        claims_supported: [],
        grant_types_supported: ["client_credentials"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: certificate?.jwk.alg ? [certificate.jwk.alg] : [],
      });
    }
    if (pathname === "/.well-known/openid-configuration/jwks" && req.method === "GET") return send(res, 200, { keys: [certificate?.jwk] });
    if (pathname === "/connect/token") return token(req, res);
    return send(res, 404, "");
  }

  const server = http.createServer((req, res) => {
    if (debug) res.on("finish", () => say(`dbug: ${req.method} ${req.url} → ${res.statusCode}`));
    route(req, res).catch((e) => {
      say(`fail: ${req.method} ${req.url}: ${e instanceof Error ? e.message : String(e)}`);
      if (!res.headersSent) send(res, 500, "");
    });
  });

  const stop = () => {
    say("stopping");
    server.close(() => pool.end().finally(() => process.exit(0)));
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve(undefined));
  });
  say(`log level ${logLevel}; listening on http://${listen.host.includes(":") ? `[${listen.host}]` : listen.host}:${listen.port} (${listen.source}: ${listen.url})`);
}

module.exports = { serve, hashSecret, basicCredentials };
