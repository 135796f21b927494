import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { ISynthesisSession, Lazy, TerraformStack } from "cdktf";
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
import { SecretName, toReviewText, toTerraformText } from "./secret-text";

/**
 * What a container is for. Policies read it: only the `edge` may publish host ports, and `data` containers hold
 * state that must be protected.
 */
export type ContainerRole = "edge" | "app" | "data";

export interface FarmContainerProps {
  /** Docker container name; unique per Docker host, so it carries the environment name. */
  readonly name: string;
  /** The component's image (see `farmImage`). */
  readonly image: Image;
  readonly role: ContainerRole;
  /** Resolves secret placeholders in files and environment variables to Terraform references. */
  readonly secrets: { reference(name: SecretName): string };
  /** @default - the image's entrypoint */
  readonly entrypoint?: string[];
  /** @default - the image's command */
  readonly command?: string[];
  /** `NAME=value`; a value may hold a secret placeholder. @default - none */
  readonly env?: string[];
  /** @default - the image's working directory */
  readonly workingDir?: string;
  /** @default - none */
  readonly volumes?: ContainerVolumes[];
  /** Host ports; policy allows them on the edge container only. @default - none */
  readonly ports?: ContainerPorts[];
  /** @default - Docker's defaults */
  readonly ulimit?: ContainerUlimit[];
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
}

/** json-file logs rotate, so a chatty container cannot fill the Docker host's disk. */
const LOG_OPTS = { "max-size": "50m", "max-file": "5" };

interface FileEntry {
  readonly render: () => string;
  readonly executable: boolean;
}

interface Attachment {
  readonly network: FarmNetwork;
  readonly address: string;
  readonly aliases: readonly string[];
}

/**
 * One Docker container of the farm and the files provisioned into it.
 *
 * Files and network attachments are added by the relationship methods of the components (`addFile`,
 * `attach`) and produced lazily at synth, sorted, so the container's `upload` and `networks_advanced` blocks
 * (both force replacement when they change) depend only on what was added, never on the order of calls.
 * Each file is also written, as reviewers read it, to `cdktf.out/stacks/<env>/files/<container>/<path>`.
 */
export class FarmContainer extends Construct {
  public readonly name: string;
  public readonly role: ContainerRole;
  public readonly resource: Container;
  private readonly files = new Map<string, FileEntry>();
  private readonly attachments = new Map<string, Attachment>();
  private readonly secrets: FarmContainerProps["secrets"];

  constructor(scope: Construct, id: string, props: FarmContainerProps) {
    super(scope, id);
    this.name = props.name;
    this.role = props.role;
    this.secrets = props.secrets;
    this.resource = new Container(this, "Default", {
      name: props.name,
      image: props.image.imageId,
      restart: "unless-stopped",
      entrypoint: props.entrypoint,
      command: props.command,
      env: props.env?.map((e) => toTerraformText(e, (n) => this.secrets.reference(n))),
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
        startPeriod: "30s",
      },
      networksAdvanced: Lazy.anyValue({
        produce: () =>
          this.sortedAttachments().map((a) =>
            containerNetworksAdvancedToTerraform({
              name: a.network.resource.name,
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
                  content: toTerraformText(f.content, (n) => this.secrets.reference(n)),
                  executable: f.executable || undefined,
                }),
              );
        },
      }) as never,
    });
    addCustomSynthesis(this, { onSynthesize: (session) => this.writeReviewCopies(session) });
  }

  /**
   * Provisions a file into the container. `render` runs at synth and returns the file's text, which may hold
   * secret placeholders. A path can be provisioned once.
   */
  public addFile(containerPath: string, render: () => string, options: { executable?: boolean } = {}): void {
    if (!path.posix.isAbsolute(containerPath)) {
      throw new FarmValidationError(`file path must be absolute inside the container, got "${containerPath}"`, this);
    }
    if (this.files.has(containerPath)) {
      throw new FarmValidationError(`file "${containerPath}" is already provisioned into ${this.name}`, this);
    }
    this.files.set(containerPath, { render, executable: options.executable ?? false });
  }

  /** Attaches the container to `network` at the address of `offset`; returns that address. Idempotent. */
  public attach(network: FarmNetwork, offset: number, aliases: readonly string[] = []): string {
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

  /** This container's address on `network`, if it is attached. */
  public addressOn(network: FarmNetwork): string | undefined {
    return this.attachments.get(network.name)?.address;
  }

  /** Every provisioned file rendered, sorted by path: `content` may hold secret placeholders. */
  public renderedFiles(): Array<{ path: string; content: string; executable: boolean }> {
    return [...this.files.keys()].sort().map((p) => {
      const entry = this.files.get(p)!;
      return { path: p, content: entry.render(), executable: entry.executable };
    });
  }

  private sortedAttachments(): Attachment[] {
    return [...this.attachments.values()].sort((a, b) => byCodeUnit(a.network.name, b.network.name));
  }

  private writeReviewCopies(session: ISynthesisSession): void {
    const stackDir = session.manifest.forStack(TerraformStack.of(this)).workingDirectory;
    const created = new Set<string>(); // one mkdir per folder: on large farms synth time is mostly file system calls
    for (const file of this.renderedFiles()) {
      const target = path.join(session.outdir, stackDir, "files", this.name, ...file.path.split("/").filter(Boolean));
      const dir = path.dirname(target);
      if (!created.has(dir)) {
        fs.mkdirSync(dir, { recursive: true });
        created.add(dir);
      }
      fs.writeFileSync(target, toReviewText(file.content), { mode: file.executable ? 0o755 : 0o644 });
    }
  }
}
