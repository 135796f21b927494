/**
 * The Docker Engine the tier talks to: the local socket (or DOCKER_HOST), through dockerode. No traffic goes from
 * this process to a container's private address; tests reach the farm on ports published on 127.0.0.1 or with
 * `docker exec`.
 */
import Docker from "dockerode";

export function engine(): Docker {
  return new Docker();
}

/** Fails with what to do when no Engine answers. */
export async function requireEngine(docker: Docker): Promise<void> {
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(
      `no Docker Engine answers (${(e as Error).message}): apt-get install -y docker.io debootstrap, then start dockerd (.ci/run does both)`,
    );
  }
}

/** Reads a build, pull or import progress stream to its end; an error message in it fails the call, with the output. */
export function followProgress(docker: Docker, stream: NodeJS.ReadableStream, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    docker.modem.followProgress(
      stream,
      (err: Error | null) => {
        const output = lines.join("").split("\n").slice(-40).join("\n");
        if (err) reject(new Error(`${what} failed: ${err.message}\n${output}`));
        else resolve(lines.join(""));
      },
      (event: { stream?: string; status?: string; error?: string }) => {
        if (event.stream) lines.push(event.stream);
        else if (event.status) lines.push(`${event.status}\n`);
        if (event.error) lines.push(`ERROR: ${event.error}\n`);
      },
    );
  });
}

/** Runs a command in a running container; returns its exit code and output (stdout and stderr separated). */
export async function exec(
  docker: Docker,
  container: string,
  cmd: string[],
  options: { user?: string; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const e = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: options.user });
  const stream = await e.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const { PassThrough } = await import("stream");
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on("data", (d: Buffer) => out.push(d));
  stderr.on("data", (d: Buffer) => err.push(d));
  docker.modem.demuxStream(stream, stdout, stderr);
  await new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", reject);
  });
  const info = await e.inspect();
  return { code: info.ExitCode ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}
