import * as fs from "fs";
import * as path from "path";
import { Construct, IConstruct } from "constructs";
import { DataResource, dependable, Fn, IResolvable, ISynthesisSession, Lazy, TerraformStack, Token } from "cdktf";
// Not re-exported by the package index in 0.21; it is the documented hook for writing extra files at synth.
import { addCustomSynthesis } from "cdktf/lib/synthesize/synthesizer";
import {
  Container,
  ContainerPorts,
  ContainerUlimit,
  ContainerVolumes,
  containerNetworksAdvancedToTerraform,
  containerUploadToTerraform,
} from "@cdktf/provider-docker/lib/container";
import { Image } from "@cdktf/provider-docker/lib/image";
import { FarmNetwork } from "../networks/farm-network";
import { FarmValidationError } from "./errors";
import { byCodeUnit } from "./order";
import { ensureReviewDir } from "./review-dirs";
import { octal, ProvisionedFileSpec, RenderedFile, renderFile } from "./provisioned-file";
import { SecretName, toReviewText, toTerraformText } from "./secret-text";

/**
 * What a container is for. Policies read it: only the `edge` may publish host ports, and `data` containers hold
 * state that must be protected.
 */
export type ContainerRole = "edge" | "app" | "data";

/**
 * How a workload runs. A `service` stays up and Docker restarts it. A `job` runs to its end during the apply, which
 * waits for it and fails with its name when it exits non-zero; it runs again when its configuration changes, or
 * on every apply with `runs: "every-apply"`.
 */
export type WorkloadKind = { readonly type: "service" } | { readonly type: "job"; readonly runs?: "on-change" | "every-apply" };

export interface FarmContainerProps {
  /** Docker container name; unique per Docker host, so it carries the environment name. */
  readonly name: string;
  /** The component's image (see `farmImage`, `BuiltImage`). */
  readonly image: Image;
  readonly role: ContainerRole;
  /** Resolves secret placeholders in files and environment variables to Terraform references. */
  readonly secrets: { reference(name: SecretName): string };
  /** @default - a service */
  readonly kind?: WorkloadKind;
  /** @default - the image's entrypoint */
  readonly entrypoint?: string[];
  /** @default - the image's command */
  readonly command?: string[];
  /** `NAME=value`; a value may hold a secret placeholder, or be a Terraform reference (a token). @default - none */
  readonly env?: string[];
  /** @default - the image's working directory */
  readonly workingDir?: string;
  /** @default - none */
  readonly volumes?: ContainerVolumes[];
  /** Host ports; policy allows them on the edge container only. @default - none */
  readonly ports?: ContainerPorts[];
  /** A token (Lazy) when the limit depends on wiring done after construction. @default - Docker's defaults */
  readonly ulimit?: ContainerUlimit[] | IResolvable;
  /** @default - the image's STOPSIGNAL */
  readonly stopSignal?: string;
  /** /dev/shm size in MB. @default - Docker's 64 MB */
  readonly shmSizeMb?: number;
  /**
   * Seconds Docker waits after the stop signal before it kills the container (also used on destroy).
   * @default 30
   */
  readonly stopTimeoutSeconds?: number;
  /**
   * Container health check command (exec form). Set at creation: the provider does not update it in place.
   * @default - the image's
   */
  readonly healthcheck?: string[];
  /** Seconds after start during which a failing health check does not count. @default 30 */
  readonly healthcheckStartSeconds?: number;
  /**
   * Linux capabilities the container keeps; every other one is dropped, and no process may gain privileges
   * (no-new-privileges), so a setuid binary in the image gives nothing. @default - none
   */
  readonly capabilities?: readonly string[];
  /** Memory limit in MB; swap is not used beyond it. @default - none */
  readonly memoryMb?: number;
  /** CPU limit in cores (Docker refuses more than the host has). @default - none */
  readonly cpus?: number;
  /** User the container's processes run as. @default - the image's */
  readonly user?: string;
  /**
   * Join another container's process namespace (`container:<name>`), to signal its processes: a job that reloads a
   * service; a reference to that container's id also orders the two. @default - its own
   */
  readonly pidMode?: string;
  /** `none` for a container that needs no network at all. @default - the networks it is attached to */
  readonly networkMode?: "none";
  /**
   * A read-only root file system: the container writes only to its volumes. Only for a container without
   * provisioned files (Docker refuses to copy them into a read-only root). @default false
   */
  readonly readOnlyRoot?: boolean;
}

/** What every container of the farm runs without: privilege escalation and every capability not listed. */
export const NO_NEW_PRIVILEGES = "no-new-privileges:true";

/**
 * What the components of the farm need from a workload: its name and role, its files, its place on networks.
 * `FarmContainer` is the Docker container behind it; a Swarm service could stand in its place.
 */
export interface IWorkload extends IConstruct {
  readonly name: string;
  readonly role: ContainerRole;
  readonly kind: WorkloadKind;
  /** Provisions a file; before synth only. */
  addFile(spec: ProvisionedFileSpec): void;
  /** Adds an environment variable (`NAME=value`, as `env` takes it); before synth only, once per name. */
  addEnv(entry: string): void;
  /** Attaches the workload to `network` at the address of `offset`; returns that address. Idempotent. */
  attach(network: FarmNetwork, offset: number, aliases?: readonly string[]): string;
  /** The workload's address on `network`, if it is attached. */
  addressOn(network: FarmNetwork): string | undefined;
  /** Every network the workload is attached to, sorted by name. */
  networks(): readonly FarmNetwork[];
  /** Every provisioned file, rendered once, sorted by path. */
  renderedFiles(): readonly RenderedFile[];
  /** Creates this workload only after `other` (a job: after it has run). */
  startsAfter(other: IWorkload): void;
  /** Whether the files were rendered (synth has begun): from then on nothing they are made of may change. */
  readonly isRendered: boolean;
}

/** json-file logs rotate, so a chatty container cannot fill the Docker host's disk. */
const LOG_OPTS = { "max-size": "50m", "max-file": "5" };

interface Attachment {
  readonly network: FarmNetwork;
  readonly address: string;
  readonly aliases: readonly string[];
}

// cdktf captures a stack trace for every token it creates; one image-id token per image, not one per container,
// keeps synth time per node low on large farms.
const imageIds = new WeakMap<Image, string>();
function imageIdOf(image: Image): string {
  let id = imageIds.get(image);
  if (id === undefined) imageIds.set(image, (id = image.imageId));
  return id;
}

/**
 * One Docker container of the farm and the files provisioned into it.
 *
 * Files and network attachments are added by the relationship methods of the components (`addFile`,
 * `attach`) and produced lazily at synth, sorted, so the container's `upload` and `networks_advanced` blocks
 * (both force replacement when they change) depend only on what was added, never on the order of calls. Files are
 * rendered once, at synth; each is also written, as reviewers read it, to
 * `cdktf.out/stacks/<env>/files/<container>/<path>`.
 */
export class FarmContainer extends Construct implements IWorkload {
  public readonly name: string;
  public readonly role: ContainerRole;
  public readonly kind: WorkloadKind;
  public readonly resource: Container;
  private readonly files = new Map<string, ProvisionedFileSpec>();
  private readonly attachments = new Map<string, Attachment>();
  private readonly secrets: FarmContainerProps["secrets"];
  private rendered?: readonly RenderedFile[];
  private readonly readOnlyRoot: boolean;
  private readonly env: string[];
  private readonly after = new Set<FarmContainer>();

  constructor(scope: Construct, id: string, props: FarmContainerProps) {
    super(scope, id);
    this.name = props.name;
    this.role = props.role;
    this.kind = props.kind ?? { type: "service" };
    this.secrets = props.secrets;
    this.readOnlyRoot = props.readOnlyRoot === true;
    this.env = [...(props.env ?? [])];
    const job = this.kind.type === "job" ? this.kind : undefined;
    // A job waits here until its container exits; the postcondition turns a non-zero status into a failed apply.
    const runsEveryApply = job?.runs === "every-apply" ? new DataResource(this, "runs", { triggersReplace: { at: Fn.timestamp() } }) : undefined;
    this.resource = new Container(this, "Default", {
      name: props.name,
      image: imageIdOf(props.image),
      restart: job ? "no" : "unless-stopped",
      mustRun: job ? false : undefined,
      attach: job ? true : undefined,
      logs: job ? true : undefined,
      entrypoint: props.entrypoint,
      command: props.command,
      // An entry holding a Terraform reference (a token) is passed as it is; the others are text, escaped.
      env: Lazy.anyValue({
        produce: () =>
          this.env.length === 0
            ? undefined
            : this.env.map((e) => (Token.isUnresolved(e) ? e : toTerraformText(e, (n) => this.secrets.reference(n)))),
      }) as never,
      workingDir: props.workingDir,
      volumes: props.volumes,
      ports: props.ports,
      ulimit: props.ulimit,
      stopSignal: props.stopSignal,
      stopTimeout: props.stopTimeoutSeconds ?? 30,
      destroyGraceSeconds: props.stopTimeoutSeconds ?? 30,
      shmSize: props.shmSizeMb,
      logDriver: "json-file",
      logOpts: LOG_OPTS,
      healthcheck: props.healthcheck && {
        test: ["CMD", ...props.healthcheck],
        interval: "10s",
        timeout: "5s",
        retries: 5,
        startPeriod: `${props.healthcheckStartSeconds ?? 30}s`,
      },
      capabilities: { drop: ["ALL"], add: props.capabilities?.length ? [...props.capabilities].sort(byCodeUnit) : undefined },
      securityOpts: [NO_NEW_PRIVILEGES],
      memory: props.memoryMb,
      // Equal to memory: no swap on top of it (a swapping node or database is slower than a restarted one).
      memorySwap: props.memoryMb,
      cpus: props.cpus === undefined ? undefined : String(props.cpus),
      user: props.user,
      readOnly: props.readOnlyRoot,
      pidMode: props.pidMode,
      networkMode: props.networkMode,
      networksAdvanced: Lazy.anyValue({
        produce: () =>
          this.sortedAttachments().map((a) =>
            containerNetworksAdvancedToTerraform({
              name: a.network.nameRef,
              ipv4Address: a.address,
              aliases: a.aliases.length ? [...a.aliases] : undefined,
            }),
          ),
      }) as never,
      upload: Lazy.anyValue({
        produce: () => {
          const rendered = this.renderedFiles();
          return rendered.length === 0
            ? undefined
            : rendered.map((f) =>
                containerUploadToTerraform({
                  file: f.path,
                  content: this.files.get(f.path)!.shared?.terraformReference ?? toTerraformText(f.content, (n) => this.secrets.reference(n)),
                  permissions: octal(f.mode),
                }),
              );
        },
      }) as never,
    });
    if (job) {
      // The failed run stays in state, and Terraform checks the condition again at every plan: until the job is
      // run again, every plan of the stack fails on it. The message says how to run it again.
      const address = `${this.resource.terraformResourceType}.${this.resource.friendlyUniqueId}`;
      this.resource.lifecycle = {
        postcondition: [
          {
            condition: "${self.exit_code == 0}",
            errorMessage:
              `${props.name} exited with a non-zero status: its output is in docker logs ${props.name}. ` +
              `Plans fail on it until it runs again: after fixing the cause, terraform apply -replace=${address}`,
          },
        ],
        replaceTriggeredBy: runsEveryApply ? [runsEveryApply] : undefined,
      };
    }
    addCustomSynthesis(this, { onSynthesize: (session) => this.writeReviewCopies(session) });
  }

  public addEnv(entry: string): void {
    if (this.rendered) throw new FarmValidationError(`environment variable is added after ${this.name}'s files were rendered (synth)`, this);
    const name = entry.split("=", 1)[0];
    if (this.env.some((e) => e.split("=", 1)[0] === name)) throw new FarmValidationError(`environment variable ${name} is set twice`, this);
    this.env.push(entry);
  }

  /** Provisions a file into the container; its path may be provisioned once, and only before synth. */
  public addFile(spec: ProvisionedFileSpec): void {
    if (this.rendered) throw new FarmValidationError(`file "${spec.path}" is added after ${this.name}'s files were rendered (synth)`, this);
    if (!path.posix.isAbsolute(spec.path)) {
      throw new FarmValidationError(`file path must be absolute inside the container, got "${spec.path}"`, this);
    }
    if (this.readOnlyRoot) {
      throw new FarmValidationError(`file "${spec.path}" cannot be provisioned into ${this.name}: its root file system is read-only`, this);
    }
    if (this.files.has(spec.path)) {
      throw new FarmValidationError(`file "${spec.path}" is already provisioned into ${this.name}`, this);
    }
    if ((spec.owner ?? "root") !== "root") {
      throw new FarmValidationError(`file "${spec.path}": the Docker provider uploads files as root, so it cannot be owned by ${spec.owner}`, this);
    }
    this.files.set(spec.path, spec);
  }

  public attach(network: FarmNetwork, offset: number, aliases: readonly string[] = []): string {
    if (this.rendered) throw new FarmValidationError(`${this.name} is attached to ${network.name} after its files were rendered (synth)`, this);
    const address = network.address(offset);
    const existing = this.attachments.get(network.name);
    if (existing) {
      if (existing.address !== address) {
        throw new FarmValidationError(
          `${this.name} is already attached to ${network.name} at ${existing.address}, cannot also take ${address}`,
          this,
        );
      }
      return address;
    }
    network.claim(offset, this.name);
    this.attachments.set(network.name, { network, address, aliases: [...aliases].sort() });
    return address;
  }

  public addressOn(network: FarmNetwork): string | undefined {
    return this.attachments.get(network.name)?.address;
  }

  public startsAfter(other: IWorkload): void {
    if (!(other instanceof FarmContainer)) throw new FarmValidationError(`${this.name} cannot start after ${other.name}: not a container of this farm`, this);
    if (this.after.has(other)) return;
    this.after.add(other);
    this.resource.dependsOn = [...(this.resource.dependsOn ?? []), dependable(other.resource)];
  }

  public get isRendered(): boolean {
    return this.rendered !== undefined;
  }

  /** Every provisioned file rendered, sorted by path: `content` may hold secret placeholders. Rendered once. */
  public renderedFiles(): readonly RenderedFile[] {
    this.rendered ??= [...this.files.keys()].sort(byCodeUnit).map((p) => renderFile(this, this.files.get(p)!));
    return this.rendered;
  }

  /** The formats of the provisioned files, without rendering them (a policy can skip containers it has nothing to read in). */
  public fileFormats(): ReadonlySet<string> {
    return new Set([...this.files.values()].map((f) => f.format));
  }

  public networks(): readonly FarmNetwork[] {
    return this.sortedAttachments().map((a) => a.network);
  }

  private sortedAttachments(): Attachment[] {
    return [...this.attachments.values()].sort((a, b) => byCodeUnit(a.network.name, b.network.name));
  }

  private writeReviewCopies(session: ISynthesisSession): void {
    const stackDir = session.manifest.forStack(TerraformStack.of(this)).workingDirectory;
    for (const file of this.renderedFiles()) {
      const target = path.join(session.outdir, stackDir, "files", this.name, ...file.path.split("/").filter(Boolean));
      ensureReviewDir(session, path.dirname(target));
      fs.writeFileSync(target, toReviewText(file.content));
      fs.chmodSync(target, file.mode);
    }
  }
}
