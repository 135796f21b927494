/** The live tier's HTTP client: one request to 127.0.0.1, over HTTP or HTTPS; what the stand-in's /echo answers. */
import * as http from "http";
import * as net from "net";
import * as https from "https";

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestOptions {
  readonly port: number;
  readonly path: string;
  readonly method?: string;
  readonly headers?: http.OutgoingHttpHeaders;
  /** `false` = a fresh connection for this request. @default false */
  readonly agent?: http.Agent | false;
  readonly localAddress?: string;
  /** HTTPS, trusting `ca`, with SNI `servername`. */
  readonly tls?: { readonly ca: string | Buffer; readonly servername: string };
  /** @default 5000 */
  readonly timeoutMs?: number;
  /** Request body, sent with its Content-Length. @default - none */
  readonly body?: string;
}

/** One request to 127.0.0.1; rejects on a network error or timeout, resolves with any HTTP status. */
export function request(opts: RequestOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const base = {
      host: "127.0.0.1",
      port: opts.port,
      path: opts.path,
      method: opts.method ?? "GET",
      headers: opts.headers,
      agent: opts.agent ?? false,
      localAddress: opts.localAddress,
    };
    const req = opts.tls
      ? https.request({ ...base, ca: opts.tls.ca, servername: opts.tls.servername })
      : http.request(base);
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 5000} ms`)));
    req.on("error", reject);
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.end(opts.body);
  });
}

/** The node's view of a request: what `/echo` answers. */
export interface Echo {
  readonly node: string;
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly remoteAddress: string;
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

/** Writes `text` as is to 127.0.0.1:`port` and resolves with everything the server sent before closing. */
export function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const socket = net.createConnection(port, "127.0.0.1", () => socket.write(text));
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer within 5 s; got: ${JSON.stringify(out)}`)));
    socket.on("data", (d) => (out += d));
    socket.on("end", () => resolve(out));
    socket.on("error", reject);
  });
}
