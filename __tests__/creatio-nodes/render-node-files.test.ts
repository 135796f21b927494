import * as fs from "fs";
import * as path from "path";
import { renderConnectionStrings, ConnectionStringsModel } from "../../constructs/creatio-nodes/render-connection-strings";
import { renderAppsettingsOverlay } from "../../constructs/creatio-nodes/render-appsettings-overlay";
import { tempDir } from "../support/farm";
import { requireProgram, run } from "../support/programs";

const MODEL: ConnectionStringsModel = {
  environment: "dev",
  database: { host: "postgres", port: 5432, name: "creatio", user: "creatio", password: "p<&>\"'w", maxPoolSize: 245 },
  redis: { host: "redis", port: 6379, db: 3 },
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

describe("renderConnectionStrings", () => {
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

  test("a value that would change the meaning of the connection string is refused", () => {
    expect(() => renderConnectionStrings({ ...MODEL, database: { ...MODEL.database, user: "x;Pooling=false" } })).toThrow(
      "database user must not contain ';' or '='",
    );
  });
});

describe("renderAppsettingsOverlay", () => {
  test("valid JSON: ForwardedHeaders trusts exactly the given proxies, sorted and unique", () => {
    const overlay = JSON.parse(renderAppsettingsOverlay({ knownProxies: ["172.30.10.3", "172.30.10.2", "172.30.10.3"] }));
    expect(overlay).toEqual({
      ForwardedHeaders: {
        Enable: true,
        ForwardedForHeaderName: "X-Forwarded-For",
        KnownProxiesIP: ["172.30.10.2", "172.30.10.3"],
        ForwardLimit: 1,
      },
    });
  });

  test("an empty proxy list is refused: Creatio would trust X-Forwarded-For from anyone", () => {
    expect(() => renderAppsettingsOverlay({ knownProxies: [] })).toThrow("at least one proxy");
  });
});
