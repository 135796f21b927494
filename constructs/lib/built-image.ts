import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Construct } from "constructs";
import { ISynthesisSession, Lazy, TerraformStack } from "cdktf";
// Not re-exported by the package index in 0.21; it is the documented hook for writing extra files at synth.
import { addCustomSynthesis } from "cdktf/lib/synthesize/synthesizer";
import { Image } from "@cdktf/provider-docker/lib/image";
import { FarmValidationError } from "./errors";
import { byCodeUnit } from "./order";
import { ProvisionedFileSpec, RenderedFile, renderFile } from "./provisioned-file";
import { hasSecretPlaceholder } from "./secret-text";

export interface BuiltImageProps {
  /**
   * Repository of the image, e.g. `creatio-farm/dev-creatio`. Its tag is the first 12 hex digits of the SHA-256 of
   * the build context, so a changed file builds a new image, and Terraform replaces what runs the old one.
   */
  readonly repository: string;
  /**
   * Folder of the build context, relative to the stack's folder under `cdktf.out/stacks/` (Terraform runs there and
   * resolves it from there). Synth writes the context into it; reviewers read it there.
   */
  readonly contextDir: string;
  /** The image the build starts FROM: pulled (or found) first, and its id is part of this image's identity. */
  readonly from: Image;
}

/**
 * A Docker image built on the Docker host from a context rendered at synth (a Dockerfile and the files it copies).
 * The context is data: written under `cdktf.out/` for review, built by the Docker provider's `docker_image` with
 * `build`. The context must not hold secrets, because image layers are readable by anyone with access to the
 * image: a file with a secret placeholder is refused at synth. (What the build itself generates is the image's own
 * business; see the node image's key ring.)
 *
 * A new image is built when the context changes (its tag is the context's hash) and when the image it starts FROM
 * changes (its id is a trigger), always without the build cache, so a build never reuses what an earlier one
 * generated; the new image is built before anything that runs the old one is replaced.
 */
export class BuiltImage extends Construct {
  public readonly resource: Image;
  /** The build context's folder, relative to the stack's folder under `cdktf.out/stacks/`. */
  public readonly contextDir: string;
  private readonly files = new Map<string, ProvisionedFileSpec>();
  private rendered?: readonly RenderedFile[];

  constructor(scope: Construct, id: string, props: BuiltImageProps) {
    super(scope, id);
    const contextDir = (this.contextDir = props.contextDir);
    this.resource = new Image(this, "Default", {
      name: Lazy.stringValue({ produce: () => `${props.repository}:${this.contentHash()}` }),
      // No build cache: a RUN step that generates secrets must run again on every build, never be taken from a
      // cached layer of an earlier build (or of another environment with the same files).
      buildAttribute: { context: contextDir, dockerfile: `${contextDir}/Dockerfile`, noCache: true },
      // A rebuilt base image under the same tag has a new id: that must build a new image too.
      triggers: { from_image_id: props.from.imageId },
      // Build the new image while the old one still runs: the nodes are replaced after the build, not before it.
      lifecycle: { createBeforeDestroy: true },
      // Never removed by Terraform: the provider removes by name, and a rebuild under the same name (a new FROM
      // image) would remove the new image, which the replaced nodes already run. Old builds share every layer of
      // the base; `docker image prune` removes them.
      keepLocally: true,
      dependsOn: [props.from],
    });
    addCustomSynthesis(this, {
      onSynthesize: (session: ISynthesisSession) => {
        const stackDir = session.manifest.forStack(TerraformStack.of(this)).workingDirectory;
        this.writeContext(path.join(session.outdir, stackDir, contextDir));
      },
    });
    this.node.addValidation({ validate: () => (this.files.has("Dockerfile") ? [] : ['the image has no Dockerfile: call addFile({ path: "Dockerfile", … })']) });
  }

  /** Adds a file to the build context at a relative path; rendered once, at synth. */
  public addFile(spec: ProvisionedFileSpec): void {
    if (this.rendered) throw new FarmValidationError(`"${spec.path}" is added after the build context was rendered (synth)`, this);
    if (path.posix.isAbsolute(spec.path) || spec.path.split("/").some((p) => p === ".." || p === "")) {
      throw new FarmValidationError(`build context path must be relative and normalized, got "${spec.path}"`, this);
    }
    if (this.files.has(spec.path)) throw new FarmValidationError(`"${spec.path}" is already in the build context`, this);
    if (spec.shared) throw new FarmValidationError(`"${spec.path}": a shared file is for container uploads, not a build context`, this);
    if ((spec.owner ?? "root") !== "root") {
      throw new FarmValidationError(`"${spec.path}": files are copied into the image owned by root, not ${spec.owner}`, this);
    }
    this.files.set(spec.path, spec);
  }

  /** Whether the context was rendered (synth has begun): from then on nothing it is made of may change. */
  public get isRendered(): boolean {
    return this.rendered !== undefined;
  }

  /** The context as built: every file rendered once, sorted by path. */
  public contextFiles(): readonly RenderedFile[] {
    this.rendered ??= [...this.files.keys()].sort(byCodeUnit).map((p) => {
      const file = renderFile(this, this.files.get(p)!);
      if (hasSecretPlaceholder(file.content)) {
        throw new FarmValidationError(`"${p}" holds a secret, and image layers are readable by anyone with the image`, this);
      }
      return file;
    });
    return this.rendered;
  }

  private contentHash(): string {
    const h = crypto.createHash("sha256");
    for (const f of this.contextFiles()) h.update(`${f.path}\0${f.mode.toString(8)}\0${f.content}\0`);
    return h.digest("hex").slice(0, 12);
  }

  private writeContext(dir: string): void {
    const created = new Set<string>();
    for (const f of this.contextFiles()) {
      const target = path.join(dir, ...f.path.split("/"));
      const parent = path.dirname(target);
      if (!created.has(parent)) {
        fs.mkdirSync(parent, { recursive: true });
        created.add(parent);
      }
      fs.writeFileSync(target, f.content);
      // COPY keeps these modes in the image: set them whatever the umask, so a non-root Creatio can read the files.
      fs.chmodSync(target, f.mode);
    }
  }
}
