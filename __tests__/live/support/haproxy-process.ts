/**
 * The REAL haproxy binary run on a rendered haproxy.cfg, on 127.0.0.1 only: `startHaproxy` checks the file with
 * `haproxy -dW -c` (warnings are errors), then runs it the way the official image's entrypoint does (`haproxy -W
 * -db`: master-worker, in the foreground) and waits until the runtime API answers. `stop()` stops the master by PID
 * (SIGUSR1 = graceful stop, SIGKILL after a grace) and makes sure its workers are gone too.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { requireProgram } from "../../support/programs";
import { sleep, stopProcess } from "./processes";
import { running, trackPid } from "./stand-ins";

/** Temp dirs that hold a model's runtime socket; removed by the stop() of the haproxy that used them. */
const socketDirs = new Set<string>();

/** Marks a folder (a runtime socket's) to be removed when the haproxy using it stops. */
export function removeWithHaproxy(dir: string): void {
  socketDirs.add(dir);
}

export interface ServerState {
  /** The stats CSV `status` column as HAProxy writes it: "UP", "DOWN", "UP 1/2" (going down), "DOWN 1/2" (going up)… */
  readonly raw: string;
  /** First word: "UP", "DOWN", "MAINT", "NOLB", "DRAIN", "no check". */
  readonly state: string;
}

export interface Haproxy {
  readonly masterPid: number;
  /** Workers seen so far (children of the master). */
  readonly workerPids: ReadonlySet<number>;
  readonly cfgPath: string;
  readonly cfg: string;
  readonly socket: string;
  /** Everything haproxy wrote on stdout/stderr (its log goes to stdout), last 256 KB. */
  output(): string;
  /** One runtime API command over the unix socket; resolves with the whole answer. */
  runtime(cmd: string): Promise<string>;
  /** `show stat` of backend `name` (`creatio` or `be_creatio`): server name → state. */
  serverStates(backend: string): Promise<Record<string, ServerState>>;
  /**
   * Polls `show stat` every `pollMs` until the server's normalized state is `state`; resolves with the time it
   * took from `since` (a `performance.now()` value, default the call). Rejects with the last state on timeout.
   */
  waitForState(backend: string, server: string, state: string, timeoutMs: number, since?: number): Promise<number>;
  stop(): Promise<void>;
}

/** Whether the haproxy on PATH is `major.minor` or newer (from `haproxy -v`). */
export function haproxyVersionAtLeast(major: number, minor: number): boolean {
  const out = spawnSync(requireProgram("haproxy", "haproxy"), ["-v"], { encoding: "utf8" }).stdout;
  const m = /version (\d+)\.(\d+)/.exec(out);
  if (!m) throw new Error(`cannot read haproxy's version from: ${out}`);
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

/** Children of `pid`, from /proc (the kernel's list when it has one, else a scan of every process's parent). */
export function childPids(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    const kids: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid === pid) kids.push(Number(entry));
      } catch {
        // exited meanwhile
      }
    }
    return kids;
  }
}

export function runtimeCommand(socket: string, cmd: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const conn = net.createConnection(socket);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`runtime API did not answer "${cmd}" within ${timeoutMs} ms`));
    }, timeoutMs);
    conn.setEncoding("utf8");
    conn.on("connect", () => conn.write(`${cmd}\n`));
    conn.on("data", (d) => (out += d));
    conn.on("end", () => {
      clearTimeout(timer);
      resolve(out);
    });
    conn.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** Parses `show stat` CSV into proxy → server → state (FRONTEND/BACKEND rows left out). */
export function parseShowStat(csv: string): Record<string, Record<string, ServerState>> {
  const lines = csv.split("\n").filter((l) => l.trim() !== "");
  const header = lines.find((l) => l.startsWith("# "));
  if (!header) throw new Error(`not a show stat answer:\n${csv}`);
  const cols = header.slice(2).split(",");
  const px = cols.indexOf("pxname");
  const sv = cols.indexOf("svname");
  const st = cols.indexOf("status");
  const result: Record<string, Record<string, ServerState>> = {};
  for (const line of lines) {
    if (line.startsWith("#")) continue;
    const f = line.split(",");
    if (f[sv] === "FRONTEND" || f[sv] === "BACKEND") continue;
    const raw = f[st];
    const state = raw.startsWith("no check") ? "no check" : raw.split(/[ (]/)[0];
    (result[f[px]] ??= {})[f[sv]] = { raw, state };
  }
  return result;
}

/**
 * Writes `cfgText` into a fresh temp dir, checks it with `haproxy -dW -c` (throws with haproxy's output when it
 * is refused), then starts `haproxy -W -db -f <cfg>` and waits until the runtime socket answers.
 */
export async function startHaproxy(cfgText: string, opts: { readyTimeoutMs?: number; quiet?: boolean } = {}): Promise<Haproxy> {
  const bin = requireProgram("haproxy", "haproxy");
  const socket = /^\s*stats socket (\S+)/m.exec(cfgText)?.[1];
  if (!socket) throw new Error("the haproxy.cfg has no 'stats socket': the live tier needs the runtime API");
  fs.mkdirSync(path.dirname(socket), { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-haproxy-"));
  const cfgPath = path.join(dir, "haproxy.cfg");
  fs.writeFileSync(cfgPath, cfgText);
  const cleanup = () => {
    fs.rmSync(dir, { recursive: true, force: true });
    const sockDir = path.dirname(socket);
    if (socketDirs.has(sockDir)) fs.rmSync(sockDir, { recursive: true, force: true });
  };

  const check = spawnSync(bin, ["-dW", "-c", "-f", cfgPath], { encoding: "utf8" });
  if (check.status !== 0) {
    cleanup();
    throw new Error(`haproxy -dW -c refused the rendered haproxy.cfg (exit ${check.status}):\n${check.stdout}${check.stderr}\n--- haproxy.cfg ---\n${cfgText}`);
  }

  // -W master-worker, -db foreground: as the official image's entrypoint runs it. The log goes to stdout; it is
  // always drained (a full pipe must never stall anything) and kept for diagnostics unless quiet.
  const master: ChildProcess = spawn(bin, ["-W", "-db", "-f", cfgPath], {
    stdio: ["ignore", opts.quiet ? "ignore" : "pipe", "pipe"],
  });
  if (master.pid !== undefined) trackPid(master.pid);
  let out = "";
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 512 * 1024) out = out.slice(-256 * 1024);
  };
  master.stdout?.on("data", keep);
  master.stderr!.on("data", keep);
  master.on("error", (err) => keep(Buffer.from(`spawn error: ${err.message}\n`)));

  const workers = new Set<number>();
  const noteWorkers = () => {
    if (master.pid === undefined || master.exitCode !== null || master.signalCode !== null) return;
    for (const pid of childPids(master.pid)) {
      workers.add(pid);
      trackPid(pid);
    }
  };

  const stop = async () => {
    noteWorkers();
    // SIGUSR1 = soft stop (the image's STOPSIGNAL): listeners close, the worker finishes its connections. A test
    // that failed may leave a websocket open, which would hold the worker for hard-stop-after: SIGKILL after 3 s.
    await stopProcess(master, "SIGUSR1", 3000);
    for (const pid of workers) {
      if (running(pid)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone meanwhile
        }
      }
    }
    for (let i = 0; i < 100 && [...workers].some(running); i++) await sleep(20);
    cleanup();
  };

  const handle: Haproxy = {
    masterPid: master.pid ?? -1,
    workerPids: workers,
    cfgPath,
    cfg: cfgText,
    socket,
    output: () => out,
    runtime: (cmd) => runtimeCommand(socket, cmd),
    async serverStates(backend) {
      const px = backend.startsWith("be_") ? backend : `be_${backend}`;
      return parseShowStat(await runtimeCommand(socket, "show stat"))[px] ?? {};
    },
    async waitForState(backend, server, state, timeoutMs, since = performance.now()) {
      let last: ServerState | undefined;
      while (performance.now() - since < timeoutMs) {
        last = (await handle.serverStates(backend))[server];
        if (last?.state === state) return performance.now() - since;
        await sleep(25);
      }
      throw new Error(`${backend}/${server} not ${state} within ${timeoutMs} ms (last: ${last?.raw ?? "absent"})`);
    },
    stop,
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  for (;;) {
    if (master.exitCode !== null || master.signalCode !== null) {
      cleanup();
      throw new Error(`haproxy exited at start (${master.exitCode ?? master.signalCode}):\n${out}`);
    }
    try {
      await runtimeCommand(socket, "show info", 1000);
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`haproxy's runtime socket ${socket} did not answer in time:\n${out}`);
      }
      await sleep(25);
    }
  }
  noteWorkers();
  return handle;
}
