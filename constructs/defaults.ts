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
  },
  balancer: {
    httpPort: 80,
    bindAddress: "0.0.0.0",
    /** Connections the balancer accepts in total; the container's file-descriptor limit is derived from it. */
    maxConnections: 4096,
    tls: {
      port: 443,
      redirectHttp: true,
      /** Two years, Mozilla's recommendation. */
      hstsMaxAgeSeconds: 63072000,
    },
    timeouts: {
      clientSeconds: 60,
      /** Creatio compiles and imports inside one request; shorter cuts them off. */
      serverSeconds: 600,
      websocketIdleSeconds: 3600,
    },
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
      /** Read timeout of one check, so a node that accepts TCP but never answers is marked down. */
      timeoutMs: 5000,
    },
    stats: {
      port: 9000,
      uri: "/haproxy_stats",
      user: "admin",
      /** Host address the stats port is published on: loopback, not the public interface. */
      bindAddress: "127.0.0.1",
      metricsPath: "/metrics",
    },
  },
  redis: {
    db: 0,
    maxMemoryMb: 1024,
  },
  database: {
    engine: "postgres",
    name: "creatio",
    user: "creatio",
    maxConnections: 500,
    /** Npgsql pool limit of each of a node's two connection strings. */
    nodePoolSize: 50,
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
