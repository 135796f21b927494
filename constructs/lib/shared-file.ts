import { Construct } from "constructs";
import { Lazy, TerraformLocal } from "cdktf";
import { FarmValidationError } from "./errors";
import { ProvisionedFileSpec, RenderedFile, renderFile, SharedContent } from "./provisioned-file";
import { SecretName, toTerraformText } from "./secret-text";

export interface SharedFileProps {
  /** The file every holder receives. */
  readonly file: ProvisionedFileSpec;
  /** Resolves the secret placeholders the file may hold. */
  readonly secrets: { reference(name: SecretName): string };
}

/**
 * A file that several containers receive identically (a node set's ConnectionStrings.config): rendered once, and held
 * once in `cdk.tf.json`, as a Terraform local each container's upload refers to, instead of one copy per node. Each
 * holder still gets its own review copy under `cdktf.out/`. Add it with `container.addFile(shared.spec)`.
 */
export class SharedFile extends Construct implements SharedContent {
  /** The spec to hand to each holder's `addFile`. */
  public readonly spec: ProvisionedFileSpec;
  public readonly terraformReference: string;
  private readonly file: ProvisionedFileSpec;
  private renderedFile?: RenderedFile;

  constructor(scope: Construct, id: string, props: SharedFileProps) {
    super(scope, id);
    if (props.file.shared) throw new FarmValidationError(`"${props.file.path}" is already a shared file`, this);
    this.file = props.file;
    const local = new TerraformLocal(
      this,
      "Default",
      Lazy.stringValue({ produce: () => toTerraformText(this.rendered().content, (n) => props.secrets.reference(n)) }),
    );
    this.terraformReference = local.asString;
    this.spec = { ...props.file, shared: this };
  }

  /** Whether the file was rendered (synth has begun): from then on nothing it is made of may change. */
  public get isRendered(): boolean {
    return this.renderedFile !== undefined;
  }

  public rendered(): RenderedFile {
    this.renderedFile ??= renderFile(this, this.file);
    return this.renderedFile;
  }
}
