/**
 * Every default value of the product, in one place.
 *
 * The constructs apply them, once, whether their props come from an environment file (through `app/`) or from
 * code; the config schema only checks and names them as defaults in the JSON Schema it publishes.
 */
export const DEFAULTS = {
  network: {
    /** Balancer ↔ application nodes. */
    appSubnet: "172.30.10.0/24",
    /** Nodes ↔ Redis and the database; `internal: true`, no route out. */
    dataSubnet: "172.30.11.0/24",
    /** With a portal: the DMZ proxy ↔ the balancer's portal-facing listeners. */
    dmzSubnet: "172.30.12.0/24",
    /** With a portal: the balancer ↔ the portal nodes; `internal: true`. */
    portalSubnet: "172.30.13.0/24",
    /** With a portal: the portal nodes ↔ Redis and the database; `internal: true`. */
    portalDataSubnet: "172.30.14.0/24",
    /** With the Identity Service's token endpoint published: the DMZ proxy ↔ the Identity Service; `internal: true`. */
    identityEdgeSubnet: "172.30.15.0/24",
  },
  creatio: {
    tenantId: 1,
    /** Port Kestrel listens on inside the node (the official image's `EXPOSE 5000`). */
    httpPort: 5000,
    appDir: "/app",
    weight: 1,
    /**
     * DataProtection.ApplicationName of every node: payloads protected under one name are readable only under the
     * same name, so all nodes of a set carry this one.
     */
    dataProtectionApplicationName: "Creatio",
    /** A Creatio .NET application server: 8 GB, Creatio's sizing for an application node. */
    memoryMb: 8192,
  },
  balancer: {
    httpPort: 80,
    bindAddress: "0.0.0.0",
    /**
     * Connections each public listener accepts (HTTP, HTTPS); HAProxy's process limit is their sum plus what the
     * stats listener keeps, so a full listener never locks out the stats page.
     */
    maxConnections: 4096,
    /**
     * What one client may hold. Generous for a person (a browser opens about six connections and one WebSocket)
     * and for a small office behind one NAT address; list bigger NATs in `exemptSources`.
     */
    limits: {
      connectionsPerSource: 200,
      requestsPer10sPerSource: 2000,
      websocketsPerSource: 50,
      /** Creatio's own upload limit (MaxFileSize) is 10 MB by default; package and import files run bigger. */
      requestBodyMb: 100,
      /** Requests on one node at a time; the rest queue in HAProxy (timeout queue 30 s). */
      requestsPerNode: 100,
      tlsHandshakeSeconds: 5,
      exemptSources: [] as readonly string[],
    },
    tls: {
      port: 443,
      redirectHttp: true,
      /** Two years, Mozilla's recommendation. */
      hstsMaxAgeSeconds: 63072000,
    },
    timeouts: {
      clientSeconds: 60,
      /** What an ordinary request may take: also how long a hung node can hold one. */
      serverSeconds: 60,
      /** Compilation and package installation run inside one request for minutes. */
      longOperationSeconds: 900,
      /**
       * The Creatio services whose requests run for minutes, as Creatio's CLI (clio) calls them: configuration
       * builds (WorkspaceExplorerService: Build, Rebuild, BuildConfiguration, source generation) and package
       * installation (AppInstallerService, PackageInstallerService). .NET serves them without the /0 prefix.
       */
      longOperationPaths: [
        "/0/ServiceModel/AppInstallerService.svc/",
        "/0/ServiceModel/PackageInstallerService.svc/",
        "/0/ServiceModel/WorkspaceExplorerService.svc/",
        "/ServiceModel/AppInstallerService.svc/",
        "/ServiceModel/PackageInstallerService.svc/",
        "/ServiceModel/WorkspaceExplorerService.svc/",
      ] as readonly string[],
      websocketIdleSeconds: 3600,
    },
    /** Container memory when not set: 256 MB plus about 64 KB per connection (two 16 KB buffers on each side). */
    memoryMb: (processMaxConnections: number) => 256 + Math.ceil(processMaxConnections / 16),
    healthCheck: {
      /**
       * The anonymous .NET health route (Creatio's CLI checks .NET builds here): 200 while the database and the
       * configuration assembly answer. .NET has no `/0` prefix, so the Framework-era `/0/ping` is not used.
       */
      path: "/api/HealthCheck/Ping",
      host: "localhost",
      intervalMs: 2000,
      fall: 3,
      rise: 2,
      /**
       * Read timeout of one check, so a node that accepts TCP but never answers is marked down: with the
       * interval and fall above, a frozen node is DOWN within 2 + 3 × 2 + 2 × 1 = 10 s.
       */
      timeoutMs: 2000,
    },
    stats: {
      port: 9000,
      uri: "/haproxy_stats",
      user: "admin",
      /** Host address the stats port is published on: loopback, not the public interface. */
      bindAddress: "127.0.0.1",
      metricsPath: "/metrics",
      /** Wrong passwords per minute from one address before it is refused without a (bcrypt) check. */
      failedLoginsPerMinute: 10,
      /** Drain, maintenance and weight changes from the page: off; the runtime API does them. */
      admin: false,
    },
  },
  redis: {
    db: 0,
    maxMemoryMb: 1024,
    /** Container memory when not set: room for the data twice (an AOF rewrite forks) plus the server itself. */
    memoryMb: (maxMemoryMb: number) => 2 * maxMemoryMb + 256,
    tls: {
      enabled: false,
      certificateDays: 365,
      /** A replacement is planned this long before the server certificate expires. */
      renewBeforeDays: 30,
      /** The farm's Redis CA signs only the server certificate; replacing it replaces every node too. */
      caDays: 3650,
    },
  },
  portal: {
    /** The portal nodes' own login role: data rights only. */
    databaseUser: "creatio_portal",
    /** The only sign-in provider of portal nodes: portal users' passwords. */
    authProviders: ["SSPUserPassword"] as readonly string[],
    /** Container ports of the balancer's DMZ-facing listeners (portal nodes; integration endpoints → internal nodes). */
    balancerPortalPort: 8081,
    balancerIntegrationPort: 8082,
  },
  dmzProxy: {
    httpPort: 80,
    httpsPort: 443,
    bindAddress: "0.0.0.0",
    /** Per client address; a browser loading a portal page sends a few dozen requests at once. */
    limits: { requestsPerSecond: 20, burst: 40, connectionsPerSource: 50, bodyMb: 20, loginsPerMinute: 10 },
    hstsMaxAgeSeconds: 63072000,
    websocketIdleSeconds: 3600,
    memoryMb: 256,
  },
  identityService: {
    /** Logging:LogLevel:Default. Debug logs every request (with client ids): only while testing. */
    logLevel: "Warning",
    /** Its own login role, with a schema of the same name for its tables. */
    databaseUser: "creatio_identity",
    publishTokenEndpoint: false,
    /** Validity of the signing certificate the farm generates on the Docker host. */
    certificateDays: 1095,
    /** ClientName of the client the farm generates for Creatio; its id and secret are generated. */
    clientName: "creatio-farm",
    memoryMb: 512,
  },
  creatioSettings: {
    /** How long the settings job waits for a node to serve: a first start (configuration build) takes minutes. */
    waitSeconds: 900,
  },
  database: {
    engine: "postgres",
    name: "creatio",
    user: "creatio",
    maxConnections: 500,
    /** Npgsql pool limit of each of a node's two connection strings. */
    nodePoolSize: 50,
    /** Container memory when not set: 1 GB plus 10 MB per connection (work memory), shared_buffers included. */
    memoryMb: (maxConnections: number) => 1024 + 10 * maxConnections,
  },
} as const;

/** Container-side facts that are not configurable: they are how the images behave. */
export const CONTAINER = {
  /** HAProxy's official image runs as a non-root user, so it binds high ports inside the container. */
  haproxyHttpPort: 8080,
  haproxyHttpsPort: 8443,
  haproxyStatsPort: 9000,
  /** Where the balancer's certificate directory is mounted, read-only. */
  haproxyCertDir: "/usr/local/etc/haproxy/certs",
  /** The DMZ proxy listens above 1024 inside its container (no NET_BIND_SERVICE); the host ports are published. */
  nginxHttpPort: 8080,
  nginxHttpsPort: 8443,
  nginxCertDir: "/etc/nginx/certs",
  /** The official image's HAProxy home, writable by its user. */
  haproxyRuntimeSocket: "/var/lib/haproxy/admin.sock",
  redisPort: 6379,
  postgresPort: 5432,
  farmDir: "/opt/creatio-farm",
} as const;

/**
 * `given` with every missing key taken from `defaults`. A key given as `undefined` counts as missing (a spread
 * would let it overwrite the default).
 */
export function withDefaults<T extends object>(defaults: T, given: { readonly [K in keyof T]?: T[K] } | undefined): T {
  const out = { ...defaults };
  for (const key of Object.keys(given ?? {}) as (keyof T)[]) {
    const value = given![key];
    if (value !== undefined) out[key] = value as T[keyof T];
  }
  return out;
}
