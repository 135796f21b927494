/**
 * `npm run bench:synth`: synth time and peak memory of the example environment and of generated 50/100/200/400-node
 * environments (on /20 subnets), each measured in a fresh `node` process (what `npm run synth` costs, module loading
 * included), and what each node adds: synth time and bytes of `cdk.tf.json`. Prints figures; asserts nothing.
 * Goals: example under 0.6 s; each node adds at most 2 ms and 3 KB.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ROOT = path.join(__dirname, "..", "..");
const CHILD = path.join(__dirname, "bench-synth-child.js");

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

function measure(configDir: string): Sample[] {
  const samples: Sample[] = [];
  for (let i = 0; i < RUNS; i++) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-bench-out-"));
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [CHILD, configDir, path.join(outdir, "cdktf.out")], { encoding: "utf8" });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    const terraformBytes = r.status === 0 ? stackJsonBytes(path.join(outdir, "cdktf.out")) : 0;
    fs.rmSync(outdir, { recursive: true, force: true });
    // Flush the deletion of thousands of review copies now, so it does not slow the next measured run down.
    spawnSync("sync");
    if (r.status !== 0) throw new Error(`synth failed: ${r.stderr}`);
    samples.push({ wallMs, terraformBytes, ...JSON.parse(r.stdout) });
  }
  return samples;
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

console.log(`bench:synth — median of ${RUNS} runs, each a fresh node process (node ${process.version}, ${os.cpus().length} cores)`);
const exampleDir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-bench-cfg-"));
fs.copyFileSync(path.join(ROOT, "config", "dev.yaml"), path.join(exampleDir, "dev.yaml"));
report("example (config/dev)", 2, measure(exampleDir));
const perSize: Array<[number, { synthMs: number; terraformBytes: number }]> = [];
for (const nodes of [50, 100, 200, 400]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-bench-cfg-"));
  fs.writeFileSync(path.join(dir, "bench.yaml"), generated(nodes));
  perSize.push([nodes, report(`generated`, nodes, measure(dir))]);
  fs.rmSync(dir, { recursive: true, force: true });
}
fs.rmSync(exampleDir, { recursive: true, force: true });
const pairs = perSize.slice(1).map((b, i) => [perSize[i], b]);
for (const [[n1, a], [n2, b]] of [...pairs, [perSize[0], perSize[perSize.length - 1]]]) {
  const added = n2 - n1;
  console.log(
    `${String(n1).padStart(3)}→${String(n2).padEnd(3)} nodes (min synth): ×${(b.synthMs / a.synthMs).toFixed(2)} for ×${n2 / n1};` +
      ` each node adds ${((b.synthMs - a.synthMs) / added).toFixed(2)} ms and` +
      ` ${((b.terraformBytes - a.terraformBytes) / added / 1024).toFixed(2)} KB of cdk.tf.json`,
  );
}
