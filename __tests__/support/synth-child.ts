// Child-process synth for tests: synthFarm(configDir, outdir); exits 1 with the errors on stderr.
import { synthFarm } from "../../main";

const [configDir, outdir] = process.argv.slice(2);
const result = synthFarm({ configDir, outdir });
if (!result.ok) {
  console.error(result.errors.join("\n"));
  process.exit(1);
}
