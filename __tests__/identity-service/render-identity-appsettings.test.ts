/** The Identity Service's appsettings overlay: pure rendering. */
import { renderIdentityAppsettings, IdentityAppsettingsModel } from "../../constructs/identity-service/render-identity-appsettings";

const MODEL: IdentityAppsettingsModel = {
  connectionString: 'Host=postgres;Username=creatio_identity;Password=p"w\\;',
  client: { id: "ABCDEFGHIJKLMNOP", name: 'creatio "farm"', secret: "0123456789abcdef0123456789abcdef" },
  certificatePath: "/opt/creatio-farm/identity-certificate/identity.pfx",
  logLevel: "Error",
  listenUrl: "http://0.0.0.0:8080",
};

test("GIVEN a model WHEN rendered twice THEN the bytes are the same, keys sorted", () => {
  const text = renderIdentityAppsettings(MODEL);
  expect(renderIdentityAppsettings({ ...MODEL })).toBe(text);
  expect(Object.keys(JSON.parse(text))).toEqual(["Clients", "DatabaseConnectionString", "DbProvider", "Kestrel", "Logging", "PostgresConnection", "X509CertificatePath"]);
});

test("GIVEN values with quotes and backslashes THEN Clients decodes, twice, to exactly the client given", () => {
  const parsed = JSON.parse(renderIdentityAppsettings(MODEL));
  expect(parsed.PostgresConnection).toBe(MODEL.connectionString);
  const [client] = JSON.parse(parsed.Clients);
  expect(client).toMatchObject({ ClientId: MODEL.client.id, ClientName: 'creatio "farm"', Secrets: [MODEL.client.secret], AllowedGrantTypes: ["client_credentials"] });
  expect(client.AllowedScopes).toContain("IdentityServerApi");
});

test.each([
  ["a relative certificate path", { certificatePath: "openssl.pfx" }, /certificatePath must be absolute/],
  ["a log level .NET does not have", { logLevel: "Verbose" as never }, /logLevel must be one of/],
  ["an HTTPS listen URL (no certificate for Kestrel)", { listenUrl: "https://0.0.0.0:8443" }, /listenUrl must be http/],
])("GIVEN %s THEN rendering refuses it", (_what, change, message) => {
  expect(() => renderIdentityAppsettings({ ...MODEL, ...change })).toThrow(message);
});
