/**
 * ConnectionStrings.config of a Creatio .NET 8 node. Pure: model in, text out. The database and Redis endpoints
 * render their own strings (the database's through its engine); this file only writes them down, in order.
 */
import { ConnectionString } from "../database/database-endpoint";
import { template } from "../lib/template";

export interface ConnectionStringsModel {
  /** The database's strings (`db`, `dbPostgreSql` for PostgreSQL), as its endpoint renders them. */
  readonly database: readonly ConnectionString[];
  /** The `redis` string, as the Redis endpoint renders it. */
  readonly redis: string;
}

/** Where Creatio keeps temporary files; the value is Creatio's own default, placeholders expanded by Creatio. */
const TEMP_DIRECTORY_PATH = "%TEMP%/%USER%/%APPLICATION%";

const render = template(__dirname, "ConnectionStrings.config.hbs");

export function renderConnectionStrings(model: ConnectionStringsModel): string {
  const entries = [...model.database, { name: "redis", value: model.redis }, { name: "tempDirectoryPath", value: TEMP_DIRECTORY_PATH }];
  const names = entries.map((e) => e.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`connection string "${twice}" is defined twice`);
  return render({ entries });
}
