/**
 * HTTP and WebSocket clients for the Docker tier. They only ever connect to 127.0.0.1, on ports the balancer
 * publishes; a fresh connection per request, so every request is balanced on its own.
 */
import * as http from "http";
import WebSocket from "ws";
import { AFFINITY_COOKIE } from "../../../constructs/balancer/render-haproxy-cfg";

export interface Response {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
  timeoutMs = 30_000,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers, agent: false, timeout: timeoutMs }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

export const get = (port: number, path: string, headers: Record<string, string> = {}) => request(port, "GET", path, headers);

/** Cookies as a browser keeps them for one site: Set-Cookie stores, `header()` sends. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(res: Response): void {
    for (const line of res.headers["set-cookie"] ?? []) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  delete(name: string): void {
    this.cookies.delete(name);
  }

  header(): Record<string, string> {
    return this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") } : {};
  }

  copy(): CookieJar {
    const jar = new CookieJar();
    for (const [k, v] of this.cookies) jar.cookies.set(k, v);
    return jar;
  }
}

/** Logs in through the balancer as the stand-in's user; the jar then holds the session cookies. */
export async function login(port: number): Promise<CookieJar> {
  const jar = new CookieJar();
  const res = await request(port, "POST", "/ServiceModel/AuthService.svc/Login", { "content-type": "application/json" }, JSON.stringify({ UserName: "Supervisor", UserPassword: "Supervisor" }));
  if (res.status !== 200 || JSON.parse(res.body).Code !== 0) throw new Error(`login failed: ${res.status} ${res.body}`);
  jar.store(res);
  return jar;
}

export interface SignalrResult {
  /** The node that answered negotiate. */
  readonly negotiatedOn: string;
  /** HTTP status of the WebSocket connect (101 when it was upgraded). */
  readonly connectStatus: number;
  /** The node the connection reached, as it announced itself after the handshake. */
  readonly connectedTo?: string;
}

/**
 * SignalR as the Creatio client does it: POST /msg/negotiate, then GET /msg?id=<token> as a WebSocket. With
 * `affinity: false` the client drops the balancer's affinity cookie, as a client without it would.
 */
export async function signalr(port: number, jar: CookieJar, options: { affinity?: boolean } = {}): Promise<SignalrResult> {
  if (options.affinity === false) jar.delete(AFFINITY_COOKIE);
  const negotiate = await request(port, "POST", "/msg/negotiate?negotiateVersion=1", jar.header());
  if (negotiate.status !== 200) throw new Error(`negotiate answered ${negotiate.status}: ${negotiate.body}`);
  jar.store(negotiate);
  if (options.affinity === false) jar.delete(AFFINITY_COOKIE);
  const { connectionToken } = JSON.parse(negotiate.body) as { connectionToken: string };
  const negotiatedOn = String(negotiate.headers["x-stand-in-node"]);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/msg?id=${encodeURIComponent(connectionToken)}`, { headers: jar.header(), handshakeTimeout: 10_000 });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error("no message after the SignalR handshake within 10 s"));
    }, 10_000);
    ws.on("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      res.resume();
      resolve({ negotiatedOn, connectStatus: res.statusCode ?? 0 });
    });
    ws.on("open", () => ws.send(`${JSON.stringify({ protocol: "json", version: 1 })}\u001e`));
    ws.on("message", (data) => {
      for (const frame of data.toString().split("\u001e").filter(Boolean)) {
        const message = JSON.parse(frame) as { type?: number; target?: string; arguments?: string[] };
        if (message.target === "node") {
          clearTimeout(timer);
          ws.close();
          resolve({ negotiatedOn, connectStatus: 101, connectedTo: message.arguments?.[0] });
        }
      }
    });
    ws.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
