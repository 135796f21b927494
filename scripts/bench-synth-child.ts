// One measured synth, in its own process: prints {"synthMs","maxRssMb"} as JSON.
import { synthFarm } from "../main";

const [configDir, outdir] = process.argv.slice(2);
const start = process.hrtime.bigint();
const result = synthFarm({ configDir, outdir });
const synthMs = Number(process.hrtime.bigint() - start) / 1e6;
if (!result.ok) {
  console.error(result.errors.join("\n"));
  process.exit(1);
}
console.log(JSON.stringify({ synthMs, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
