/**
 * `npm run bench:balancer`: throughput and latency of the rendered haproxy.cfg with the REAL haproxy on loopback,
 * against the same load sent straight to one stand-in node, in the same run.
 *
 * Two stand-in nodes (weights 1:1) behind haproxy rendered by renderHaproxyCfg with the product's default timings.
 * wrk runs (a) directly against one node and (b) through HAProxy to both, with the same threads, connections and
 * duration, each after a short warm-up, alternating direct/balancer for a few rounds so a drift of the machine
 * hits both alike. Reports per round and the median: requests/s, p50, p99, and balancer/direct requests/s against
 * the goal of at least 0.7. Prints figures; exits 1 only when it could not measure (missing wrk, wrk errors).
 *
 * usage: npm run bench:balancer [-- --duration 10 --rounds 2 --connections 32 --threads 1 --warmup 2]
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import { parseArgs } from "node:util";
import { renderHaproxyCfg } from "../constructs/balancer/render-haproxy-cfg";
import { DEFAULTS } from "../constructs/defaults";
import { Haproxy, startHaproxy } from "../__tests__/live/support/haproxy-process";
import { request } from "../__tests__/live/support/http-client";
import { loopbackModel, writeModelFiles } from "../__tests__/live/support/loopback";
import { freePort } from "../__tests__/live/support/processes";
import { StandIn, startStandIn, strayPids } from "../__tests__/live/support/stand-ins";

const GOAL = 0.7;

const { values: args } = parseArgs({
  options: Object.fromEntries(["duration", "rounds", "connections", "threads", "warmup"].map((n) => [n, { type: "string" as const }])),
});

/** A positive number option; an unknown option or a bad value fails before anything starts (parseArgs is strict). */
function option(name: string, fallback: number): number {
  const value = args[name] === undefined ? fallback : Number(args[name]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const DURATION_S = option("duration", 10);
const ROUNDS = option("rounds", 2);
const CONNECTIONS = option("connections", 32);
const THREADS = option("threads", 1);
const WARMUP_S = option("warmup", 2);

interface WrkResult {
  readonly rps: number;
  /** CPU time per request in µs, from /proc: haproxy (master + worker), the stand-in nodes, everything else. */
  readonly cpu?: { readonly haproxyUs: number; readonly nodesUs: number; readonly restUs: number; readonly coresBusy: number };
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Socket errors and non-2xx/3xx responses. */
  readonly errors: number;
  readonly raw: string;
}

/** wrk prints latencies as 812.00us, 1.23ms, 2.05s (and m/h beyond). */
function latencyMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`unreadable wrk latency "${text}"`);
  const factor = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "us" | "ms" | "s" | "m" | "h"];
  return Number(m[1]) * factor;
}

function parseWrk(out: string): WrkResult {
  const percentile = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)\\s*$`, "m").exec(out);
    if (!m) throw new Error(`no ${p}% latency in wrk output (run with --latency):\n${out}`);
    return latencyMs(m[1]);
  };
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const requests = /^\s+(\d+) requests in /m.exec(out);
  if (!rps || !requests) throw new Error(`unreadable wrk output:\n${out}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { rps: Number(rps[1]), p50Ms: percentile("50"), p99Ms: percentile("99"), requests: Number(requests[1]), errors, raw: out };
}

const children = new Set<ChildProcess>();
const standIns: StandIn[] = [];
let haproxy: Haproxy | undefined;

function wrk(url: string, seconds: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", url], { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code, sig) => {
      children.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`wrk exited with ${code ?? sig}:\n${out}`));
    });
  });
}

const TICK_US = 1e6 / Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim() || 100);

/** utime + stime of a process (all its threads), in clock ticks; 0 once it is gone. */
function processTicks(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** Busy (non-idle, non-iowait) ticks of the whole machine. */
function machineBusyTicks(): number {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return f.reduce((a, b) => a + b, 0) - f[3] - f[4];
}

function cpuSnapshot() {
  const hp = [haproxy!.masterPid, ...haproxy!.workerPids];
  return {
    at: performance.now(),
    haproxy: hp.reduce((sum, pid) => sum + processTicks(pid), 0),
    nodes: standIns.reduce((sum, s) => sum + processTicks(s.pid), 0),
    machine: machineBusyTicks(),
  };
}

async function measure(url: string): Promise<WrkResult> {
  await wrk(url, WARMUP_S);
  const before = cpuSnapshot();
  const result = parseWrk(await wrk(url, DURATION_S));
  const after = cpuSnapshot();
  const perRequest = (ticks: number) => (ticks * TICK_US) / result.requests;
  const haproxyTicks = after.haproxy - before.haproxy;
  const nodeTicks = after.nodes - before.nodes;
  const machineTicks = after.machine - before.machine;
  return {
    ...result,
    cpu: {
      haproxyUs: perRequest(haproxyTicks),
      nodesUs: perRequest(nodeTicks),
      restUs: perRequest(machineTicks - haproxyTicks - nodeTicks),
      coresBusy: (machineTicks * TICK_US) / 1e6 / ((after.at - before.at) / 1000),
    },
  };
}

let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const child of children) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    await haproxy?.stop();
    await Promise.all(standIns.map((s) => s.stop()));
  })();
  return cleaning;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  if (spawnSync("sh", ["-c", "command -v wrk"]).status !== 0) {
    console.error("wrk is not installed: apt-get install -y wrk");
    process.exitCode = 1;
    return;
  }
  for (const name of ["n1", "n2"]) standIns.push(await startStandIn({ name, port: await freePort() }));
  const httpPort = await freePort();
  const hc = DEFAULTS.balancer.healthCheck;
  const t = DEFAULTS.balancer.timeouts;
  const model = loopbackModel({
    httpPort,
    statsPort: await freePort(),
    servers: standIns.map((s) => ({ name: s.name, port: s.port, weight: 1 })),
    healthCheck: { path: hc.path, host: hc.host, intervalMs: hc.intervalMs, fall: hc.fall, rise: hc.rise, timeoutMs: hc.timeoutMs },
    timeouts: { clientMs: t.clientSeconds * 1000, serverMs: t.serverSeconds * 1000, tunnelMs: t.websocketIdleSeconds * 1000 },
    // The per-source limits are on (every request is tracked), but set above what wrk sends from its one address:
    // the benchmark measures what they cost, not how fast they refuse.
    limits: { maxConnections: DEFAULTS.balancer.maxConnections, connectionsPerSource: 100_000, requestsPer10sPerSource: 1_000_000_000 },
  });
  // quiet: haproxy still formats and writes its log line per request (as in the container), to /dev/null.
  writeModelFiles(model);
  haproxy = await startHaproxy(renderHaproxyCfg(model), { quiet: true });
  const direct = `http://127.0.0.1:${standIns[0].port}/`;
  const balanced = `http://127.0.0.1:${httpPort}/`;
  for (const url of [direct, balanced]) {
    const r = await request({ port: Number(new URL(url).port), path: "/" });
    if (r.status !== 200) throw new Error(`${url} answered ${r.status}`);
  }

  console.log(`# balancer benchmark (${new Date().toISOString()})`);
  console.log(
    `haproxy ${/version (\S+)/.exec(spawnSync("haproxy", ["-v"], { encoding: "utf8" }).stdout)?.[1]}, node ${process.version}, ` +
      `${os.cpus().length} CPU(s) (${os.cpus()[0]?.model.trim()}), load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`,
  );
  console.log(
    `wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION_S}s --latency (after a ${WARMUP_S}s warm-up each), GET / (an 8-byte body); ` +
      `direct = one stand-in node, balancer = HAProxy roundrobin over two (weights 1:1, default timings, log to /dev/null).`,
  );
  console.log(
    `NOTE: wrk, haproxy and the node processes share these ${os.cpus().length} cores; every figure is CPU-bound on loopback, ` +
      `so it compares the two paths on this machine and says nothing about a real farm's capacity.\n`,
  );

  const rows: { round: number; target: string; r: WrkResult }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [target, url] of [
      ["direct", direct],
      ["balancer", balanced],
    ] as const) {
      process.stderr.write(`round ${round}: ${target}…\n`);
      const r = await measure(url);
      if (r.errors > 0) throw new Error(`${target} had ${r.errors} errors:\n${r.raw}`);
      rows.push({ round, target, r });
    }
  }

  console.log("| round | target | requests/s | p50 | p99 | CPU µs/request: haproxy / nodes / rest (wrk, kernel) | cores busy |");
  console.log("|---|---|---:|---:|---:|---|---:|");
  for (const { round, target, r } of rows) {
    const c = r.cpu!;
    console.log(
      `| ${round} | ${target} | ${fmt(r.rps)} | ${fmt(r.p50Ms, 2)} ms | ${fmt(r.p99Ms, 2)} ms | ` +
        `${fmt(c.haproxyUs, 1)} / ${fmt(c.nodesUs, 1)} / ${fmt(c.restUs, 1)} | ${fmt(c.coresBusy, 2)} |`,
    );
  }
  const med = (target: string) => {
    const rs = rows.filter((row) => row.target === target).map((row) => row.r);
    return { rps: median(rs.map((r) => r.rps)), p50: median(rs.map((r) => r.p50Ms)), p99: median(rs.map((r) => r.p99Ms)) };
  };
  const d = med("direct");
  const b = med("balancer");
  console.log(`| median | direct | ${fmt(d.rps)} | ${fmt(d.p50, 2)} ms | ${fmt(d.p99, 2)} ms | | |`);
  console.log(`| median | balancer | ${fmt(b.rps)} | ${fmt(b.p50, 2)} ms | ${fmt(b.p99, 2)} ms | | |`);
  const ratio = b.rps / d.rps;
  const perRound = Array.from({ length: ROUNDS }, (_, i) => {
    const pick = (target: string) => rows.find((row) => row.round === i + 1 && row.target === target)!.r.rps;
    return (pick("balancer") / pick("direct")).toFixed(2);
  });
  console.log(
    `\nbalancer/direct requests/s: ${ratio.toFixed(2)} (median; per round ${perRound.join(", ")}), goal >= ${GOAL}: ` +
      `${ratio >= GOAL ? "met" : "NOT met"}`,
  );
}

let interrupted = false;
process.on("SIGINT", () => {
  interrupted = true;
  console.error("interrupted: stopping wrk, haproxy and the stand-in nodes");
  void cleanup().finally(() => process.exit(130));
});

main()
  .catch((err) => {
    if (!interrupted) console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    const stray = strayPids();
    if (stray.length) {
      console.error(`processes still running after cleanup: ${stray.join(" ")}`);
      process.exitCode = 1;
    }
  });
