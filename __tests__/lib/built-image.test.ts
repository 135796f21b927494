import { Testing, TerraformStack } from "cdktf";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { BuiltImage } from "../../constructs/lib/built-image";
import { farmImage } from "../../constructs/lib/farm-image";
import { secretPlaceholder } from "../../constructs/lib/secret-text";

function image() {
  const stack = new TerraformStack(Testing.app(), "s");
  new DockerProvider(stack, "docker", {});
  return { stack, image: new BuiltImage(stack, "img", { repository: "creatio-farm/s-x", contextDir: "images/x", from: farmImage(stack, "base:1") }) };
}

describe("BuiltImage", () => {
  test("the tag is the context's hash: the same files give the same tag, one changed byte another", () => {
    const tag = (content: string) => {
      const { stack, image: img } = image();
      img.addFile({ path: "Dockerfile", format: "text", render: () => content });
      return Object.values<any>(JSON.parse(Testing.synth(stack, true)).resource.docker_image).find((i) => i.build).name;
    };
    expect(tag("FROM a:1\n")).toMatch(/^creatio-farm\/s-x:[0-9a-f]{12}$/);
    expect(tag("FROM a:1\n")).toBe(tag("FROM a:1\n"));
    expect(tag("FROM a:1\n")).not.toBe(tag("FROM a:2\n"));
  });

  test("built without the cache, after the image it starts FROM, again when that image changes, before the old one goes", () => {
    const { stack, image: img } = image();
    img.addFile({ path: "Dockerfile", format: "text", render: () => "FROM base:1\n" });
    const images = JSON.parse(Testing.synth(stack, true)).resource.docker_image;
    const [baseId] = Object.keys(images).filter((k) => !images[k].build);
    const built = Object.values<any>(images).find((i) => i.build);
    expect(built).toMatchObject({
      build: { context: "images/x", dockerfile: "images/x/Dockerfile", no_cache: true },
      triggers: { from_image_id: `\${docker_image.${baseId}.image_id}` },
      depends_on: [`docker_image.${baseId}`],
      lifecycle: { create_before_destroy: true },
      keep_locally: true,
    });
  });

  test("a context file that holds a secret is refused with the construct path: image layers are readable", () => {
    const { stack, image: img } = image();
    img.addFile({ path: "Dockerfile", format: "text", render: () => "FROM a:1\n" });
    img.addFile({ path: "etc/app.conf", format: "text", render: () => `password=${secretPlaceholder("database-password")}\n` });
    expect(() => Testing.synth(stack, true)).toThrow('[s/img] "etc/app.conf" holds a secret, and image layers are readable by anyone with the image');
  });

  test.each([
    ["an absolute path", "/etc/app.conf", 'build context path must be relative and normalized, got "/etc/app.conf"'],
    ["a path that climbs out", "../app.conf", 'build context path must be relative and normalized, got "../app.conf"'],
    ["an empty segment", "etc//app.conf", 'build context path must be relative and normalized, got "etc//app.conf"'],
  ])("%s is refused", (_, file, message) => {
    expect(() => image().image.addFile({ path: file, format: "text", render: () => "" })).toThrow(`[s/img] ${message}`);
  });

  test("a path can be added once", () => {
    const { image: img } = image();
    img.addFile({ path: "Dockerfile", format: "text", render: () => "FROM a:1\n" });
    expect(() => img.addFile({ path: "Dockerfile", format: "text", render: () => "FROM b:1\n" })).toThrow('[s/img] "Dockerfile" is already in the build context');
  });

  test("an image without a Dockerfile fails synth", () => {
    const { stack, image: img } = image();
    img.addFile({ path: "etc/app.conf", format: "text", render: () => "x\n" });
    expect(() => Testing.synth(stack, true)).toThrow('the image has no Dockerfile: call addFile({ path: "Dockerfile", … })');
  });
});
