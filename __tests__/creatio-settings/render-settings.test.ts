/** The settings job's requests: pure rendering, every value JSON-escaped once, codes checked. */
import { renderSettingsRequests } from "../../constructs/creatio-settings/render-settings";

test("GIVEN values of each type WHEN rendered THEN PostSysSettingsValues carries them typed and sorted, QuerySysSettings and the code list name the same codes", () => {
  const r = renderSettingsRequests({ SiteUrl: "https://crm.example.com", Enabled: true, Max: 42, Quote: `'"\\$(x)\n` });
  expect(JSON.parse(r.post)).toEqual({ isPersonal: false, sysSettingsValues: { Enabled: true, Max: 42, Quote: `'"\\$(x)\n`, SiteUrl: "https://crm.example.com" } });
  expect(Object.keys(JSON.parse(r.post).sysSettingsValues)).toEqual(["Enabled", "Max", "Quote", "SiteUrl"]);
  expect(JSON.parse(r.query)).toEqual({ sysSettingsNameCollection: ["Enabled", "Max", "Quote", "SiteUrl"] });
  expect(r.codes).toBe("Enabled\nMax\nQuote\nSiteUrl\n");
  // one line each: no raw line break of a value can split the request
  expect(r.post.trimEnd()).not.toContain("\n");
});

test("GIVEN the same values in another order THEN the bytes are the same", () => {
  expect(renderSettingsRequests({ B: "1", A: "2" })).toEqual(renderSettingsRequests({ A: "2", B: "1" }));
});

test.each([
  ["a code with a quote", { 'Site"Url': "x" }, /expected a system setting code/],
  ["a code that starts with a digit", { "1Url": "x" }, /expected a system setting code/],
  ["a code with a space (a grep pattern the job builds from it)", { "Site Url": "x" }, /expected a system setting code/],
  ["no setting at all", {}, /no system setting to set/],
  ["a number that JSON cannot carry", { Max: Number.POSITIVE_INFINITY }, /expected a finite number/],
  ["an object", { Obj: { a: 1 } as never }, /expected text, a number or true\/false/],
])("GIVEN %s THEN rendering refuses it", (_what, values, message) => {
  expect(() => renderSettingsRequests(values)).toThrow(message);
});
