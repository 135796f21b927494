/**
 * The one-shot kind of workload, in the real Engine: the apply waits for the job, a job that exits 0 passes with its
 * provisioned files in place, one that exits non-zero fails the apply with its name (the postcondition on the
 * container's exit code). A test-only stack of two jobs on the tier's Debian image.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { FarmContainer } from "../../constructs/lib/farm-container";
import { farmImage } from "../../constructs/lib/farm-image";
import { Applier } from "./support/apply/applier";
import { engine } from "./support/engine";
import { ENV } from "./support/farm";
import { TEST_IMAGES } from "./support/images";

const docker = engine();
const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-jobs-"));
const appliers: Applier[] = [];
afterAll(async () => {
  for (const a of appliers) await a.destroy();
  fs.rmSync(outdir, { recursive: true, force: true });
});

/** A stack holding one job that runs `script` with /etc/job.conf provisioned; returns its folder. */
function jobStack(app: App, name: string, script: string): string {
  const stack = new TerraformStack(app, name);
  new DockerProvider(stack, "docker", {});
  const job = new FarmContainer(stack, "job", {
    name,
    image: farmImage(stack, TEST_IMAGES.base),
    role: "app",
    secrets: { reference: () => "unused" },
    kind: { type: "job" },
    command: ["sh", "-c", script],
  });
  job.addFile({ path: "/etc/job.conf", format: "text", render: () => "greeting=hello\n" });
  return path.join(outdir, "stacks", name);
}

const app = new App({ outdir });
const passing = jobStack(app, `${ENV}-job-ok`, "grep -q greeting=hello /etc/job.conf && echo done");
const failing = jobStack(app, `${ENV}-job-fail`, "echo 'cannot go on' >&2; exit 3");
app.synth();

test("a job that exits 0: the apply waits for it and passes; its files were there; it is not restarted", async () => {
  const applier = new Applier(docker, passing);
  appliers.push(applier);
  await applier.apply();
  const info = await docker.getContainer(`${ENV}-job-ok`).inspect();
  expect(info.State).toMatchObject({ Running: false, ExitCode: 0 });
  expect(info.HostConfig.RestartPolicy?.Name).toBe("no");
  expect((await docker.getContainer(`${ENV}-job-ok`).logs({ stdout: true, stderr: true })).toString("utf8")).toContain("done");
});

test("a job that exits non-zero fails the apply with its name, where its output is and how to run it again", async () => {
  const applier = new Applier(docker, failing);
  appliers.push(applier);
  const error = await applier.apply().then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error?.message).toMatch(
    /^Resource postcondition failed for docker_container\.job: dockertier-job-fail exited with a non-zero status: its output is in docker logs dockertier-job-fail\. Plans fail on it until it runs again: after fixing the cause, terraform apply -replace=docker_container\.job$/,
  );
  expect((await docker.getContainer(`${ENV}-job-fail`).inspect()).State.ExitCode).toBe(3);
});
