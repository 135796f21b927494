// The reference bench:synth compares against: cdktf alone, N × (a docker_volume and a docker_container with one
// network, one volume and one uploaded file), no farm code. Prints {"synthMs","maxRssMb"} as JSON, like the farm's child.
import { App, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Container } from "@cdktf/provider-docker/lib/container";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Volume } from "@cdktf/provider-docker/lib/volume";

const [count, outdir] = process.argv.slice(2);
const start = process.hrtime.bigint();
const app = new App({ outdir, stackTraces: false });
const stack = new TerraformStack(app, "baseline");
new DockerProvider(stack, "docker", {});
for (let i = 0; i < Number(count); i++) {
  const scope = new Construct(stack, `node-${i}`);
  const logs = new Volume(scope, "logs", { name: `baseline-node-${i}-logs` });
  new Container(scope, "container", {
    name: `baseline-node-${i}`,
    image: "registry.example.com/creatio-net8:8.3.1",
    volumes: [{ volumeName: logs.name, containerPath: "/app/Logs" }],
    networksAdvanced: [{ name: "baseline-app", ipv4Address: `172.31.${i >> 8}.${i & 255}` }],
    upload: [{ file: "/app/ConnectionStrings.config", content: "x".repeat(1500) }],
  });
}
app.synth();
const synthMs = Number(process.hrtime.bigint() - start) / 1e6;
console.log(JSON.stringify({ synthMs, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
