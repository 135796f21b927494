/**
 * The Docker tier's images, built locally (these machines reach no container registry) and cached by content hash:
 * a Debian 13 base from `debootstrap`, then HAProxy, Redis, PostgreSQL, nginx and a stand-in Creatio node built FROM it
 * with Debian's packages, and a stand-in Identity Service built FROM the Creatio stand-in (its nodejs and `pg`). An
 * image is rebuilt only when its recipe (Dockerfile, scripts, base) changes: the hash is stored as a label and
 * compared before any build.
 */
import { spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import { pack, TarEntry } from "./tar";
import { followProgress } from "./engine";

export const HASH_LABEL = "org.creatio-farm.content-hash";
const IMAGES_DIR = path.join(__dirname, "..", "images");
const REPO_ROOT = path.join(__dirname, "..", "..", "..");

/** Tags the test environment names (see fixtures/farm.yaml). */
export const TEST_IMAGES = {
  base: "creatio-farm-test/debian:trixie",
  haproxy: "creatio-farm-test/haproxy:3.0",
  redis: "creatio-farm-test/redis:8.0",
  postgres: "creatio-farm-test/postgres:17",
  creatio: "creatio-farm-test/creatio-stand-in:8.3.1",
  identity: "creatio-farm-test/identity-stand-in:1.0",
  nginx: "creatio-farm-test/nginx:1.26",
} as const;

type ImageName = keyof typeof TEST_IMAGES;

/** The image each recipe is built FROM (its BASE build argument); its hash is part of the image's hash. */
const PARENT: Partial<Record<ImageName, ImageName>> = { identity: "creatio" };

/** Recipe directories under images/ whose name is not the image's. */
const RECIPE_DIRS: Partial<Record<ImageName, string>> = { creatio: "creatio-stand-in", identity: "identity-stand-in" };

/** What `debootstrap` installs; part of the base image's hash. */
const BASE_RECIPE = {
  suite: "trixie",
  variant: "minbase",
  mirror: process.env.DEBIAN_MIRROR ?? "http://deb.debian.org/debian",
  include: ["ca-certificates"],
  // No init runs in a container: package scripts must not try to start services during a build.
  policyRcD: "#!/bin/sh\nexit 101\n",
};

export interface BuildReport {
  /** Seconds each image took; 0 when the cached image was reused. */
  readonly seconds: Record<ImageName, number>;
  readonly built: ImageName[];
}

export async function ensureTestImages(docker: Docker, log: (line: string) => void = () => {}): Promise<BuildReport> {
  const seconds = {} as Record<ImageName, number>;
  const built: ImageName[] = [];
  const baseHash = sha256(JSON.stringify(BASE_RECIPE));
  const hashes = { base: baseHash } as Record<ImageName, string>;
  const t0 = Date.now();
  if (await cached(docker, TEST_IMAGES.base, baseHash)) {
    seconds.base = 0;
  } else {
    log(`building ${TEST_IMAGES.base} with debootstrap (${BASE_RECIPE.suite})`);
    await buildBase(docker, baseHash);
    seconds.base = (Date.now() - t0) / 1000;
    built.push("base");
  }
  // A parent before its children: the identity stand-in is built FROM the Creatio stand-in.
  for (const name of ["haproxy", "redis", "postgres", "creatio", "identity", "nginx"] as const) {
    const entries = contextFor(name);
    const parent = PARENT[name] ?? "base";
    const hash = sha256(hashes[parent] + entriesDigest(entries));
    hashes[name] = hash;
    const started = Date.now();
    if (await cached(docker, TEST_IMAGES[name], hash)) {
      seconds[name] = 0;
      continue;
    }
    log(`building ${TEST_IMAGES[name]}`);
    await buildFromContext(docker, TEST_IMAGES[name], entries, { buildargs: { BASE: TEST_IMAGES[parent] }, labels: { [HASH_LABEL]: hash } });
    seconds[name] = (Date.now() - started) / 1000;
    built.push(name);
  }
  if (built.length) await removeSuperseded(docker);
  return { seconds, built };
}

/**
 * Earlier builds of the test images, untagged by a rebuild: they would pile up with every recipe change. An old
 * Creatio stand-in goes only after the old identity stand-in built FROM it, so removal repeats while it progresses.
 */
async function removeSuperseded(docker: Docker): Promise<void> {
  for (let removed = true; removed; ) {
    removed = false;
    const old = await docker.listImages({ filters: { dangling: ["true"], label: [HASH_LABEL] } });
    for (const image of old) {
      // Still used by a stopped container, or the parent of one still here: left for later.
      removed = (await docker.getImage(image.Id).remove().then(() => true, () => false)) || removed;
    }
  }
}

/** Removes the test images (the benchmark's cold build), children before the image they are built FROM. */
export async function removeTestImages(docker: Docker): Promise<void> {
  for (const tag of Object.values(TEST_IMAGES).reverse()) {
    await docker.getImage(tag).remove({ force: true }).catch((e: { statusCode?: number }) => {
      if (e.statusCode !== 404) throw e;
    });
  }
}

async function cached(docker: Docker, tag: string, hash: string): Promise<boolean> {
  try {
    const info = await docker.getImage(tag).inspect();
    return info.Config?.Labels?.[HASH_LABEL] === hash;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

/** Builds `tag` from in-memory context entries with the legacy builder; a failed step throws with its output. */
export async function buildFromContext(
  docker: Docker,
  tag: string,
  entries: readonly TarEntry[],
  options: { buildargs?: Record<string, string>; labels?: Record<string, string>; dockerfile?: string } = {},
): Promise<void> {
  const stream = await docker.buildImage(pack(entries), { t: tag, rm: true, forcerm: true, ...options });
  await followProgress(docker, stream, `build of ${tag}`);
}

/** Runs debootstrap into a temporary root and imports it: root is needed (CI runs as root). */
async function buildBase(docker: Docker, hash: string): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "creatio-farm-rootfs-"));
  try {
    await run("debootstrap", [
      `--variant=${BASE_RECIPE.variant}`,
      `--include=${BASE_RECIPE.include.join(",")}`,
      BASE_RECIPE.suite,
      root,
      BASE_RECIPE.mirror,
    ]);
    fs.writeFileSync(path.join(root, "usr/sbin/policy-rc.d"), BASE_RECIPE.policyRcD, { mode: 0o755 });
    // Package downloads and indexes are not part of the image: every recipe runs its own `apt-get update`.
    const remove = (dir: string, keep: (f: string) => boolean) =>
      fs.readdirSync(path.join(root, dir)).filter((f) => !keep(f)).forEach((f) => fs.rmSync(path.join(root, dir, f), { recursive: true }));
    remove("var/cache/apt/archives", (f) => !f.endsWith(".deb"));
    remove("var/lib/apt/lists", (f) => f === "partial" || f === "lock");
    const tar = spawn("tar", ["--numeric-owner", "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "-C", root, "-c", "."], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    tar.stderr.on("data", (d) => (stderr += d));
    const [repo, tagName] = TEST_IMAGES.base.split(":");
    const progress = await docker.importImage(tar.stdout as unknown as string, {
      repo,
      tag: tagName,
      changes: [`LABEL ${HASH_LABEL}=${hash}`, 'CMD ["/bin/bash"]', "ENV DEBIAN_FRONTEND=noninteractive"],
    } as Record<string, unknown>);
    await followProgress(docker, progress, `import of ${TEST_IMAGES.base}`);
    const code = await new Promise<number | null>((resolve) => (tar.exitCode !== null ? resolve(tar.exitCode) : tar.on("close", resolve)));
    if (code !== 0) throw new Error(`tar of the debootstrap root failed (${code}): ${stderr}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (e) => reject(new Error(`${cmd}: ${e.message} (apt-get install -y ${cmd})`)));
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}:\n${output.split("\n").slice(-30).join("\n")}`))));
  });
}

/** Every file of an image's recipe directory, plus what the stand-in needs from outside it. */
function contextFor(name: Exclude<ImageName, "base">): TarEntry[] {
  const entries = filesUnder(path.join(IMAGES_DIR, RECIPE_DIRS[name] ?? name), "");
  if (name === "creatio") {
    for (const pkg of dependencyClosure(["pg", "ioredis", "ws"])) {
      entries.push(...filesUnder(path.join(REPO_ROOT, "node_modules", pkg), `stand-in/node_modules/${pkg}/`));
    }
    const fixtures = path.join(REPO_ROOT, "__tests__", "fixtures");
    // As shipped: TenantId empty and Quartz not clustered until the farm configures the node.
    const config = fs
      .readFileSync(path.join(fixtures, "Terrasoft.WebHost.dll.config"), "utf8")
      .replace(/(<add key="TenantId" value=")[^"]*"/, '$1"')
      .replace(/(key="quartz\.jobStore\.clustered" value=")true"/g, '$1false"');
    entries.push(
      { name: "app/Terrasoft.WebHost.dll.config", content: config },
      { name: "app/appsettings.json", content: fs.readFileSync(path.join(fixtures, "appsettings.json")) },
      { name: "app/Terrasoft.WebHost.dll", content: "stand-in: the web host is /opt/stand-in/main.js\n" },
    );
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function filesUnder(dir: string, prefix: string): TarEntry[] {
  const out: TarEntry[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(full, `${prefix}${e.name}/`));
    else if (e.isFile()) out.push({ name: `${prefix}${e.name}`, content: fs.readFileSync(full), mode: fs.statSync(full).mode & 0o777 });
  }
  return out;
}

/** Packages (and their runtime dependencies, recursively) as installed in this repository's node_modules. */
function dependencyClosure(roots: string[]): string[] {
  const seen = new Set<string>();
  const visit = (pkg: string) => {
    if (seen.has(pkg)) return;
    const manifest = path.join(REPO_ROOT, "node_modules", pkg, "package.json");
    if (!fs.existsSync(manifest)) throw new Error(`${pkg} is not installed (npm ci)`);
    seen.add(pkg);
    const deps = JSON.parse(fs.readFileSync(manifest, "utf8")).dependencies ?? {};
    Object.keys(deps).forEach(visit);
  };
  roots.forEach(visit);
  return [...seen].sort();
}

function entriesDigest(entries: readonly TarEntry[]): string {
  const h = crypto.createHash("sha256");
  for (const e of entries) h.update(`${e.name}\0${e.mode ?? 0o644}\0`).update(e.content).update("\0");
  return h.digest("hex");
}

function sha256(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex");
}
