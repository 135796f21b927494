// @ts-check
/**
 * A stand-in Creatio node for the balancer's live tier and benchmark: one process per node, so a test can
 * SIGKILL or SIGSTOP it by PID. Listens on 127.0.0.1 only.
 *
 * usage: node stand-in-node.js --name <n> --port <p> [--health-path /api/HealthCheck/Ping] [--drop-path <path>]
 *
 *   <health path>  200 "ok"                      (HAProxy's health check)
 *   /echo, /msg…   200 JSON { node, method, url, headers, remoteAddress } (/msg in any case: SignalR's path)
 *   /cookies       200 with three Set-Cookie headers, as Creatio sets them at login
 *   /ws, /msg      WebSocket upgrade; every message is echoed back as "<node>: <message>" (/msg: SignalR's, any case)
 *   --drop-path    with this option, a request for that path is read and its connection closed without an
 *                  answer: a node that dies in the middle of a request
 *   /__counts      200 JSON { "<METHOD> <path>": n } of every request received (asked directly, not through HAProxy)
 *   anything else  200 small text body naming the node (cheap, for the benchmark)
 *   ?delay=<ms>    on any path above: the answer comes that much later (a long Creatio operation)
 *
 * Prints "ready <port>" on stdout once listening.
 */
"use strict";
const http = require("http");
const { WebSocketServer } = require("ws");

/** @param {string} flag @param {string | undefined} [fallback] */
function arg(flag, fallback) {
  const i = process.argv.indexOf(flag);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback !== undefined) return fallback;
  process.stderr.write(`missing ${flag}\nusage: stand-in-node.js --name <n> --port <p> [--health-path /api/HealthCheck/Ping] [--drop-path <path>]\n`);
  process.exit(2);
}

const name = arg("--name");
const port = Number(arg("--port"));
const healthPath = arg("--health-path", "/api/HealthCheck/Ping");
const dropPath = arg("--drop-path", "");
/** @type {Record<string, number>} */
const counts = {};
const plain = Buffer.from(`node ${name}\n`);

const server = http.createServer((req, res) => {
  const delay = Number(/[?&]delay=(\d+)/.exec(req.url ?? "")?.[1] ?? 0);
  if (delay > 0) setTimeout(() => handle(req, res), delay);
  else handle(req, res);
});

/** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
function handle(req, res) {
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/__counts" && path !== healthPath) counts[`${req.method} ${path}`] = (counts[`${req.method} ${path}`] ?? 0) + 1;
  if (dropPath && path === dropPath) {
    req.resume();
    req.on("end", () => req.socket.destroy());
  } else if (path === "/__counts") {
    const body = JSON.stringify(counts);
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  } else if (path === healthPath) {
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": 2 });
    res.end("ok");
  } else if (path === "/echo" || /^\/msg(\/|$)/i.test(path)) {
    const body = JSON.stringify({
      node: name,
      method: req.method,
      url: req.url,
      headers: req.headers,
      remoteAddress: req.socket.remoteAddress,
    });
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
    res.end(body);
  } else if (path === "/cookies") {
    res.writeHead(200, {
      "Content-Type": "text/plain",
      "Content-Length": 2,
      "Set-Cookie": ["BPMSESSIONID=abc; path=/; HttpOnly", "UserName=bob; path=/; secure", "BPMCSRF=xyz; path=/"],
    });
    res.end("ok");
  } else {
    res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": plain.length });
    res.end(plain);
  }
}

// HAProxy keeps idle server connections for reuse: the node must not close them under a request it is sending
// (Node's default is 5 s). headersTimeout must stay above keepAliveTimeout.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;

const wss = new WebSocketServer({ noServer: true });
wss.on("connection", (ws) => {
  ws.on("message", (data) => ws.send(`${name}: ${data.toString()}`));
});
server.on("upgrade", (req, socket, head) => {
  const upgradePath = (req.url ?? "").split("?")[0];
  if (upgradePath !== "/ws" && !/^\/msg$/i.test(upgradePath)) {
    socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
});

server.on("error", (err) => {
  process.stderr.write(`stand-in ${name}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, "127.0.0.1", () => process.stdout.write(`ready ${port}\n`));

process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
