/**
 * Stand-in Creatio nodes for the balancer's live tier: one `stand-in-node.js` process per node on 127.0.0.1, so a
 * test can SIGKILL or SIGSTOP one by PID. Also the registry of every PID the balancer tests start (stand-ins and
 * haproxy's master and workers), so a test file can prove it left no process behind.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { alive, stopProcess } from "./processes";

export const STAND_IN_SCRIPT = path.join(__dirname, "stand-in-node.js");

/** Every PID started through this module or haproxy.ts, in this test file (Jest gives each file its own modules). */
const startedPids = new Set<number>();

export function trackPid(pid: number): void {
  startedPids.add(pid);
}

/** Running and not a zombie: a reparented child nobody reaps yet has exited all the same. */
export function running(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** PIDs started in this file that still run: empty after a clean teardown. */
export function strayPids(): number[] {
  return [...startedPids].filter(running);
}

export interface StandInOptions {
  readonly name: string;
  readonly port: number;
  readonly healthPath?: string;
  /** Requests for this path are read, then their connection is closed without an answer. @default - none */
  readonly dropPath?: string;
  /** How long to wait for "ready". @default 10000 */
  readonly readyTimeoutMs?: number;
}

export interface StandIn {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Sends a signal by PID (SIGKILL, SIGSTOP, SIGCONT); no-op once it exited. */
  signal(sig: NodeJS.Signals): void;
  /** Stops it by PID, also when it is SIGSTOPped (SIGCONT first); never hangs. */
  stop(): Promise<void>;
}

export function startStandIn(opts: StandInOptions): Promise<StandIn> {
  const args = [STAND_IN_SCRIPT, "--name", opts.name, "--port", String(opts.port)];
  if (opts.healthPath) args.push("--health-path", opts.healthPath);
  if (opts.dropPath) args.push("--drop-path", opts.dropPath);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid !== undefined) trackPid(child.pid);
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));

  const handle: StandIn = {
    name: opts.name,
    port: opts.port,
    pid: child.pid ?? -1,
    child,
    signal(sig) {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, sig);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      // A stopped process keeps SIGTERM pending until it is continued.
      process.kill(child.pid, "SIGCONT");
      await stopProcess(child, "SIGTERM", 2000);
    },
  };

  return new Promise<StandIn>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      void handle.stop().finally(() => reject(new Error(`stand-in ${opts.name} on port ${opts.port} ${why}\nstderr:\n${stderr}`)));
    };
    const timer = setTimeout(() => fail("did not print ready in time"), opts.readyTimeoutMs ?? 10_000);
    child.once("error", (err) => fail(`could not start: ${err.message}`));
    child.once("exit", (code, sig) => fail(`exited before ready (${code ?? sig})`));
    child.stdout!.on("data", (d) => {
      stdout += d;
      if (stdout.includes(`ready ${opts.port}\n`)) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        child.removeAllListeners("error");
        resolve(handle);
      }
    });
  });
}

/**
 * What a test started, stopped in reverse order by `run()` (from afterEach), even when the test failed. Every
 * stop is attempted; the first error is rethrown after all of them ran.
 */
export class Teardown {
  private readonly steps: (() => unknown)[] = [];

  /** Registers `handle.stop()` and returns the handle. */
  add<T extends { stop(): Promise<void> }>(handle: T): T {
    this.steps.push(() => handle.stop());
    return handle;
  }

  defer(step: () => unknown): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    let first: unknown;
    while (this.steps.length) {
      try {
        await this.steps.pop()!();
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }
}
