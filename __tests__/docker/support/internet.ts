/**
 * A client on the network that stands for the internet: Node.js in a throwaway container (the stand-in image has
 * node), removed afterwards whatever happens. `https` runs a script with `req(method, path, options)` bound to the
 * portal's published HTTPS port, trusting the tier's certificate, as a browser or an integration on the internet
 * calls it (SNI and Host = the portal's name).
 */
import * as fs from "fs";
import Docker from "dockerode";
import { Deployment, INTERNET } from "./farm";
import { TEST_IMAGES } from "./images";

export interface InternetClient {
  /** Runs `js`; it prints its result on a line starting with "RESULT ", which is returned. */
  fromInternet(js: string): Promise<string>;
  /**
   * Runs an async script body that may call `req(method, path, { host, body, cookie, contentType, auth })` and
   * returns a JSON-serializable value, which is returned parsed.
   */
  https(script: string): Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function internetClient(docker: Docker, d: Deployment): InternetClient {
  const p = d.portal;

  async function fromInternet(js: string): Promise<string> {
    const container = await docker.createContainer({
      Image: TEST_IMAGES.creatio,
      Entrypoint: ["node", "-e", `module.paths.unshift("/opt/stand-in/node_modules"); ${js}`],
      HostConfig: { NetworkMode: INTERNET.name },
      // One plain stream (no multiplexing headers) to read the output from.
      Tty: true,
      Labels: { "org.creatio-farm.test": "internet-client" },
    });
    try {
      await container.start();
      const { StatusCode } = await container.wait();
      const out = String(await container.logs({ stdout: true, stderr: true }));
      if (StatusCode !== 0) throw new Error(`client exited ${StatusCode}: ${out}`);
      const line = out.split(/\r?\n/).find((l) => l.startsWith("RESULT "));
      if (!line) throw new Error(`the client printed no result: ${out}`);
      return line.slice("RESULT ".length);
    } finally {
      await container.remove({ force: true });
    }
  }

  const client = `const https = require("https");
    const req = (method, path, { host = ${JSON.stringify(p.publicHost)}, body, cookie, contentType = "application/json", auth } = {}) => new Promise((resolve) => {
      const r = https.request({ host: ${JSON.stringify(p.address)}, port: ${p.httpsPort}, method, path, servername: host, auth,
        headers: { host, ...(cookie ? { cookie } : {}), ...(body ? { "content-type": contentType } : {}) },
        ca: CA_PEM, timeout: 5000 }, (res) => {
        let b = ""; res.on("data", (c) => (b += c));
        res.on("end", () => resolve({ status: res.statusCode, node: res.headers["x-stand-in-node"] || "", body: b, cookies: (res.headers["set-cookie"] || []).map((c) => c.split(";")[0]).join("; ") }));
      });
      r.on("error", (e) => resolve({ status: e.code || e.message, node: "" })); r.on("timeout", () => r.destroy(new Error("timeout")));
      if (body) r.write(body); r.end();
    });`.replace(/\n\s*/g, " ");
  const caPem = JSON.stringify(fs.readFileSync(p.certificate, "utf8"));

  return {
    fromInternet,
    async https(script) {
      return JSON.parse(await fromInternet(`const CA_PEM = ${caPem}; ${client} (async () => { console.log("RESULT " + JSON.stringify(await (async () => { ${script} })())); })();`));
    },
  };
}
