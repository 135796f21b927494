import { Testing, TerraformStack } from "cdktf";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { FarmContainer, FarmContainerProps } from "../../constructs/lib/farm-container";
import { farmImage } from "../../constructs/lib/farm-image";
import { MARKER_CONTEXT, withMarker } from "../../constructs/lib/provisioned-file";
import { requireProgram, run } from "../support/programs";

function container(props: Partial<FarmContainerProps> = {}) {
  const stack = new TerraformStack(Testing.app(), "s");
  stack.node.setContext(MARKER_CONTEXT, "Generated for s. Edit config/s.yaml.");
  new DockerProvider(stack, "docker", {});
  const c = new FarmContainer(stack, "c", { name: "s-c", image: farmImage(stack, "base:1"), role: "app", secrets: { reference: () => "x" }, ...props });
  const synth = () => JSON.parse(Testing.synth(stack, true));
  return { stack, c, synth, resource: () => Object.values<any>(synth().resource.docker_container)[0] };
}

describe("workload kinds", () => {
  test("a service stays up: restarted by Docker, no wait, no exit check", () => {
    const r = container().resource();
    expect(r.restart).toBe("unless-stopped");
    expect([r.must_run, r.attach, r.lifecycle]).toEqual([undefined, undefined, undefined]);
  });

  test("a job runs to its end during the apply, which fails with the job's name and how to run it again on a non-zero exit", () => {
    const json = container({ kind: { type: "job" } }).synth();
    const [[name, r]] = Object.entries<any>(json.resource.docker_container);
    expect(r).toMatchObject({ restart: "no", must_run: false, attach: true, logs: true });
    expect(r.lifecycle).toEqual({
      postcondition: [
        {
          condition: "${self.exit_code == 0}",
          error_message:
            "s-c exited with a non-zero status: its output is in docker logs s-c. " +
            `Plans fail on it until it runs again: after fixing the cause, terraform apply -replace=docker_container.${name}`,
        },
      ],
    });
  });

  test("a job that runs on every apply is replaced by a value that changes every apply", () => {
    const json = container({ kind: { type: "job", runs: "every-apply" } }).synth();
    const [[dataId, data]] = Object.entries<any>(json.resource.terraform_data);
    expect(data.triggers_replace).toEqual({ at: "${timestamp()}" });
    expect(Object.values<any>(json.resource.docker_container)[0].lifecycle.replace_triggered_by).toEqual([`${"$"}{terraform_data.${dataId}}`]);
  });
});

describe("provisioned files", () => {
  test("each is uploaded with its mode; generated ones carry the marker, assets as they are", () => {
    const { c, resource } = container();
    c.addFile({ path: "/etc/a.cfg", format: "haproxy", render: () => "global\n" });
    c.addFile({ path: "/opt/run.sh", format: "sh", mode: 0o755, generated: false, render: () => "#!/bin/sh\nexit 0\n" });
    expect(resource().upload).toEqual([
      { file: "/etc/a.cfg", content: "# Generated for s. Edit config/s.yaml.\nglobal\n", permissions: "0644" },
      { file: "/opt/run.sh", content: "#!/bin/sh\nexit 0\n", permissions: "0755" },
    ]);
  });

  test.each([
    ["sh", "#!/bin/sh\necho\n", "#!/bin/sh\n# M\necho\n"],
    ["xml", '<?xml version="1.0"?>\n<a/>\n', '<?xml version="1.0"?>\n<!-- M -->\n<a/>\n'],
    ["sql", "SELECT 1;\n", "-- M\nSELECT 1;\n"],
    ["haproxy", "global\n", "# M\nglobal\n"],
    ["json", "{}\n", "{}\n"],
  ] as const)("the %s marker goes where the format allows a comment", (format, content, marked) => {
    expect(withMarker(format, content, "M")).toBe(marked);
  });

  test("an XML marker naming an environment with -- in its name stays a well-formed comment", () => {
    const marked = withMarker("xml", '<?xml version="1.0"?>\n<a/>\n', 'Generated for "a--b". Edit config/a--b.yaml.');
    expect(marked).toBe('<?xml version="1.0"?>\n<!-- Generated for "a- -b". Edit config/a- -b.yaml. -->\n<a/>\n');
    expect(run(requireProgram("xmllint", "libxml2-utils"), ["--noout", "-"], marked).status).toBe(0);
  });

  test("a file is rendered once, and none can be added after its container's files were rendered", () => {
    const { c } = container();
    let renders = 0;
    c.addFile({ path: "/etc/a.conf", format: "text", render: () => `${++renders}\n` });
    expect(c.renderedFiles()).toBe(c.renderedFiles());
    expect(renders).toBe(1);
    expect(() => c.addFile({ path: "/etc/b.conf", format: "text", render: () => "" })).toThrow(
      '[s/c] file "/etc/b.conf" is added after s-c\'s files were rendered (synth)',
    );
  });

  test("an owner other than root is refused: the Docker provider uploads as root", () => {
    expect(() => container().c.addFile({ path: "/etc/a.conf", format: "text", owner: "haproxy", render: () => "" })).toThrow(
      '[s/c] file "/etc/a.conf": the Docker provider uploads files as root, so it cannot be owned by haproxy',
    );
  });
});

describe("read-only root", () => {
  test("GIVEN readOnlyRoot THEN the container's root is read-only, AND a file provisioned into it is refused with the reason", () => {
    const { c, resource } = container({ readOnlyRoot: true });
    expect(() => c.addFile({ path: "/etc/x.conf", format: "text", render: () => "x" })).toThrow(
      '[s/c] file "/etc/x.conf" cannot be provisioned into s-c: its root file system is read-only',
    );
    expect(resource().read_only).toBe(true);
  });
});
