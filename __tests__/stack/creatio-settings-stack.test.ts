/**
 * `systemSettings:` and the Identity Service's OAuth settings: the settings job, its variables, its files and its
 * order, read from the synthesized Terraform.
 */
import { FarmConfigInput } from "../../schema/schema";
import { config, containers, minimalInput, synthFarmStack, uploadContent } from "../support/farm";

const withSettings = (extra: Partial<FarmConfigInput> = {}): FarmConfigInput => ({ ...minimalInput(), systemSettings: { SiteUrl: "https://crm.example.com", Enabled: true }, ...extra });
const upload = (tf: any, path: string) => containers(tf)["test-creatio-settings"].upload.find((u: any) => u.file === path);
const addressOf = (tf: any, name: string): string => `docker_container.${Object.entries<any>(tf.resource.docker_container).find(([, c]) => c.name === name)![0]}`;

describe("GIVEN neither systemSettings nor identityService", () => {
  const { tf } = synthFarmStack(config(minimalInput()));
  test("THEN there is no settings job and no variable to supply", () => {
    expect(containers(tf)["test-creatio-settings"]).toBeUndefined();
    expect(tf.variable).toBeUndefined();
  });
  test("AND an empty systemSettings mapping changes nothing either", () => {
    expect(synthFarmStack(config({ ...minimalInput(), systemSettings: {} })).json).toBe(synthFarmStack(config(minimalInput())).json);
  });
});

describe("GIVEN systemSettings", () => {
  const { tf } = synthFarmStack(config(withSettings()));
  const job = containers(tf)["test-creatio-settings"];

  test("THEN the administrator's password is a sensitive, required Terraform variable, its user defaults to Supervisor", () => {
    expect(tf.variable!.creatio_admin_password).toMatchObject({ type: "string", sensitive: true, nullable: false });
    expect(tf.variable!.creatio_admin_password.default).toBeUndefined();
    expect(tf.variable!.creatio_admin_user).toMatchObject({ type: "string", default: "Supervisor" });
  });

  test("THEN the job gets the credential as 0600 files straight from the variables, never in its environment or command", () => {
    expect(upload(tf, "/opt/creatio-farm/admin-password")).toMatchObject({ content: "${var.creatio_admin_password}", permissions: "0600" });
    expect(upload(tf, "/opt/creatio-farm/admin-user")).toMatchObject({ content: "${var.creatio_admin_user}", permissions: "0600" });
    expect(JSON.stringify([job.env, job.entrypoint, job.command ?? null])).not.toContain("var.creatio_admin");
    expect(job.user).toBe("0:0");
    expect(job.capabilities).toEqual({ drop: ["ALL"] });
  });

  test("THEN it runs in the node image, on the data network, calling every node directly, after every node is created", () => {
    expect(job.image).toBe(containers(tf)["test-creatio-node-1"].image);
    expect(job.networks_advanced.map((n: any) => n.ipv4_address)).toEqual(["172.30.11.5"]);
    expect(job.env).toContain("CREATIO_NODES=172.30.11.11:5000 172.30.11.12:5000");
    expect(job.env).toContain("CREATIO_HEALTH_PATH=/api/HealthCheck/Ping");
    expect(job.depends_on).toEqual(expect.arrayContaining([addressOf(tf, "test-creatio-node-1"), addressOf(tf, "test-creatio-node-2")]));
    expect(job.restart).toBe("no");
  });

  test("THEN the request carries the values as JSON (0600), and the codes are listed for the check", () => {
    const post = upload(tf, "/opt/creatio-farm/settings.json");
    expect(post.permissions).toBe("0600");
    expect(JSON.parse(uploadContent(tf, post))).toEqual({ isPersonal: false, sysSettingsValues: { Enabled: true, SiteUrl: "https://crm.example.com" } });
    expect(uploadContent(tf, upload(tf, "/opt/creatio-farm/setting-codes"))).toBe("Enabled\nSiteUrl\n");
  });

  test("THEN a value with Terraform's template syntax reaches the job as written", () => {
    const { tf: t } = synthFarmStack(config(withSettings({ systemSettings: { Note: "${var.creatio_admin_password} %{ if true }x" } })));
    const content = containers(t)["test-creatio-settings"].upload.find((u: any) => u.file === "/opt/creatio-farm/settings.json").content;
    expect(content).toContain("$${var.creatio_admin_password} %%{ if true }x");
  });
});

describe("GIVEN identityService", () => {
  const { tf } = synthFarmStack(config({ ...minimalInput(), identityService: { image: "registry.example.com/creatio-identity-service:8.3.1" } }));
  const job = containers(tf)["test-creatio-settings"];

  test("THEN the settings job sets the three OAuth settings: the service's internal URL and the generated client", () => {
    const post = JSON.parse(uploadContent(tf, job.upload.find((u: any) => u.file === "/opt/creatio-farm/settings.json")));
    expect(post.sysSettingsValues).toEqual({
      OAuth20IdentityServerClientId: expect.stringMatching(/^\$\{random_password\.secrets_identity-client-id_\w+\.result\}$/),
      OAuth20IdentityServerClientSecret: expect.stringMatching(/^\$\{random_password\.secrets_identity-client-secret_\w+\.result\}$/),
      OAuth20IdentityServerUrl: "http://identity-service:8080",
    });
    expect(job.depends_on).toContain(addressOf(tf, "test-identity-service"));
  });
});

test("GIVEN a value holding the farm's secret mark, built in code without the schema THEN the construct refuses it with its path", () => {
  const cfg = { ...config(withSettings()), systemSettings: { SiteUrl: "@@secret:database-superuser-password@@" } };
  expect(() => synthFarmStack(cfg)).toThrow(
    /creatio-settings.*system setting SiteUrl: expected text without "@@secret:"/,
  );
});
