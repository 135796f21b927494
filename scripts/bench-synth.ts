/**
 * `npm run bench:synth`: synth time and peak memory of the example environment and of generated 50/100/200/400-node
 * environments (on /20 subnets), each measured in a fresh `node` process (what `npm run synth` costs, module loading
 * included), and what each node adds: synth time and bytes of `cdk.tf.json`, beside what cdktf alone costs per node
 * for a bare container and volume (the floor no construct code goes below). Prints figures; asserts nothing.
 * Goals: example under 0.6 s; each node adds at most 2 ms and 3 KB.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ROOT = path.join(__dirname, "..", "..");
const CHILD = path.join(__dirname, "bench-synth-child.js");
const BASELINE_CHILD = path.join(__dirname, "bench-synth-baseline-child.js");

interface Sample {
  wallMs: number;
  synthMs: number;
  maxRssMb: number;
  /** Size of the stack's cdk.tf.json. */
  terraformBytes: number;
}

function generated(nodes: number): string {
  const list = Array.from({ length: nodes }, (_, i) => `    - { name: node-${i + 1}, weight: ${(i % 3) + 1} }`).join("\n");
  return [
    "network: { appSubnet: 172.31.0.0/20, dataSubnet: 172.31.16.0/20 }",
    "creatio:",
    "  image: registry.example.com/creatio-net8:8.3.1",
    "  nodes:",
    list,
    "balancer: { image: haproxy:2.8, maxConnections: 50000 }",
    "redis: { image: redis:7.2 }",
    `database: { image: postgres:16, nodePoolSize: 4, maxConnections: ${nodes * 8 + 10} }`,
    "",
  ].join("\n");
}

/** One measured run of `child`, whose first argument is `input` (the farm's: a config folder; the baseline's: a node count). */
function sample(input: string, child: string): Sample {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-bench-out-"));
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [child, input, path.join(outdir, "cdktf.out")], { encoding: "utf8" });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const terraformBytes = r.status === 0 ? stackJsonBytes(path.join(outdir, "cdktf.out")) : 0;
  fs.rmSync(outdir, { recursive: true, force: true });
  // Flush the deletion of thousands of review copies now, so it does not slow the next measured run down.
  spawnSync("sync");
  if (r.status !== 0) throw new Error(`synth failed: ${r.stderr}`);
  return { wallMs, terraformBytes, ...JSON.parse(r.stdout) };
}

function stackJsonBytes(outdir: string): number {
  const stacks = path.join(outdir, "stacks");
  const [stack] = fs.readdirSync(stacks);
  return fs.statSync(path.join(stacks, stack, "cdk.tf.json")).size;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Prints median and minimum (the minimum is the run least disturbed by whatever else the machine did). */
function report(label: string, nodes: number, samples: Sample[]) {
  const wall = samples.map((s) => s.wallMs);
  const synth = samples.map((s) => s.synthMs);
  const rss = Math.max(...samples.map((s) => s.maxRssMb));
  const ms = (x: number) => `${x.toFixed(0).padStart(5)} ms`;
  console.log(
    `${label.padEnd(22)} nodes=${String(nodes).padStart(3)}  process median ${ms(median(wall))} min ${ms(Math.min(...wall))}` +
      `  synth median ${ms(median(synth))} min ${ms(Math.min(...synth))}  peak RSS ${rss.toFixed(0)} MB`,
  );
  return { synthMs: Math.min(...synth), terraformBytes: samples[0].terraformBytes };
}

interface Job {
  label: string;
  nodes: number;
  input: string;
  child: string;
  samples: Sample[];
}

console.log(`bench:synth — ${RUNS} rounds, each run a fresh node process (node ${process.version}, ${os.cpus().length} cores)`);
const folders: string[] = [];
function configFolder(file: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-bench-cfg-"));
  fs.writeFileSync(path.join(dir, file), text);
  folders.push(dir);
  return dir;
}
const example: Job = {
  label: "example (fixture dev)",
  nodes: 2,
  input: configFolder("dev.yaml", fs.readFileSync(path.join(ROOT, "__tests__", "fixtures", "environments", "dev.yaml"), "utf8")),
  child: CHILD,
  samples: [],
};
const SIZES = [50, 100, 200, 400];
const farm: Job[] = SIZES.map((nodes) => ({ label: "generated", nodes, input: configFolder("bench.yaml", generated(nodes)), child: CHILD, samples: [] }));
// What cdktf itself costs per node: a bare container and volume, no farm code (the floor).
const baseline: Job[] = [50, 400].map((nodes) => ({ label: "cdktf alone", nodes, input: String(nodes), child: BASELINE_CHILD, samples: [] }));
// Rounds interleave every case, so a change in the machine's load touches all of them alike.
const jobs = [example, ...farm, ...baseline];
for (let round = 0; round < RUNS; round++) for (const job of jobs) job.samples.push(sample(job.input, job.child));
for (const dir of folders) fs.rmSync(dir, { recursive: true, force: true });

const results = new Map(jobs.map((job) => [job, report(job.label, job.nodes, job.samples)]));
const perNode = (a: number, b: number, added: number) => ((b - a) / added).toFixed(2);
const pairs: Array<[Job, Job]> = [...farm.slice(1).map((b, i): [Job, Job] => [farm[i], b]), [farm[0], farm[farm.length - 1]]];
for (const [a, b] of pairs) {
  const [ra, rb] = [results.get(a)!, results.get(b)!];
  const added = b.nodes - a.nodes;
  console.log(
    `${String(a.nodes).padStart(3)}→${String(b.nodes).padEnd(3)} nodes (min synth): ×${(rb.synthMs / ra.synthMs).toFixed(2)} for ×${b.nodes / a.nodes};` +
      ` each node adds ${perNode(ra.synthMs, rb.synthMs, added)} ms and` +
      ` ${((rb.terraformBytes - ra.terraformBytes) / added / 1024).toFixed(2)} KB of cdk.tf.json`,
  );
}
const [b0, b1] = baseline.map((job) => results.get(job)!.synthMs);
console.log(`cdktf alone (a bare docker_container and docker_volume per node), 50→400: each node adds ${perNode(b0, b1, 350)} ms`);
