/**
 * The Identity Service's two scripts, run for real: its entrypoint (the merge of the farm's keys into the image's
 * appsettings.json, and the checks before the service starts) under dash and busybox sh, and the certificate job
 * with the host's openssl.
 */
import { spawnSync, SpawnSyncReturns } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tls from "tls";
import { renderIdentityAppsettings } from "../../constructs/identity-service/render-identity-appsettings";
import { INSTALL_HINT, MERGE_AWK, newTmpDir, requireTool } from "../creatio-nodes/support/patch-step";

const ASSETS = path.resolve(__dirname, "../../constructs/identity-service/assets");
const ENTRYPOINT = path.join(ASSETS, "entrypoint.sh");
const MAKE_CERTIFICATE = path.join(ASSETS, "make-certificate.sh");

/** What a shipped Identity Service appsettings.json looks like: its own keys, comments, CRLF. */
const SHIPPED = [
  "{",
  '  // shipped with the service',
  '  "Logging": { "LogLevel": { "Default": "Debug" } },',
  '  "AllowedHosts": "*",',
  '  "DbProvider": "MsSqlServer",',
  '  "MsSqlConnection": "Data Source=.;Initial Catalog=creatio",',
  '  "X509CertificatePath": "openssl.pfx",',
  '  "Clients": "[{\\"ClientId\\":\\"bpmonline-designer\\"}]",',
  '  "IdentityServerApi": { "Scope": "IdentityServerApi" }',
  "}",
  "",
].join("\r\n");

const overlay = (certificate: string) =>
  renderIdentityAppsettings({
    connectionString: "Pooling=true;Database=creatio;Host=postgres;Port=5432;Username=creatio_identity;Password=pw;",
    client: { id: "ABCDEFGHIJKLMNOP", name: "creatio-farm", secret: "0123456789abcdef0123456789abcdef" },
    certificatePath: certificate,
    logLevel: "Warning",
    listenUrl: "http://0.0.0.0:8080",
  });

/** .NET's reader accepts comments; JSON.parse does not. */
const parseRelaxed = (text: string) => JSON.parse(text.replace(/^\s*\/\/.*$/gm, ""));

const SHELLS = [
  { name: "dash", cmd: "dash", pre: [] as string[], awk: undefined as string | undefined },
  { name: "busybox sh", cmd: "busybox", pre: ["sh"], awk: "busybox awk" },
];

describe.each(SHELLS)("the Identity Service's entrypoint.sh under $name", (shell) => {
  beforeAll(() => requireTool(shell.name, shell.cmd, [...shell.pre, "-c", "exit 0"]));

  function stage(opts: { certificate?: boolean } = {}) {
    const root = newTmpDir("ids");
    const app = path.join(root, "app");
    const farm = path.join(root, "farm");
    fs.mkdirSync(app);
    fs.mkdirSync(farm);
    const certificate = path.join(root, "identity.pfx");
    if (opts.certificate !== false) fs.writeFileSync(certificate, "not empty");
    fs.copyFileSync(MERGE_AWK, path.join(farm, "merge-appsettings.awk"));
    fs.copyFileSync(path.join(ASSETS, "refuse-overrides.sh"), path.join(farm, "refuse-overrides.sh"));
    fs.writeFileSync(path.join(farm, "appsettings.farm.json"), overlay(certificate));
    fs.writeFileSync(path.join(app, "appsettings.json"), SHIPPED, { mode: 0o640 });
    return { app, farm, certificate };
  }

  function run(dirs: ReturnType<typeof stage>, extraEnv: Record<string, string> = {}, cmd = ["sh", "-c", 'echo started "$@"', "sh", "dotnet", "IdentityService.dll"]): SpawnSyncReturns<Buffer> {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...extraEnv, CREATIO_FARM_DIR: dirs.farm, IDENTITY_APP_DIR: dirs.app, IDENTITY_CERTIFICATE: dirs.certificate };
    if (shell.awk) env.CREATIO_AWK = shell.awk;
    const r = spawnSync(shell.cmd, [...shell.pre, ENTRYPOINT, ...cmd], { env });
    if (r.error) throw new Error(`${shell.name} could not be run (${r.error.message}); ${INSTALL_HINT}`);
    return r;
  }

  it("GIVEN a shipped appsettings.json WHEN the container starts THEN the farm's keys replace the shipped ones, every other key stays, and the service is exec'd", () => {
    const dirs = stage();
    const r = run(dirs);
    expect(r.stderr.toString()).toContain("appsettings.json merged");
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toBe("started dotnet IdentityService.dll\n");
    const text = fs.readFileSync(path.join(dirs.app, "appsettings.json"), "utf8");
    expect(text).toContain("// shipped with the service");
    expect(text).toContain("\r\n");
    const merged = parseRelaxed(text);
    expect(merged.DbProvider).toBe("Postgres");
    expect(merged.PostgresConnection).toBe(merged.DatabaseConnectionString);
    expect(JSON.parse(merged.Clients)[0].ClientId).toBe("ABCDEFGHIJKLMNOP");
    expect(merged.X509CertificatePath).toBe(dirs.certificate);
    expect(merged.Logging.LogLevel.Default).toBe("Warning");
    expect(merged.Kestrel.Endpoints.Http.Url).toBe("http://0.0.0.0:8080");
    expect(merged.AllowedHosts).toBe("*");
    expect(merged.IdentityServerApi).toEqual({ Scope: "IdentityServerApi" });
    expect(merged.MsSqlConnection).toBe("Data Source=.;Initial Catalog=creatio");
    expect(fs.statSync(path.join(dirs.app, "appsettings.json")).mode & 0o777).toBe(0o640);
  });

  it("GIVEN a merged appsettings.json WHEN the container starts again THEN nothing is rewritten", () => {
    const dirs = stage();
    expect(run(dirs).status).toBe(0);
    const before = fs.readFileSync(path.join(dirs.app, "appsettings.json"));
    const r = run(dirs);
    expect(r.status).toBe(0);
    expect(r.stderr.toString()).toContain("appsettings.json unchanged");
    expect(fs.readFileSync(path.join(dirs.app, "appsettings.json"))).toEqual(before);
    expect(fs.readdirSync(dirs.app)).toEqual(["appsettings.json"]);
  });

  it("GIVEN no signing certificate WHEN the container starts THEN it refuses to, naming the file", () => {
    const dirs = stage({ certificate: false });
    const r = run(dirs);
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toContain(`the signing certificate ${dirs.certificate} is missing or unreadable`);
    expect(r.stdout.toString()).toBe("");
  });

  it.each([
    ["an environment variable (the image's ENV DbProvider)", { DbProvider: "MsSqlServer" }, "environment variable DbProvider"],
    ["an environment variable by configuration path", { Logging__LogLevel__Default: "Trace" }, "environment variable Logging__LogLevel__Default"],
  ])("GIVEN %s that overrides a key the farm owns WHEN the container starts THEN it refuses to", (_what, env, message) => {
    const r = run(stage(), env);
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toContain(message);
    expect(r.stdout.toString()).toBe("");
  });

  it("GIVEN appsettings.Production.json that sets the connection string WHEN the container starts THEN it refuses to", () => {
    const dirs = stage();
    fs.writeFileSync(path.join(dirs.app, "appsettings.Production.json"), '{ "PostgresConnection": "Host=elsewhere" }\n');
    const r = run(dirs, { ASPNETCORE_ENVIRONMENT: "Production" });
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toContain("appsettings.Production.json sets what the farm sets");
  });

  it("GIVEN the appsettings.Development.json dotnet publish leaves behind (with Logging) WHEN the container starts as Production THEN it starts: that file is never read", () => {
    const dirs = stage();
    fs.writeFileSync(path.join(dirs.app, "appsettings.Development.json"), '{ "Logging": { "LogLevel": { "Default": "Debug" } } }\n');
    const r = run(dirs, { ASPNETCORE_ENVIRONMENT: "Production" });
    expect(r.stderr.toString()).not.toContain("refusing");
    expect(r.status).toBe(0);
  });

  it("GIVEN --environment on the command line WHEN the container starts THEN it refuses to: another appsettings file would be read", () => {
    const r = run(stage(), { ASPNETCORE_ENVIRONMENT: "Production" }, ["dotnet", "IdentityService.dll", "--environment", "Development"]);
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toContain("would read another environment's appsettings file");
  });

  it("GIVEN a command-line argument that overrides a key the farm owns WHEN the container starts THEN it refuses to", () => {
    const r = run(stage(), {}, ["dotnet", "IdentityService.dll", "--X509CertificatePath=/tmp/other.pfx"]);
    expect(r.status).toBe(2);
    expect(r.stderr.toString()).toContain("command-line argument --X509CertificatePath=/tmp/other.pfx");
  });
});

describe("the certificate job's make-certificate.sh", () => {
  beforeAll(() => requireTool("openssl", "openssl", ["version"]));

  function run(dir: string, extraEnv: Record<string, string> = {}): SpawnSyncReturns<Buffer> {
    return spawnSync("sh", [MAKE_CERTIFICATE], {
      env: { PATH: process.env.PATH, IDENTITY_CERTIFICATE: path.join(dir, "identity.pfx"), IDENTITY_CERTIFICATE_DAYS: "1095", IDENTITY_CERTIFICATE_CN: "test-identity-service", ...extraEnv },
    });
  }

  it("GIVEN an empty volume WHEN it runs THEN it leaves a PKCS#12 file with an empty password that holds a key and its certificate, readable by any user, and nothing else", () => {
    const dir = newTmpDir("cert");
    const r = run(dir);
    expect(r.stderr.toString()).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toMatch(/made a new signing certificate in .*identity\.pfx \(notAfter=/);
    const pfx = fs.readFileSync(path.join(dir, "identity.pfx"));
    // Loads with the empty password, the way the service opens it; a PKCS#12 without a key would not.
    expect(() => tls.createSecureContext({ pfx, passphrase: "" })).not.toThrow();
    expect(fs.statSync(path.join(dir, "identity.pfx")).mode & 0o777).toBe(0o444);
    expect(fs.readdirSync(dir)).toEqual(["identity.pfx"]);
    const subject = spawnSync("sh", ["-c", `openssl pkcs12 -in "$1" -passin pass: -nokeys | openssl x509 -noout -subject -enddate`, "sh", path.join(dir, "identity.pfx")]).stdout.toString();
    expect(subject).toContain("CN = test-identity-service");
    const notAfter = new Date(/notAfter=(.*)/.exec(subject)![1]);
    expect(Math.round((notAfter.getTime() - Date.now()) / 86400000)).toBe(1095);
  });

  it("GIVEN a certificate made before WHEN it runs again THEN it keeps the same file: tokens signed with it stay verifiable", () => {
    const dir = newTmpDir("cert");
    expect(run(dir).status).toBe(0);
    const before = fs.readFileSync(path.join(dir, "identity.pfx"));
    const r = run(dir);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toContain("keeping the signing certificate");
    expect(fs.readFileSync(path.join(dir, "identity.pfx"))).toEqual(before);
  });

  it("GIVEN a certificate of the shortest validity allowed (60 days) WHEN the job runs again THEN it is kept", () => {
    const dir = newTmpDir("cert");
    expect(run(dir, { IDENTITY_CERTIFICATE_DAYS: "60" }).status).toBe(0);
    const r = run(dir, { IDENTITY_CERTIFICATE_DAYS: "60" });
    expect(r.stdout.toString()).toContain("keeping the signing certificate");
  });

  it.each([
    ["unreadable as PKCS#12", (dir: string) => fs.writeFileSync(path.join(dir, "identity.pfx"), "garbage")],
    ["about to expire", (dir: string) => expect(run(dir, { IDENTITY_CERTIFICATE_DAYS: "10" }).status).toBe(0)],
  ])("GIVEN a certificate %s WHEN it runs THEN it makes a new one", (_what, prepare) => {
    const dir = newTmpDir("cert");
    prepare(dir);
    const before = fs.readFileSync(path.join(dir, "identity.pfx"));
    const r = run(dir);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toContain("making a new one");
    expect(fs.readFileSync(path.join(dir, "identity.pfx"))).not.toEqual(before);
  });

  it("GIVEN an image without openssl WHEN it runs THEN it fails saying so, and writes nothing", () => {
    const dir = newTmpDir("cert");
    const bin = newTmpDir("bin");
    for (const tool of ["sh", "mktemp", "rm", "chmod", "mv", "cut"]) {
      const found = spawnSync("sh", ["-c", `command -v ${tool}`]).stdout.toString().trim();
      if (found) fs.symlinkSync(found, path.join(bin, tool));
    }
    const r = spawnSync(path.join(bin, "sh"), [MAKE_CERTIFICATE], {
      env: { PATH: bin, IDENTITY_CERTIFICATE: path.join(dir, "identity.pfx"), IDENTITY_CERTIFICATE_DAYS: "1095", IDENTITY_CERTIFICATE_CN: "x" },
    });
    expect(r.status).toBe(1);
    expect(r.stderr.toString()).toContain("this image has no openssl");
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("GIVEN a common name that is not a host name WHEN it runs THEN it refuses it", () => {
    const r = run(newTmpDir("cert"), { IDENTITY_CERTIFICATE_CN: "x/O=evil" });
    expect(r.status).toBe(1);
    expect(r.stderr.toString()).toContain("IDENTITY_CERTIFICATE_CN must be a host name");
  });
});
