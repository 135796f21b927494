import * as fs from "fs";
import * as path from "path";
import { renderConnectionStrings, ConnectionStringsModel } from "../../constructs/creatio-nodes/render-connection-strings";
import { renderAppsettingsOverlay } from "../../constructs/creatio-nodes/render-appsettings-overlay";
import { renderNodeDockerfile } from "../../constructs/creatio-nodes/render-node-dockerfile";
import { DatabaseEndpoint, POSTGRES } from "../../constructs/database/database-endpoint";
import { RedisEndpoint } from "../../constructs/redis/redis-client";
import { tempDir } from "../support/farm";
import { requireProgram, run } from "../support/programs";

const ENDPOINT = { host: "postgres", port: 5432, database: "creatio", user: "creatio", password: "p<&>\"'w" };
const MODEL: ConnectionStringsModel = {
  database: new DatabaseEndpoint(POSTGRES, ENDPOINT, 245).connectionStrings(),
  redis: new RedisEndpoint("redis", 6379, 3).connectionString(),
};

function xpath(xml: string, expr: string): string {
  const xmllint = requireProgram("xmllint", "libxml2-utils");
  const dir = tempDir("xml");
  const file = path.join(dir, "f.xml");
  fs.writeFileSync(file, xml);
  try {
    const r = run(xmllint, ["--xpath", expr, file]);
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.replace(/\n$/, ""); // xmllint ends string results with a newline
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe("renderConnectionStrings with the PostgreSQL engine's endpoint", () => {
  test("well-formed XML (xmllint) whose values survive escaping exactly", () => {
    // GIVEN a password with every XML-special character
    const xml = renderConnectionStrings(MODEL);
    // THEN xmllint parses it and reads the password back unchanged
    expect(xpath(xml, "string(//add[@name='db']/@connectionString)")).toBe(
      "Server=postgres;Port=5432;Database=creatio;User ID=creatio;password=p<&>\"'w;Timeout=500;CommandTimeout=400;MaxPoolSize=245;",
    );
  });

  test("db and dbPostgreSql target the same database, redis the configured db number", () => {
    const xml = renderConnectionStrings(MODEL);
    expect(xpath(xml, "string(//add[@name='dbPostgreSql']/@connectionString)")).toBe(
      "Pooling=true;Database=creatio;Host=postgres;Port=5432;Username=creatio;Password=p<&>\"'w;Timeout=500;CommandTimeout=400;Maximum Pool Size=245",
    );
    expect(xpath(xml, "string(//add[@name='redis']/@connectionString)")).toBe(
      "host=redis;db=3;port=6379;maxReadPoolSize=10;maxWritePoolSize=500",
    );
    expect(xpath(xml, "count(/connectionStrings/add)")).toBe("4");
  });

  test("a value that would change the meaning of the connection string is refused by the endpoint", () => {
    expect(() => new DatabaseEndpoint(POSTGRES, { ...ENDPOINT, user: "x;Pooling=false" }, 245)).toThrow("database user must not contain ';' or '='");
  });

  test("another engine is a strategy: its own strings, written by the same renderer", () => {
    const other = { name: "other", poolsPerNode: 1, connectionStrings: () => [{ name: "db", value: "Data Source=x" }] };
    const xml = renderConnectionStrings({ ...MODEL, database: new DatabaseEndpoint(other, ENDPOINT, 5).connectionStrings() });
    expect(xpath(xml, "string(//add[@name='db']/@connectionString)")).toBe("Data Source=x");
    expect(xpath(xml, "count(/connectionStrings/add)")).toBe("3");
  });

  test("a connection string name given twice is refused", () => {
    expect(() => renderConnectionStrings({ ...MODEL, database: [...MODEL.database, { name: "redis", value: "x" }] })).toThrow('connection string "redis" is defined twice');
  });
});

describe("renderAppsettingsOverlay", () => {
  const dataProtection = { applicationName: "Creatio", keysDirectory: "/app/DataProtectionKeys" };

  test("valid JSON: ForwardedHeaders trusts exactly the given proxies, sorted and unique; one shared key ring", () => {
    const overlay = JSON.parse(renderAppsettingsOverlay({ knownProxies: ["172.30.10.3", "172.30.10.2", "172.30.10.3"], dataProtection }));
    expect(overlay).toEqual({
      DataProtection: { ApplicationName: "Creatio", CustomizeDataProtection: true, KeysDirectory: "/app/DataProtectionKeys" },
      ForwardedHeaders: {
        Enable: true,
        ForwardedForHeaderName: "X-Forwarded-For",
        KnownProxiesIP: ["172.30.10.2", "172.30.10.3"],
        ForwardLimit: 1,
      },
    });
  });

  test("an empty proxy list is refused: Creatio would trust X-Forwarded-For from anyone", () => {
    expect(() => renderAppsettingsOverlay({ knownProxies: [], dataProtection })).toThrow("at least one proxy");
  });
});

describe("renderNodeDockerfile", () => {
  const model = {
    environment: "dev",
    component: "creatio",
    baseImage: "registry.example.com/creatio-net8:8.3.1",
    appDir: "/app",
    farmDir: "/opt/creatio-farm",
    tenantId: 1,
    keysDir: "/app/DataProtectionKeys",
  };

  test("FROM your image; the build step runs configureWebFarmMode, the patch step at start runs before Creatio", () => {
    const text = renderNodeDockerfile(model);
    expect(text.split("\n").filter((l) => l && !l.startsWith("#"))).toEqual([
      "FROM registry.example.com/creatio-net8:8.3.1",
      "COPY opt/creatio-farm/ /opt/creatio-farm/",
      "ENV CREATIO_APP_DIR=/app CREATIO_FARM_DIR=/opt/creatio-farm CREATIO_TENANT_ID=1 CREATIO_DATA_PROTECTION_KEYS=/app/DataProtectionKeys",
      "WORKDIR /app",
      'RUN ["/bin/sh", "/opt/creatio-farm/configure-web-farm.sh"]',
      'ENTRYPOINT ["/bin/sh", "/opt/creatio-farm/entrypoint.sh"]',
      'CMD ["dotnet", "Terrasoft.WebHost.dll"]',
    ]);
  });

  test.each([
    ["an unpinned base image", { baseImage: "creatio" }, 'base image "creatio": expected an image pinned to a tag or digest'],
    ["a path with a space", { appDir: "/srv/my app" }, 'appDir must be an absolute path of [A-Za-z0-9._/-], got "/srv/my app"'],
    ["a path that climbs out", { keysDir: "/app/../etc" }, 'keysDir must be an absolute path of [A-Za-z0-9._/-], got "/app/../etc"'],
    ["a zero TenantId", { tenantId: 0 }, "tenantId must be a positive integer, got 0"],
  ])("%s is refused: it would be written unquoted into the Dockerfile", (_, override, message) => {
    expect(() => renderNodeDockerfile({ ...model, ...override })).toThrow(message);
  });
});
