/**
 * Create and destroy for each implemented resource type, following what the pinned providers do
 * (kreuzwerker/docker 3.6.2, hashicorp/random 3.7.2, hashicorp/tls with openssl): the same Engine API calls in the same order, with the same
 * defaults. One difference: image builds use the Engine's classic builder, where the provider uses BuildKit when
 * the Engine offers it; with `no_cache`, which the product sets, both run every step of the same Dockerfile.
 * Configuration reaching these functions is resolved (no references left) and checked against schema.ts.
 */
import * as crypto from "crypto";
import * as path from "path";
import bcrypt from "bcryptjs";
import Docker from "dockerode";
import * as tarFs from "tar-fs";
import { certificateRequestPem, ecPrivateKey, selfSignedCertificatePem, signedCertificatePem } from "../../../support/openssl-ca";
import { followProgress } from "../engine";
import { pack } from "../tar";

export interface Context {
  readonly docker: Docker;
  /** The stack's folder (cdktf.out/stacks/<env>): Terraform's working directory, where relative paths start. */
  readonly stackDir: string;
}

/** What a created resource exposes to references, and the id destroy needs. */
export interface Created {
  readonly id: string;
  readonly attributes: Record<string, string>;
}

type Config = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ResourceType {
  create(ctx: Context, config: Config): Promise<Created>;
  destroy(ctx: Context, created: Created, config: Config): Promise<void>;
}

/** A single block may be written as an object or as an array of one. */
const blocks = (value: unknown): Config[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value as Config]);

const notFound = (e: unknown) => (e as { statusCode?: number }).statusCode === 404;

/** hashicorp/random's random_password: upper, lower and numeric always on; `special` adds its default set. */
const randomPassword: ResourceType = {
  async create(_ctx, c) {
    const sets = { upper: "ABCDEFGHIJKLMNOPQRSTUVWXYZ", lower: "abcdefghijklmnopqrstuvwxyz", numeric: "0123456789", special: "!@#$%&*()-_=+[]{}<>:?" };
    const pick = (chars: string) => chars[crypto.randomInt(chars.length)];
    const chars = [
      ...Array.from({ length: c.min_upper ?? 0 }, () => pick(sets.upper)),
      ...Array.from({ length: c.min_lower ?? 0 }, () => pick(sets.lower)),
      ...Array.from({ length: c.min_numeric ?? 0 }, () => pick(sets.numeric)),
    ];
    const all = sets.upper + sets.lower + sets.numeric + (c.special === false ? "" : sets.special);
    while (chars.length < c.length) chars.push(pick(all));
    for (let i = chars.length - 1; i > 0; i--) {
      const j = crypto.randomInt(i + 1);
      [chars[i], chars[j]] = [chars[j], chars[i]];
    }
    const result = chars.join("");
    // The provider's bcrypt_hash uses Go's bcrypt.DefaultCost (10), computed once and kept in state.
    return { id: "none", attributes: { result, bcrypt_hash: bcrypt.hashSync(result, 10) } };
  },
  async destroy() {},
};

const sha1Id = (pem: string) => crypto.createHash("sha1").update(pem).digest("hex");

/** hashicorp/tls's tls_private_key, ECDSA P-256 (the only kind the product asks for). */
const tlsPrivateKey: ResourceType = {
  async create(_ctx, c) {
    if (c.algorithm !== "ECDSA" || c.ecdsa_curve !== "P256") throw new Error(`tls_private_key: only ECDSA P256 is implemented, got ${c.algorithm} ${c.ecdsa_curve}`);
    const pem = ecPrivateKey();
    return { id: sha1Id(pem), attributes: { private_key_pem: pem } };
  },
  async destroy() {},
};

const tlsSelfSignedCert: ResourceType = {
  async create(_ctx, c) {
    const pem = selfSignedCertificatePem(c.private_key_pem, {
      commonName: blocks(c.subject)[0]?.common_name ?? "",
      validityHours: c.validity_period_hours,
      allowedUses: c.allowed_uses,
      isCa: c.is_ca_certificate === true,
    });
    return { id: sha1Id(pem), attributes: { cert_pem: pem } };
  },
  async destroy() {},
};

const tlsCertRequest: ResourceType = {
  async create(_ctx, c) {
    const pem = certificateRequestPem(c.private_key_pem, blocks(c.subject)[0]?.common_name ?? "", c.dns_names ?? []);
    return { id: sha1Id(pem), attributes: { cert_request_pem: pem } };
  },
  async destroy() {},
};

const tlsLocallySignedCert: ResourceType = {
  async create(_ctx, c) {
    const pem = signedCertificatePem(c.cert_request_pem, c.ca_cert_pem, c.ca_private_key_pem, {
      validityHours: c.validity_period_hours,
      allowedUses: c.allowed_uses,
    });
    return { id: sha1Id(pem), attributes: { cert_pem: pem } };
  },
  async destroy() {},
};

/** docker_image: build when `build` is set (legacy builder), then find the image locally or pull it. */
const dockerImage: ResourceType = {
  async create(ctx, c) {
    const build = blocks(c.build)[0];
    if (build) {
      // The provider resolves both paths from Terraform's working directory, not from each other.
      const context = path.resolve(ctx.stackDir, build.context);
      const dockerfile = path.resolve(ctx.stackDir, build.dockerfile ?? "Dockerfile");
      const relative = path.relative(context, dockerfile);
      if (relative.startsWith("..")) throw new Error(`docker_image.build: a Dockerfile outside the context (${build.dockerfile}) is not implemented`);
      const archive = tarFs.pack(context, { map: (h) => ({ ...h, uid: 0, gid: 0 }) });
      const stream = await ctx.docker.buildImage(archive as unknown as NodeJS.ReadableStream, { t: c.name, dockerfile: relative, nocache: build.no_cache === true });
      await followProgress(ctx.docker, stream, `build of ${c.name}`);
    }
    let info;
    try {
      info = await ctx.docker.getImage(c.name).inspect();
    } catch (e) {
      if (!notFound(e)) throw e;
      try {
        await followProgress(ctx.docker, await ctx.docker.pull(c.name), `pull of ${c.name}`);
      } catch (pull) {
        throw new Error(`unable to find or pull image ${c.name} (the Docker tier has no registry: build it first): ${(pull as Error).message}`);
      }
      info = await ctx.docker.getImage(c.name).inspect();
    }
    return { id: `${info.Id}${c.name}`, attributes: { image_id: info.Id, name: c.name } };
  },
  async destroy(ctx, _created, c) {
    if (c.keep_locally) return;
    await ctx.docker.getImage(c.name).remove().catch((e) => {
      if (!notFound(e)) throw e;
    });
  },
};

const dockerNetwork: ResourceType = {
  async create(ctx, c) {
    const network = await ctx.docker.createNetwork({
      Name: c.name,
      Driver: c.driver,
      Internal: c.internal || undefined,
      IPAM: { Driver: "default", Config: blocks(c.ipam_config).map((i) => ({ Subnet: i.subnet, Gateway: i.gateway, AuxiliaryAddresses: {} })) },
    });
    return { id: network.id, attributes: { name: c.name } };
  },
  async destroy(ctx, created) {
    await ctx.docker.getNetwork(created.id).remove().catch((e) => {
      if (!notFound(e)) throw e;
    });
  },
};

const dockerVolume: ResourceType = {
  async create(ctx, c) {
    const volume = await ctx.docker.createVolume({ Name: c.name });
    return { id: volume.name, attributes: { name: volume.name } };
  },
  async destroy(ctx, created) {
    await ctx.docker.getVolume(created.id).remove({ force: true }).catch((e) => {
      if (!notFound(e)) throw e;
    });
  },
};

/** Go's time.ParseDuration for the units Docker health checks use, in nanoseconds. */
export function goDurationNs(text: string): number {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (text === "0") return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.map((p) => p[0]).join("") !== text) throw new Error(`"${text}" is not a Go duration`);
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0));
}

/**
 * docker_container, in the provider's order: create on the default bridge, disconnect it and connect each
 * `networks_advanced` network with its address and aliases, copy each `upload` file into the container (a tar
 * extracted at "/", mode 0644 or 0744 when executable, owner root), start, and fail (removing the container) if it
 * is not running afterwards (`must_run`, default true).
 */
const dockerContainer: ResourceType = {
  async create(ctx, c) {
    const ports = blocks(c.ports);
    const volumes = blocks(c.volumes);
    const hc = blocks(c.healthcheck)[0];
    const portKey = (p: Config) => `${p.internal}/${p.protocol ?? "tcp"}`;
    const container = await ctx.docker.createContainer({
      name: c.name,
      Image: c.image,
      Entrypoint: c.entrypoint,
      Cmd: c.command,
      Env: c.env,
      WorkingDir: c.working_dir,
      User: c.user,
      StopSignal: c.stop_signal,
      StopTimeout: c.stop_timeout,
      ExposedPorts: Object.fromEntries(ports.map((p) => [portKey(p), {}])),
      Volumes: Object.fromEntries(volumes.map((v) => [v.container_path, {}])),
      Healthcheck: hc && {
        Test: hc.test,
        Interval: goDurationNs(hc.interval ?? "0s"),
        Timeout: goDurationNs(hc.timeout ?? "0s"),
        StartPeriod: goDurationNs(hc.start_period ?? "0s"),
        Retries: hc.retries ?? 0,
      },
      HostConfig: {
        // The provider creates on the default bridge unless network_mode says otherwise, then moves the container.
        NetworkMode: c.network_mode ?? "bridge",
        PidMode: c.pid_mode,
        ReadonlyRootfs: c.read_only === true,
        Init: false,
        Binds: volumes.map((v) => `${v.volume_name || v.host_path}:${v.container_path}:${v.read_only ? "ro" : "rw"}`),
        PortBindings: Object.fromEntries(
          ports.map((p) => [portKey(p), [{ HostIp: p.ip ?? "0.0.0.0", HostPort: String(p.external ?? 0) }]]),
        ),
        RestartPolicy: { Name: c.restart ?? "no", MaximumRetryCount: 0 },
        LogConfig: { Type: c.log_driver ?? "", Config: c.log_opts ?? {} },
        Ulimits: blocks(c.ulimit).map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })),
        ShmSize: c.shm_size === undefined ? undefined : c.shm_size * 1024 * 1024,
        // As the provider maps them: capabilities and security_opts as given, memory and memory_swap in MB,
        // cpus as a decimal number of cores (NanoCpus).
        CapAdd: blocks(c.capabilities)[0]?.add,
        CapDrop: blocks(c.capabilities)[0]?.drop,
        SecurityOpt: c.security_opts,
        Memory: c.memory === undefined ? undefined : c.memory * 1024 * 1024,
        MemorySwap: c.memory_swap === undefined ? undefined : c.memory_swap > 0 ? c.memory_swap * 1024 * 1024 : c.memory_swap,
        NanoCpus: c.cpus === undefined ? undefined : Math.round(Number(c.cpus) * 1e9),
        Mounts: [],
      },
    });
    try {
      const networks = blocks(c.networks_advanced);
      if (networks.length && c.network_mode === undefined) {
        await ctx.docker.getNetwork("bridge").disconnect({ Container: container.id, Force: false });
        for (const n of networks) {
          await ctx.docker.getNetwork(n.name).connect({
            Container: container.id,
            EndpointConfig: { IPAMConfig: { IPv4Address: n.ipv4_address ?? "" }, Aliases: n.aliases },
          });
        }
      }
      for (const u of blocks(c.upload)) {
        // The provider's modes: `permissions` when set (octal text), else 0744 for executable, else 0644.
        const mode = u.permissions ? parseInt(u.permissions, 8) : u.executable ? 0o744 : 0o644;
        const archive = pack([{ name: u.file, content: u.content, mode, mtime: new Date() }]);
        await container.putArchive(archive as unknown as NodeJS.ReadableStream, { path: "/" });
      }
      await container.start();
      if (c.attach) {
        // The provider waits until the container is no longer running; it keeps the output as container_logs.
        await container.wait({ condition: "not-running" });
      }
      const state = (await container.inspect()).State;
      if (!state.Running && c.must_run !== false) {
        const logs = (await container.logs({ stdout: true, stderr: true, tail: 40 })).toString("utf8");
        throw new Error(`container ${c.name} exited right after start (exit ${state.ExitCode}); its last output:\n${logs}`);
      }
      // Read by postconditions (`self.exit_code`), as the provider sets it.
      if (!state.Running) return { id: container.id, attributes: { id: container.id, name: c.name, exit_code: String(state.ExitCode) } as Record<string, string> };
    } catch (e) {
      await container.remove({ force: true, v: true }).catch(() => {});
      throw e;
    }
    return { id: container.id, attributes: { id: container.id, name: c.name } };
  },
  async destroy(ctx, created, c) {
    const container = ctx.docker.getContainer(created.id);
    await container.stop({ t: c.destroy_grace_seconds ?? 0 }).catch((e) => {
      if (!notFound(e) && (e as { statusCode?: number }).statusCode !== 304) throw e;
    });
    await container.remove({ force: true, v: true }).catch(async (e) => {
      if (notFound(e)) return;
      // The Engine is already removing it (a slow removal of a container that was restarting): wait for the end.
      if ((e as { statusCode?: number }).statusCode !== 409 || !/already in progress/.test(String(e))) throw e;
      for (let i = 0; i < 120; i++) {
        if (await container.inspect().then(() => false, (err) => notFound(err))) return;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw e;
    });
  },
};

export const RESOURCE_TYPES: Readonly<Record<string, ResourceType>> = {
  random_password: randomPassword,
  tls_private_key: tlsPrivateKey,
  tls_self_signed_cert: tlsSelfSignedCert,
  tls_cert_request: tlsCertRequest,
  tls_locally_signed_cert: tlsLocallySignedCert,
  docker_image: dockerImage,
  docker_network: dockerNetwork,
  docker_volume: dockerVolume,
  docker_container: dockerContainer,
};

