/** nginx.conf for the DMZ reverse proxy in front of the customer portal. Pure: model in, text out. */
import { HOST_NAME } from "../balancer/rules";
import { template } from "../lib/template";
import { PORTAL_PREFIXES } from "./portal-prefixes";
import { allowedPrefixProblem } from "./rules";

export { PORTAL_PREFIXES };

/** A public integration endpoint: routed to the internal nodes, off unless an environment switches it on. */
export interface NginxEndpoint {
  /** Names its location and its rate-limit zone. */
  readonly name: string;
  /** Case-insensitive regular expression on the normalized path (nginx `location ~*`), anchored. */
  readonly pathPattern: string;
  /** Rewrites the Framework form (`/0/…`) the calling service may use to the .NET path. @default - none */
  readonly stripLeadingZero?: boolean;
  readonly methods: readonly string[];
  readonly bodyMb: number;
  readonly requestsPerMinute: number;
}

export interface NginxModel {
  /** Host name portal users use; every other Host (and SNI) is dropped. */
  readonly serverName: string;
  /** Container ports. */
  readonly httpPort: number;
  readonly httpsPort: number;
  /** The HTTPS port clients use: the redirect from HTTP names it unless it is 443. */
  readonly publicHttpsPort: number;
  /** Access log (one JSON object per request); the official image links it to the container's stdout. */
  readonly accessLog: string;
  readonly errorLog: string;
  readonly pidFile: string;
  /** PEM with chain and key, inside the container. */
  readonly certificate: string;
  /** The balancer's portal listener (`address:port`): portal nodes only. */
  readonly portalUpstream: string;
  /** The balancer's integration listener (internal nodes), when any endpoint is on. */
  readonly integrationUpstream?: string;
  /**
   * The Identity Service, when its token endpoint (`POST /connect/token`) is published: its `address:port`, and the
   * Host it is called by inside the farm. @default - not published
   */
  readonly tokenUpstream?: { readonly address: string; readonly host: string };
  /** Path prefixes portal pages use, beyond the built-in list (`/Ssp/…`). */
  readonly extraAllowedPrefixes: readonly string[];
  readonly endpoints: readonly NginxEndpoint[];
  readonly limits: {
    readonly requestsPerSecond: number;
    readonly burst: number;
    readonly connectionsPerSource: number;
    readonly bodyMb: number;
    /** POSTs to the login service per minute and address. */
    readonly loginsPerMinute: number;
  };
  readonly hstsMaxAgeSeconds: number;
  /** Where SignalR's `/msg` may stay open without traffic. */
  readonly websocketIdleSeconds: number;
}


/**
 * Files no request may fetch, however the path is written: nginx matches the normalized path (percent-decoding,
 * `..` and `//` resolved), `~*` ignores case, and the tail catches trailing dots, spaces, slashes, `;` parameters,
 * `::$DATA` and `~`.
 */
export const DENIED_PATHS: readonly string[] = [
  // configuration, source and build files, and backups
  "\\.(?:config|dll|pdb|exe|cs|csproj|sln|bak|backup|old|orig|save|swp|sql|ini|log|zip|7z|tar|gz)(?:[./;:~ ].*)?$",
  // the .NET app settings, whatever their environment suffix
  "(?:^|/)appsettings[^/]*\\.json(?:[./;:~ ].*)?$",
  // dot-files and dot-folders (.git, .env, .htpasswd)
  "/\\.",
  // editor and copy backups (Web.config~, Web.config.1)
  "~$",
];

const METHOD = /^[A-Z]{3,7}$/;
const render = template(__dirname, "nginx.conf.hbs");

export function renderNginxConf(model: NginxModel): string {
  if (!HOST_NAME.test(model.serverName)) throw new Error(`not a host name: "${model.serverName}"`);
  for (const p of model.extraAllowedPrefixes) {
    const problem = allowedPrefixProblem(p);
    if (problem) throw new Error(`extra allowed path "${p}": ${problem}`);
  }
  const twice = model.extraAllowedPrefixes.find((p, i) => model.extraAllowedPrefixes.indexOf(p) !== i);
  if (twice !== undefined) throw new Error(`extra allowed path "${twice}" is listed twice`);
  for (const e of model.endpoints) {
    if (!/^[a-z][a-z0-9_]*$/.test(e.name)) throw new Error(`not an endpoint name: "${e.name}"`);
    if (!e.methods.every((m) => METHOD.test(m))) throw new Error(`endpoint ${e.name}: not HTTP methods: ${e.methods.join(" ")}`);
    // Written between double quotes in nginx.conf: a quote or a backslash before it would end the word early.
    if (/["{}]|\\$/.test(e.pathPattern)) throw new Error(`endpoint ${e.name}: a path pattern may not hold " { } or end in \\`);
  }
  if (model.endpoints.length > 0 && !model.integrationUpstream) throw new Error("endpoints need the integration upstream");
  const token = model.tokenUpstream;
  if (token && (!/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(token.address) || !/^[a-z0-9.-]+:\d{1,5}$/.test(token.host))) {
    throw new Error(`token upstream must be <IPv4>:<port> called as <host>:<port>, got ${JSON.stringify(token)}`);
  }
  return render({
    ...model,
    integrationUpstream: model.integrationUpstream ?? false,
    tokenUpstream: token ?? false,
    httpsSuffix: model.publicHttpsPort === 443 ? "" : `:${model.publicHttpsPort}`,
    prefixes: [...PORTAL_PREFIXES, ...model.extraAllowedPrefixes],
    denied: DENIED_PATHS,
    endpoints: model.endpoints.map((e) => ({ ...e, methodList: e.methods.join(" "), stripLeadingZero: e.stripLeadingZero === true })),
  });
}
