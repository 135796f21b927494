import * as fs from "fs";
import * as path from "path";
import { App, TerraformStack } from "cdktf";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { BuiltImage } from "../../constructs/lib/built-image";
import { FarmContainer } from "../../constructs/lib/farm-container";
import { farmImage } from "../../constructs/lib/farm-image";
import { MARKER_CONTEXT } from "../../constructs/lib/provisioned-file";
import { SharedFile } from "../../constructs/lib/shared-file";
import { secretPlaceholder } from "../../constructs/lib/secret-text";
import { tempDir, uploadContent } from "../support/farm";

function twoHolders() {
  const outdir = tempDir("shared-file");
  const app = new App({ outdir });
  const stack = new TerraformStack(app, "s");
  stack.node.setContext(MARKER_CONTEXT, "Generated for s.");
  new DockerProvider(stack, "docker", {});
  const secrets = { reference: (n: string) => `\${random_password.${n}.result}` };
  const image = farmImage(stack, "base:1");
  let renders = 0;
  const shared = new SharedFile(stack, "settings", {
    secrets,
    file: { path: "/etc/app.conf", format: "text", render: () => `n=${++renders}\npassword=${secretPlaceholder("database-password")}\nliteral=\${kept}\n` },
  });
  for (const name of ["s-a", "s-b"]) new FarmContainer(stack, name, { name, image, role: "app", secrets }).addFile(shared.spec);
  return { app, outdir, stack, shared, image, renders: () => renders };
}

test("GIVEN one shared file in two containers WHEN synthesized THEN it is rendered once and held once, and each container receives it", () => {
  const { app, outdir, renders } = twoHolders();
  try {
    app.synth();
    const stackDir = path.join(outdir, "stacks/s");
    const tf = JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    const uploads = Object.values<any>(tf.resource.docker_container).map((c) => c.upload);
    expect(renders()).toBe(1);
    expect(Object.keys(tf.locals)).toHaveLength(1);
    const [name] = Object.keys(tf.locals);
    expect(uploads).toEqual([
      [{ file: "/etc/app.conf", content: `\${local.${name}}`, permissions: "0644" }],
      [{ file: "/etc/app.conf", content: `\${local.${name}}`, permissions: "0644" }],
    ]);
    // The one copy: marker, secret as a reference, literal ${ escaped for Terraform.
    expect(uploadContent(tf, uploads[0][0])).toBe("# Generated for s.\nn=1\npassword=${random_password.database-password.result}\nliteral=$${kept}\n");
    // Each holder has its review copy, as reviewers read it.
    for (const holder of ["s-a", "s-b"]) {
      expect(fs.readFileSync(path.join(stackDir, "files", holder, "etc/app.conf"), "utf8")).toBe(
        "# Generated for s.\nn=1\npassword=[secret:database-password]\nliteral=${kept}\n",
      );
    }
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

test("a shared file is for uploads: a build context refuses it, and a shared spec cannot be shared again", () => {
  const { stack, shared, image, outdir } = twoHolders();
  fs.rmSync(outdir, { recursive: true, force: true });
  const built = new BuiltImage(stack, "built", { repository: "s/x", contextDir: "images/x", from: image });
  expect(() => built.addFile({ ...shared.spec, path: "etc/app.conf" })).toThrow(
    '[s/built] "etc/app.conf": a shared file is for container uploads, not a build context',
  );
  expect(() => new SharedFile(stack, "again", { secrets: { reference: () => "x" }, file: shared.spec })).toThrow(
    '[s/again] "/etc/app.conf" is already a shared file',
  );
});
