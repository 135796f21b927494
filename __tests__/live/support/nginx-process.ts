/**
 * The REAL nginx binary on a rendered nginx.conf, on 127.0.0.1 only: `startNginx` checks the file with `nginx -t`,
 * runs it in the foreground (`daemon off`, as the official image does) and waits until it accepts connections;
 * `stop()` stops the master by PID (SIGQUIT = graceful, SIGKILL after a grace) and makes sure its workers are gone.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { requireProgram } from "../../support/programs";
import { tempDir } from "../../support/farm";
import { childPids } from "./haproxy-process";
import { sleep, stopProcess } from "./processes";
import { running, trackPid } from "./stand-ins";

export interface Nginx {
  readonly pid: number;
  readonly dir: string;
  /** The access log's lines, parsed (one JSON object per request). */
  accessLog(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Paths the rendered file names for its logs and PID, inside a fresh folder. */
export function nginxPaths(dir: string) {
  return { accessLog: path.join(dir, "access.log"), errorLog: path.join(dir, "error.log"), pidFile: path.join(dir, "nginx.pid") };
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createConnection(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });

/** `render(dir)` writes the file's text for a folder `dir` (its logs and PID go there). */
export async function startNginx(render: (dir: string) => string, port: number): Promise<Nginx> {
  const bin = requireProgram("nginx", "nginx");
  const dir = tempDir("nginx");
  const conf = path.join(dir, "nginx.conf");
  fs.writeFileSync(conf, render(dir));
  const check = spawnSync(bin, ["-t", "-q", "-p", dir, "-c", conf], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`nginx -t refused the rendered nginx.conf:\n${check.stderr}`);
  const child = spawn(bin, ["-p", dir, "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
  if (child.pid !== undefined) trackPid(child.pid);
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const workers = new Set<number>();
  for (let i = 0; !(await portOpen(port)); i++) {
    if (child.exitCode !== null || i > 100) throw new Error(`nginx did not start:\n${stderr}`);
    await sleep(50);
  }
  for (const w of childPids(child.pid!)) {
    workers.add(w);
    trackPid(w);
  }
  return {
    pid: child.pid!,
    dir,
    accessLog: () =>
      fs
        .readFileSync(nginxPaths(dir).accessLog, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop() {
      await stopProcess(child, "SIGQUIT", 5000);
      for (let i = 0; [...workers].some(running) && i < 100; i++) await sleep(50);
      for (const w of workers) if (running(w)) process.kill(w, "SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
