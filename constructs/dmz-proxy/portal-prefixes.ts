/**
 * What portal pages load, from Creatio's .NET portal (`../shared/reference/creatio-net.md` A1/A4; UNCONFIRMED as
 * complete, hence `extraAllowedPrefixes`). Plain prefixes: the deny regexes run after the longest prefix and win
 * over it (a `^~` prefix would skip them).
 */
export const PORTAL_PREFIXES: readonly string[] = [
  "/Login/",
  "/SspLogin/",
  "/Ssp/",
  "/ssp/",
  "/DataService/ssp/",
  "/core/",
  "/conf/content/",
  "/Shell/",
  "/Nui/",
  "/img/",
  "/configuration/",
  "/Terrasoft.Configuration/Pkg/",
  "/api/ClientScript/",
  "/api/ShellSession/",
];
