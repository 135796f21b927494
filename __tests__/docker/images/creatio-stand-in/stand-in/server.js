// @ts-check
/**
 * The stand-in web host. At start it checks what a web-farm node must have (clustered Quartz in every scheduler,
 * a TenantId, Redis-backed stores, the three connection strings) and refuses to start without it, as the farm's
 * contract says; then it connects to the environment's PostgreSQL and Redis with the generated credentials and
 * serves, on the Kestrel HTTP endpoint of appsettings.json:
 *
 *   GET  /api/HealthCheck/Ping                200 while the database answers, 503 otherwise
 *   POST /ServiceModel/AuthService.svc/Login  {"UserName","UserPassword"}: a session in Redis, a row in the
 *                                             database, and cookies protected with the DataProtection key ring;
 *                                             Supervisor signs in through InternalUserPassword, PortalUser through
 *                                             SSPUserPassword, each only where <auth providerNames> lists it
 *   GET  /Login/SSPLogin.html                 the portal's login page
 *   GET  /ssp/rest/StandIn/WhoAmI             WhoAmI on the portal's service route
 *   GET  /api/StandIn/WhoAmI                  200 for a valid session cookie, 401 with the reason otherwise
 *   GET  /api/StandIn/Node                    200 naming this node, with how many health checks in a row it
 *                                             passed (no session needed)
 *   POST /DataService/json/SyncReply/QuerySysSettings, …/PostSysSettingsValues
 *                                             system settings (settings-api.js): Supervisor's session and BPMCSRF
 *   POST /ServiceModel/AuthService.svc/Logout ends the session
 *   POST /msg/negotiate                       SignalR negotiate: the connection token lives in this node's memory
 *   GET  /msg?id=<token>  (WebSocket)         101 only on the node that negotiated the token, 404 elsewhere
 *
 * Every request except health checks is appended to Logs/stand-in-requests.jsonl with the forwarded headers it
 * carried and the client address ASP.NET's ForwardedHeaders middleware would derive from them.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const os = require("os");
const path = require("path");
const { Pool } = require("pg");
const Redis = require("ioredis");
const { WebSocketServer } = require("ws");
const { readAppsettings, readConnectionStrings, readWebHostConfig, keyValues, redisOptions } = require("./config-files");
const { KeyRing, keyRingLocation } = require("./key-ring");
const { handleSettings } = require("./settings-api");

/** user → [password, the provider that signs it in] (a portal user's provider is SSPUserPassword). */
const USERS = { Supervisor: ["Supervisor", "InternalUserPassword"], PortalUser: ["PortalUser", "SSPUserPassword"] };
const SESSION_TTL_SECONDS = 3600;
const NEGOTIATE_TTL_MS = 120_000;
const RS = "\u001e";
const node = process.env.HOSTNAME || os.hostname();

/** Why this node may not join a web farm, or an empty list. */
function farmContractProblems(web, strings) {
  const problems = [];
  if (web.quartz.length === 0) problems.push("no <quartz> block in <quartzConfig>");
  web.quartz.forEach((q, i) => {
    if (q.get("quartz.jobstore.clustered") !== "true") problems.push(`quartz block ${i + 1}: quartz.jobStore.clustered is not true`);
    if (q.get("quartz.jobstore.acquiretriggerswithinlock") !== "true") problems.push(`quartz block ${i + 1}: acquireTriggersWithinLock is not true`);
    if (q.get("quartz.scheduler.instanceid") !== "AUTO") problems.push(`quartz block ${i + 1}: instanceId is not AUTO`);
  });
  if (!web.tenantId) problems.push("TenantId is empty");
  for (const [section, level] of [["storeDataAdapters", "Application"], ["storeCacheAdapters", "Workspace"], ["storeCacheAdapters", "Application"]]) {
    const type = web[section][level];
    if (!/\bRedis\b|Redis[A-Za-z]*Store/.test(type ?? "")) problems.push(`${section} ${level} is not Redis-backed (${type})`);
  }
  for (const name of ["db", "dbPostgreSql", "redis"]) if (!strings[name]) problems.push(`ConnectionStrings.config has no "${name}"`);
  return problems;
}

/** Npgsql's `db` string → node-postgres options. */
function postgresOptions(text) {
  const kv = keyValues(text);
  return {
    host: kv.server ?? kv.host,
    port: Number(kv.port ?? 5432),
    database: kv.database,
    user: kv["user id"] ?? kv.username ?? kv["user name"],
    password: kv.password,
  };
}

/** The client address ASP.NET's ForwardedHeaders middleware derives: trusted hops are peeled from the right. */
function clientAddress(peer, xffHeader, forwarded) {
  const known = new Set((forwarded?.KnownProxiesIP ?? []).map(String));
  if (!forwarded?.Enable) return peer;
  const hops = String(xffHeader ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  let client = peer;
  let limit = forwarded.ForwardLimit ?? hops.length;
  while (hops.length && limit-- > 0 && (known.size === 0 || known.has(client))) client = hops.pop();
  return client;
}

function cookies(req) {
  return Object.fromEntries(
    String(req.headers.cookie ?? "").split(";").map((c) => c.trim()).filter(Boolean).map((c) => [c.slice(0, c.indexOf("=")), c.slice(c.indexOf("=") + 1)]),
  );
}

function readBody(req, limit = 65536) {
  return new Promise((resolve, reject) => {
    let size = 0;
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

function send(res, status, body, headers = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": typeof body === "string" ? "text/plain" : "application/json", "Content-Length": Buffer.byteLength(text), "X-Stand-In-Node": node, ...headers });
  res.end(text);
}

/** @param {string} appDir */
async function serve(appDir) {
  const web = readWebHostConfig(appDir);
  const strings = readConnectionStrings(appDir);
  const problems = farmContractProblems(web, strings);
  if (problems.length) throw new Error(`this node is not configured for a web farm:\n  ${problems.join("\n  ")}`);
  const appsettings = readAppsettings(appDir);
  const location = keyRingLocation(appDir, appsettings);
  const ring = new KeyRing(location.dir, location.applicationName).load();
  process.stdout.write(
    `stand-in ${node}: key ring ${location.dir} (${location.customized ? "from appsettings.json" : "container default"}), ` +
      `${ring.keys.size} key(s), ${ring.created} created by this node\n`,
  );

  const db = postgresOptions(strings.db);
  const alt = postgresOptions(strings.dbPostgreSql);
  for (const k of ["host", "port", "database", "user", "password"]) {
    if (db[k] !== alt[k]) throw new Error(`ConnectionStrings.config: "db" and "dbPostgreSql" disagree on ${k}`);
  }
  const pool = new Pool({ ...db, max: 4, connectionTimeoutMillis: 2000, idleTimeoutMillis: 10000 });
  pool.on("error", () => {}); // a restarted database ends idle clients; the next query opens a new one
  const redis = new Redis({ ...redisOptions(strings.redis), maxRetriesPerRequest: 2, connectTimeout: 2000 });
  redis.on("error", () => {});

  const kestrel = appsettings.Kestrel?.Endpoints?.Http?.Url ?? "http://::5000";
  const port = Number(/:(\d+)\/?$/.exec(kestrel)?.[1] ?? 5000);
  const logFile = path.join(appDir, "Logs", "stand-in-requests.jsonl");
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  /** @type {Map<string, { at: number, user: string }>} */
  const negotiated = new Map();
  let tableReady = false;

  let healthyChecksInARow = 0;
  /** The connection's peer, read when the request arrives: a closed socket no longer knows it. */
  const peerOf = (req) => String(req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
  const record = (req, status, peer = peerOf(req)) => {
    const entry = {
      node,
      method: req.method,
      url: req.url,
      status,
      peer,
      xForwardedFor: req.headers["x-forwarded-for"] ?? null,
      xForwardedProto: req.headers["x-forwarded-proto"] ?? null,
      client: clientAddress(peer, req.headers["x-forwarded-for"], appsettings.ForwardedHeaders),
    };
    fs.appendFileSync(logFile, `${JSON.stringify(entry)}\n`);
  };

  async function dbAnswers() {
    let timer;
    try {
      await Promise.race([pool.query("SELECT 1"), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("timeout")), 2000)))]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The session a request's cookies prove, or why not. */
  async function session(req) {
    const jar = cookies(req);
    if (!jar[".ASPXAUTH"]) return { ok: false, reason: "no .ASPXAUTH cookie" };
    const opened = ring.unprotect(jar[".ASPXAUTH"]);
    if (!opened.ok) return opened;
    const sid = opened.plaintext;
    const stored = await redis.get(`stand-in:session:${sid}`);
    if (!stored) return { ok: false, reason: `session ${sid} is not in Redis` };
    return { ok: true, sid, keyId: opened.keyId, ...JSON.parse(stored) };
  }

  async function login(req, res) {
    let body;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return send(res, 400, { Code: 1, Message: "malformed request" });
    }
    const user = Object.prototype.hasOwnProperty.call(USERS, body.UserName) ? body.UserName : undefined;
    if (!user || USERS[user][0] !== body.UserPassword) return send(res, 200, { Code: 1, Message: "Invalid user name or password" });
    const provider = USERS[user][1];
    if (!web.authProviders.includes(provider)) return send(res, 200, { Code: 1, Message: `no enabled authentication provider signs in ${user} (${provider} is not in providerNames)` });
    if (!tableReady) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query("SELECT pg_advisory_xact_lock(4242)");
        // Like Creatio's own schema, created by the role that owns the database; a data role only finds it.
        const exists = (await client.query("SELECT to_regclass('public.stand_in_login') IS NOT NULL AS e")).rows[0].e;
        if (!exists) await client.query("CREATE TABLE stand_in_login (id bigserial PRIMARY KEY, user_name text NOT NULL, node text NOT NULL, at timestamptz NOT NULL DEFAULT now())");
        await client.query("COMMIT");
        tableReady = true;
      } finally {
        client.release();
      }
    }
    const sid = crypto.randomBytes(16).toString("hex");
    await pool.query("INSERT INTO stand_in_login (user_name, node) VALUES ($1, $2)", [user, node]);
    await redis.set(`stand-in:session:${sid}`, JSON.stringify({ user, loginNode: node }), "EX", SESSION_TTL_SECONDS);
    send(res, 200, { Code: 0, Message: "" }, {
      "Set-Cookie": [
        `.ASPXAUTH=${ring.protect(sid)}; path=/; HttpOnly`,
        `BPMSESSIONID=${sid}; path=/; HttpOnly`,
        `BPMCSRF=${crypto.randomBytes(12).toString("base64url")}; path=/`,
      ],
    });
  }

  async function route(req, res) {
    const url = new URL(req.url ?? "/", "http://node");
    // Kestrel's rule: an HTTP/1.0 request with a body method needs its length (LengthRequiredHttp10).
    if (req.httpVersion === "1.0" && req.method === "POST" && req.headers["content-length"] === undefined) return send(res, 400, { node, reason: "Content-Length required" });
    if (url.pathname === "/api/HealthCheck/Ping" && req.method === "GET") {
      const ok = await dbAnswers();
      healthyChecksInARow = ok ? healthyChecksInARow + 1 : 0;
      return send(res, ok ? 200 : 503, { IsDbPingSuccessfull: ok, IsConfigurationAssemblyPingSuccessfull: true, Message: ok ? "" : "database did not answer" });
    }
    if (url.pathname === "/ServiceModel/AuthService.svc/Login" && req.method === "POST") return login(req, res);
    if (url.pathname === "/api/StandIn/Node" && req.method === "GET") return send(res, 200, { node, healthyChecksInARow });
    if (url.pathname === "/Login/SSPLogin.html" && req.method === "GET") return send(res, 200, "stand-in portal login page");
    if ((url.pathname === "/api/StandIn/WhoAmI" || url.pathname === "/ssp/rest/StandIn/WhoAmI") && req.method === "GET") {
      const s = await session(req);
      return s.ok ? send(res, 200, { node, user: s.user, loginNode: s.loginNode, keyId: s.keyId }) : send(res, 401, { node, reason: s.reason });
    }
    if (url.pathname.toLowerCase() === "/msg/negotiate" && req.method === "POST") {
      const s = await session(req);
      if (!s.ok) return send(res, 401, { node, reason: s.reason });
      const connectionToken = crypto.randomBytes(16).toString("base64url");
      negotiated.set(connectionToken, { at: Date.now(), user: s.user });
      return send(res, 200, {
        negotiateVersion: 1,
        connectionId: crypto.randomBytes(16).toString("base64url"),
        connectionToken,
        availableTransports: [{ transport: "WebSockets", transferFormats: ["Text", "Binary"] }],
      });
    }
    if (url.pathname.startsWith("/DataService/json/SyncReply/")) {
      const jar = cookies(req);
      const ctx = { pool, caller: await session(req), csrfOk: Boolean(jar.BPMCSRF) && req.headers.bpmcsrf === jar.BPMCSRF, body: () => readBody(req) };
      if (await handleSettings(req, (status, body) => send(res, status, body), ctx)) return;
    }
    if (url.pathname === "/ServiceModel/AuthService.svc/Logout" && req.method === "POST") {
      const s = await session(req);
      if (s.ok) await redis.del(`stand-in:session:${s.sid}`);
      return send(res, 200, { Code: 0 });
    }
    return send(res, 404, { node, reason: "not found" });
  }

  const server = http.createServer((req, res) => {
    const health = (req.url ?? "").startsWith("/api/HealthCheck/Ping");
    const peer = peerOf(req);
    if (!health) res.on("finish", () => record(req, res.statusCode, peer));
    route(req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, { node, reason: e instanceof Error ? e.message : String(e) });
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => {}); // a client that goes away mid-handshake is not the node's failure
    const url = new URL(req.url ?? "/", "http://node");
    const reject = (status, text) => {
      record(req, status);
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    };
    if (url.pathname.toLowerCase() !== "/msg") return reject(404, "not found");
    const token = url.searchParams.get("id") ?? "";
    const entry = negotiated.get(token);
    if (!entry || Date.now() - entry.at > NEGOTIATE_TTL_MS) return reject(404, "No Connection with that ID");
    negotiated.delete(token);
    record(req, 101);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", () => ws.terminate());
      ws.once("message", (data) => {
        const text = data.toString();
        if (!text.endsWith(RS) || !text.includes('"protocol"')) return ws.close(1002, "handshake expected");
        ws.send(`{}${RS}`);
        ws.send(`${JSON.stringify({ type: 1, target: "node", arguments: [node] })}${RS}`);
      });
    });
  });

  const stop = () => {
    wss.clients.forEach((c) => c.terminate());
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // A crash on request (`docker exec <node> sh -c 'kill -USR2 1'`): PID 1 of a container takes no default-action
  // signal from inside it, and a kill by host PID would name another process on a remote Docker host.
  process.on("SIGUSR2", () => process.abort());

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve(undefined));
  });
  process.stdout.write(`stand-in ${node}: listening on ${port}\n`);
}

module.exports = { serve, clientAddress, farmContractProblems };
