/**
 * WebSockets through the rendered haproxy.cfg and the REAL haproxy: after the 101 upgrade an idle connection is
 * governed by `timeout tunnel`, not by the short client/server timeouts of request/response traffic.
 */
import * as fs from "fs";
import * as tls from "tls";
import WebSocket from "ws";
import { HaproxyTimeouts } from "../../constructs/balancer/render-haproxy-cfg";
import { startLoopbackBalancer } from "./support/loopback";
import { freePort, sleep } from "./support/processes";
import { startStandIn, strayPids, Teardown } from "./support/stand-ins";
import { tempDir } from "../support/farm";
import { selfSignedCertificate } from "../support/self-signed";

const teardown = new Teardown();
afterEach(() => teardown.run());

let certDir: string | undefined;
let cert: ReturnType<typeof selfSignedCertificate> | undefined;
beforeAll(() => {
  certDir = tempDir("tls");
  cert = selfSignedCertificate(certDir);
});
afterAll(async () => {
  await teardown.run();
  if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
});

/** Short request/response timeouts: an idle period of IDLE_MS is more than twice as long as either. */
const SHORT = { clientMs: 1000, serverMs: 1000 };
const IDLE_MS = 2500;

async function farm(timeouts: HaproxyTimeouts) {
  const node = teardown.add(await startStandIn({ name: "n1", port: await freePort() }));
  return startLoopbackBalancer(teardown, {
    servers: [{ name: "n1", port: node.port }],
    timeouts,
    tls: { certificate: cert!.pem, redirectHttp: false },
  });
}

interface Socket {
  readonly ws: WebSocket;
  /** Resolves with the next message, rejects after `ms`. */
  next(ms?: number): Promise<string>;
  /** Set once the socket closed: close code and when (performance.now()). */
  closed?: { code: number; at: number };
  /** performance.now() of the last message received. */
  lastMessageAt: number;
}

/** ws hands its options to tls.connect, so `servername` (SNI) works although its types leave it out. */
type ConnectOptions = WebSocket.ClientOptions & Pick<tls.ConnectionOptions, "servername">;

function connect(url: string, opts: ConnectOptions = {}): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    teardown.defer(() => ws.terminate());
    const queue: string[] = [];
    const waiting: ((m: string) => void)[] = [];
    const socket: Socket = {
      ws,
      lastMessageAt: 0,
      next: (ms = 2000) =>
        new Promise<string>((res, rej) => {
          if (queue.length) return res(queue.shift()!);
          const timer = setTimeout(() => rej(new Error(`no message within ${ms} ms`)), ms);
          waiting.push((m) => {
            clearTimeout(timer);
            res(m);
          });
        }),
    };
    ws.on("message", (data) => {
      socket.lastMessageAt = performance.now();
      const m = data.toString();
      const w = waiting.shift();
      if (w) w(m);
      else queue.push(m);
    });
    ws.on("close", (code) => (socket.closed = { code, at: performance.now() }));
    ws.once("open", () => resolve(socket));
    ws.once("error", reject);
  });
}

test("an idle websocket outlives the client and server timeouts: timeout tunnel governs it", async () => {
  // GIVEN client and server timeouts of 1 s and a tunnel timeout of 30 s
  const { httpPort, httpsPort } = await farm({ ...SHORT, tunnelMs: 30_000 });
  // AND a websocket to the node over HTTP and one over HTTPS, each answering once
  const sockets = [
    await connect(`ws://127.0.0.1:${httpPort}/ws`),
    await connect(`wss://127.0.0.1:${httpsPort}/ws`, { ca: fs.readFileSync(cert!.cert), servername: "localhost" }), // SNI as for HTTPS
  ];
  for (const s of sockets) {
    s.ws.send("hello");
    expect(await s.next()).toBe("n1: hello");
  }

  // WHEN they stay idle for 2.5 s, more than twice the client and server timeouts
  await sleep(IDLE_MS);

  // THEN they are still open and the same connections carry the next message
  for (const s of sockets) {
    expect(s.closed).toBeUndefined();
    expect(s.ws.readyState).toBe(WebSocket.OPEN);
    s.ws.send("still there?");
    expect(await s.next()).toBe("n1: still there?");
    expect(s.closed).toBeUndefined();
  }
});

test("control: a tunnel timeout shorter than the idle period closes the websocket", async () => {
  // GIVEN the same 1 s client and server timeouts, and a tunnel timeout of 1.5 s
  const tunnelMs = 1500;
  const { httpPort } = await farm({ ...SHORT, tunnelMs });
  const s = await connect(`ws://127.0.0.1:${httpPort}/ws`);
  s.ws.send("hello");
  expect(await s.next()).toBe("n1: hello");

  // WHEN it stays idle for 2.5 s
  await sleep(IDLE_MS);

  // THEN HAProxy has closed it (TCP close without a close frame: 1006)
  expect(s.closed).toBeDefined();
  expect(s.closed!.code).toBe(1006);
  // AND it was the tunnel timeout, not the 1 s client/server timeouts: the close came no earlier than 1.5 s after
  // the last message. The timer started when HAProxy forwarded that message, a little before the client saw it,
  // and HAProxy timers never fire early: 100 ms covers the client-side delay.
  const idleFor = s.closed!.at - s.lastMessageAt;
  console.log(`websocket closed after ${idleFor.toFixed(0)} ms idle (timeout tunnel ${tunnelMs} ms)`);
  expect(idleFor).toBeGreaterThanOrEqual(tunnelMs - 100);
  expect(idleFor).toBeLessThan(IDLE_MS);
});

describe("teardown", () => {
  test("no process is left behind", async () => {
    await teardown.run();
    expect(strayPids()).toEqual([]);
  });
});
