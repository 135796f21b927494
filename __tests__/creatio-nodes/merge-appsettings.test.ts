/** merge-appsettings.awk, the part of the patch step that edits appsettings.json: under mawk, gawk and busybox awk. */
import {
  FIXTURE_APPSETTINGS,
  BOM,
  AWKS,
  requireAwk,
  Run,
  mergeAppsettings,
  checkAppsettings,
  crlf,
  FORWARDED_OVERLAY,
  overlayText,
  parseJson,
  BASE,
} from "./support/patch-step";

describe.each(AWKS)("merge-appsettings.awk with $name", (awk) => {
  beforeAll(() => requireAwk(awk));

  describe("GIVEN the shipped appsettings.json (BOM, braces and escaped quotes in strings) and the ForwardedHeaders overlay", () => {
    let out: Run;
    beforeAll(() => {
      out = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), FIXTURE_APPSETTINGS);
    });

    it("WHEN merged THEN it parses to the top-level merge, in the original key order", () => {
      expect(out.stderr).toBe("");
      expect(out.status).toBe(0);
      const merged = parseJson(out.stdout);
      expect(merged).toEqual({ ...BASE, ...FORWARDED_OVERLAY });
      expect(Object.keys(merged)).toEqual(Object.keys(BASE));
      expect((merged.Kestrel as { Endpoints: { Https: { Certificate: { Password: string } } } }).Endpoints.Https.Certificate.Password).toBe('pa}ss"word');
    });

    it("WHEN merged THEN the BOM and every byte outside the replaced value are kept", () => {
      const src = FIXTURE_APPSETTINGS.toString("utf8");
      const at = src.indexOf(`"ForwardedHeaders": `) + `"ForwardedHeaders": `.length;
      const value = JSON.stringify(FORWARDED_OVERLAY.ForwardedHeaders, null, 2).replace(/\n/g, "\n  ");
      expect(out.stdout.subarray(0, 3).equals(BOM)).toBe(true);
      expect(out.stdout.toString("utf8")).toBe(src.slice(0, at) + value + "\n}\n");
    });

    it("WHEN merged again THEN the output is byte-identical (idempotent)", () => {
      const again = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), out.stdout);
      expect(again.status).toBe(0);
      expect(again.stdout.equals(out.stdout)).toBe(true);
    });

    it("WHEN the file uses CRLF THEN the output keeps CRLF everywhere (inserted lines too) and nothing else differs", () => {
      const r = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), Buffer.from(crlf(FIXTURE_APPSETTINGS.toString("utf8"))));
      expect(r.status).toBe(0);
      const text = r.stdout.toString("utf8");
      expect(text).not.toMatch(/[^\r]\n/);
      expect(text).toBe(crlf(out.stdout.toString("utf8")));
    });
  });

  describe("GIVEN an overlay with a key appsettings.json lacks", () => {
    it("WHEN merged THEN it is appended as the last top-level member and the merge is idempotent", () => {
      const overlay = { ...FORWARDED_OVERLAY, PathBase: "" };
      const r = mergeAppsettings(awk, overlayText(overlay), FIXTURE_APPSETTINGS);
      expect(r.status).toBe(0);
      const merged = parseJson(r.stdout);
      expect(merged).toEqual({ ...BASE, ...overlay });
      expect(Object.keys(merged)).toEqual([...Object.keys(BASE), "PathBase"]);
      expect(r.stdout.toString("utf8").endsWith(`  },\n  "PathBase": ""\n}\n`)).toBe(true);
      expect(mergeAppsettings(awk, overlayText(overlay), r.stdout).stdout.equals(r.stdout)).toBe(true);
    });
  });

  describe("GIVEN ForwardedHeaders only at a nested level", () => {
    it("WHEN merged THEN the nested object is untouched and a top-level member is appended", () => {
      const target = `{\n    "Proxy": { "ForwardedHeaders": { "Enable": false }, "Note": "}{" },\n    "Other": [1, {"ForwardedHeaders": 2}]\n}\n`;
      const r = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), target);
      expect(r.status).toBe(0);
      const text = r.stdout.toString("utf8");
      expect(text.startsWith(target.slice(0, target.lastIndexOf("]") + 1) + ",\n    \"ForwardedHeaders\": {\n      \"Enable\": true,")).toBe(true);
      expect(parseJson(r.stdout)).toEqual({ ...JSON.parse(target), ...FORWARDED_OVERLAY });
    });
  });

  describe("GIVEN an empty appsettings.json object {}", () => {
    it("WHEN merged THEN the result is the overlay and a second merge changes nothing", () => {
      const r = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), "{}");
      expect(r.status).toBe(0);
      expect(parseJson(r.stdout)).toEqual(FORWARDED_OVERLAY);
      expect(mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), r.stdout).stdout.equals(r.stdout)).toBe(true);
    });
  });

  describe("GIVEN a member name spelled with a JSON escape (.NET decodes it)", () => {
    it("WHEN merged THEN the escaped ForwardedHeaders is the one replaced: no wider KnownNetworks survives", () => {
      const target = `{\n  "Forwarded\\u0048eaders": { "KnownNetworks": ["0.0.0.0/0"] },\n  "Logging": {}\n}\n`;
      // control: as .NET reads it, the target's member is ForwardedHeaders
      expect(Object.keys(JSON.parse(target))).toEqual(["ForwardedHeaders", "Logging"]);
      const r = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), target);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const merged = parseJson(r.stdout);
      expect(merged).toEqual({ ForwardedHeaders: FORWARDED_OVERLAY.ForwardedHeaders, Logging: {} });
    });
  });

  describe.each([
    ["appsettings.json", "merge"],
    ["appsettings.Production.json", "check"],
  ])("GIVEN %s that sets a farm member by configuration path", (_, mode) => {
    it("WHEN it is merged or checked THEN it is refused, naming the member: nothing on stdout", () => {
      const target = `{ "Logging": {}, "forwardedHeaders:KnownNetworks": ["0.0.0.0/0"] }\n`;
      const r = mode === "merge" ? mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), target) : checkAppsettings(awk, overlayText(FORWARDED_OVERLAY), target);
      expect(r.stderr).toMatch(/^creatio-farm: .*member "forwardedHeaders:KnownNetworks" would override the farm's ForwardedHeaders/m);
      expect(r.status).toBe(2);
      expect(r.stdout.length).toBe(0);
    });
  });

  describe("GIVEN appsettings.Production.json (read after appsettings.json)", () => {
    it("WHEN it sets ForwardedHeaders (any spelling) THEN the check refuses it; WHEN it does not THEN the check passes silently", () => {
      for (const name of ["ForwardedHeaders", "forwardedheaders", "Forwarded\\u0048eaders"]) {
        const r = checkAppsettings(awk, overlayText(FORWARDED_OVERLAY), `{ "${name}": { "KnownNetworks": ["0.0.0.0/0"] } }\n`);
        expect([name, r.status, r.stdout.length]).toEqual([name, 2, 0]);
        expect(r.stderr).toMatch(/would override the farm's ForwardedHeaders/);
      }
      const ok = checkAppsettings(awk, overlayText(FORWARDED_OVERLAY), `{ "Logging": { "LogLevel": { "Default": "Warning" } } }\n`);
      expect([ok.status, ok.stdout.length, ok.stderr]).toEqual([0, 0, ""]);
    });
  });

  describe.each([
    ["an unclosed object", `{ "a": { "b": 1 }\n`],
    ["a mismatched bracket", `{ "a": [1, 2} }\n`],
    ["an extra closing brace", `{ "a": 1 } }\n`],
    ["an unterminated string", `{ "a": "pa}ss\\" }\n`],
    ["a JSON array instead of an object", `[ { "a": 1 } ]\n`],
    ["an empty file", ``],
  ])("GIVEN appsettings.json with %s", (_label, target) => {
    it("WHEN merged THEN it fails closed: exit 2, a creatio-farm: line on stderr, nothing on stdout", () => {
      const r = mergeAppsettings(awk, overlayText(FORWARDED_OVERLAY), target);
      expect(r.stderr).toMatch(/^creatio-farm: \S/m);
      expect(r.status).toBe(2);
      expect(r.stdout.length).toBe(0);
    });
  });
});
