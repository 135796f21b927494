/**
 * TLS termination with the rendered haproxy.cfg and the REAL haproxy (self-signed certificate for localhost):
 * Secure cookies exactly once, HSTS, the scheme the node is told, and the redirect from plain HTTP.
 */
import * as fs from "fs";
import { Echo, rawRequest, request } from "./support/http-client";
import { LoopbackOptions, startLoopbackBalancer } from "./support/loopback";
import { freePort } from "./support/processes";
import { startStandIn, strayPids, Teardown } from "./support/stand-ins";
import { tempDir } from "../support/farm";
import { selfSignedCertificate } from "../support/self-signed";

const teardown = new Teardown();
afterEach(() => teardown.run());

let certDir: string | undefined;
let cert: ReturnType<typeof selfSignedCertificate> | undefined;
let ca: Buffer;
beforeAll(() => {
  certDir = tempDir("tls");
  cert = selfSignedCertificate(certDir);
  ca = fs.readFileSync(cert.cert);
});
afterAll(async () => {
  await teardown.run();
  if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
});

/** The Set-Cookie headers the stand-in sends on /cookies, as Creatio does at login. */
const NODE_COOKIES = ["BPMSESSIONID=abc; path=/; HttpOnly", "UserName=bob; path=/; secure", "BPMCSRF=xyz; path=/"];

/** One stand-in node behind a balancer, with TLS when `tls` is given; returns the ports. */
async function farm(tls?: Omit<NonNullable<LoopbackOptions["tls"]>, "port">) {
  const node = teardown.add(await startStandIn({ name: "n1", port: await freePort() }));
  return startLoopbackBalancer(teardown, { servers: [{ name: "n1", port: node.port }], tls });
}

/** The client trusts the self-signed certificate and sends SNI localhost. */
const https = () => ({ ca, servername: "localhost" });

test("over HTTPS every cookie is Secure exactly once, with HSTS, and the node is told https", async () => {
  // GIVEN a balancer terminating TLS with a certificate the client trusts
  const { httpsPort } = await farm({ certificate: cert!.pem });

  // WHEN a login response sets three cookies, one of them already secure
  const login = await request({ port: httpsPort, path: "/cookies", tls: https() });

  // THEN each gets Secure once, the already-secure one is left as it was, every other attribute is kept
  expect(login.status).toBe(200);
  expect(login.headers["set-cookie"]).toEqual([
    "BPMSESSIONID=abc; path=/; HttpOnly; Secure",
    "UserName=bob; path=/; secure",
    "BPMCSRF=xyz; path=/; Secure",
  ]);
  for (const cookie of login.headers["set-cookie"]!) expect(cookie.match(/;\s*secure\b/gi)).toHaveLength(1);
  // AND the browser is told to stay on HTTPS
  expect(login.headers["strict-transport-security"]).toBe("max-age=63072000");

  // WHEN the client claims the request came over http, or from elsewhere
  const r = await request({
    port: httpsPort,
    path: "/echo",
    tls: https(),
    headers: { "X-Forwarded-Proto": "http", "X-Forwarded-For": "6.6.6.6" },
  });
  // THEN the node sees the scheme and address HAProxy really served
  const seen = JSON.parse(r.body) as Echo;
  expect(seen.headers["x-forwarded-proto"]).toBe("https");
  expect(seen.headers["x-forwarded-for"]).toBe("127.0.0.1");
});

test("plain HTTP answers 301 to the configured host on the HTTPS port, keeping path and query, whatever Host the client sends", async () => {
  // GIVEN TLS on its own port and redirectHttp on; the configured host is "localhost"
  const { httpPort, httpsPort } = await farm({ certificate: cert!.pem, redirectHttp: true });

  // WHEN a client asks over plain HTTP, with the HTTP port in its Host header
  const r = await request({ port: httpPort, path: "/0/Nui/ViewModule.aspx?a=1&b=%20x", headers: { Host: `localhost:${httpPort}` } });

  // THEN HAProxy itself answers with a redirect to the HTTPS port
  expect(r.status).toBe(301);
  expect(r.headers.location).toBe(`https://localhost:${httpsPort}/0/Nui/ViewModule.aspx?a=1&b=%20x`);
  // AND a Host naming another site changes nothing: the balancer is no open redirect
  const other = await request({ port: httpPort, path: "/echo", headers: { Host: "evil.example" } });
  expect(other.headers.location).toBe(`https://localhost:${httpsPort}/echo`);
  // AND the redirect target answers over HTTPS
  const followed = await request({ port: httpsPort, path: "/0/Nui/ViewModule.aspx?a=1&b=%20x", tls: https() });
  expect(followed.status).toBe(200);
  expect(followed.body).toBe("node n1\n");
  // AND an HTTP/1.0 request without Host goes to the configured host too
  const hostless = await rawRequest(httpPort, "GET /0/ HTTP/1.0\r\n\r\n");
  expect(hostless.split("\r\n")[0]).toBe("HTTP/1.1 301 Moved Permanently");
  expect(hostless).toMatch(new RegExp(`^location: https://localhost:${httpsPort}/0/$`, "im"));
});

test("with HTTPS published on 443 the redirect names no port", async () => {
  // GIVEN HTTPS listening on a test port but published on 443
  const { httpPort } = await farm({ publicPort: 443, certificate: cert!.pem });
  // WHEN a client asks over plain HTTP on another port
  const r = await request({ port: httpPort, path: "/0/?x=1", headers: { Host: `crm.example.com:${httpPort}` } });
  // THEN the Location is the default HTTPS port's, on the configured host
  expect(r.status).toBe(301);
  expect(r.headers.location).toBe("https://localhost/0/?x=1");
});

test("without TLS, or over plain HTTP with redirect off, cookies and headers are not touched", async () => {
  // GIVEN a balancer without TLS
  const plain = await farm();
  // WHEN the node sets cookies
  const r = await request({ port: plain.httpPort, path: "/cookies" });
  // THEN they pass as they are (Secure over HTTP would lose the session), without HSTS
  expect(r.status).toBe(200);
  expect(r.headers["set-cookie"]).toEqual(NODE_COOKIES);
  expect(r.headers).not.toHaveProperty("strict-transport-security");
  expect((JSON.parse((await request({ port: plain.httpPort, path: "/echo" })).body) as Echo).headers["x-forwarded-proto"]).toBe("http");

  // GIVEN TLS with redirectHttp off: plain HTTP is served as well
  const both = await farm({ certificate: cert!.pem, redirectHttp: false });
  // THEN over HTTP the cookies are untouched, over HTTPS they are Secure
  const overHttp = await request({ port: both.httpPort, path: "/cookies" });
  expect(overHttp.status).toBe(200);
  expect(overHttp.headers["set-cookie"]).toEqual(NODE_COOKIES);
  expect(overHttp.headers).not.toHaveProperty("strict-transport-security");
  const overHttps = await request({ port: both.httpsPort, path: "/cookies", tls: https() });
  expect(overHttps.headers["set-cookie"]!.every((c) => /;\s*secure\b/i.test(c))).toBe(true);
});

describe("teardown", () => {
  test("no process is left behind", async () => {
    await teardown.run();
    expect(strayPids()).toEqual([]);
  });
});
