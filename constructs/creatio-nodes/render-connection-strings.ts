/** ConnectionStrings.config of a Creatio .NET 8 node. Pure: model in, text out. */
import { template } from "../lib/template";

export interface DatabaseEndpoint {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
  /** The password, or a secret placeholder resolved at apply time. */
  readonly password: string;
  /** Npgsql pool limit of each connection string (a node holds two pools: db and dbPostgreSql). */
  readonly maxPoolSize: number;
}

export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly db: number;
}

export interface ConnectionStringsModel {
  readonly environment: string;
  readonly database: DatabaseEndpoint;
  readonly redis: RedisEndpoint;
}

const render = template(__dirname, "ConnectionStrings.config.hbs");

/**
 * Shipped PostgreSQL builds carry both `db` and `dbPostgreSql`, and which one the runtime reads is not settled,
 * so both point at the same database (clio writes both too).
 */
export function renderConnectionStrings(model: ConnectionStringsModel): string {
  const d = model.database;
  for (const [key, value] of Object.entries({ host: d.host, name: d.name, user: d.user, password: d.password })) {
    // These values sit inside a key=value;… string: a ';' or '=' would silently change its meaning.
    if (/[;=]/.test(value)) throw new Error(`database ${key} must not contain ';' or '=': ${JSON.stringify(value)}`);
  }
  return render({
    environment: model.environment,
    db:
      `Server=${d.host};Port=${d.port};Database=${d.name};User ID=${d.user};password=${d.password};` +
      `Timeout=500;CommandTimeout=400;MaxPoolSize=${d.maxPoolSize};`,
    dbPostgreSql:
      `Pooling=true;Database=${d.name};Host=${d.host};Port=${d.port};Username=${d.user};Password=${d.password};` +
      `Timeout=500;CommandTimeout=400;Maximum Pool Size=${d.maxPoolSize}`,
    redis: `host=${model.redis.host};db=${model.redis.db};port=${model.redis.port};maxReadPoolSize=10;maxWritePoolSize=500`,
    tempDirectoryPath: "%TEMP%/%USER%/%APPLICATION%",
  });
}
