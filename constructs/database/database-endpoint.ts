/**
 * Where a database client connects, and how an engine spells that in Creatio's ConnectionStrings.config. The
 * endpoint renders its own connection strings through its engine, so a second engine (SQL Server) is a new
 * `DatabaseEngine`, not edits across the renderers.
 */

/** One `<add name=… connectionString=…/>` of ConnectionStrings.config. */
export interface ConnectionString {
  readonly name: string;
  readonly value: string;
}

export interface DatabaseEndpointProps {
  readonly host: string;
  readonly port: number;
  /** Database name. */
  readonly database: string;
  readonly user: string;
  /** The password, or a secret placeholder resolved at apply time. */
  readonly password: string;
}

/** An engine: the connection strings a Creatio node needs for it, each pool limited to `poolSize`. */
export interface DatabaseEngine {
  readonly name: string;
  /** Connection pools a Creatio node opens: one per distinct connection string. */
  readonly poolsPerNode: number;
  connectionStrings(endpoint: DatabaseEndpointProps, poolSize: number): ConnectionString[];
}

/**
 * PostgreSQL through Npgsql. Shipped PostgreSQL builds carry both `db` and `dbPostgreSql`, and which one the
 * runtime reads is not settled, so both point at the same database (clio writes both too); Npgsql keeps a pool per
 * distinct string.
 */
export const POSTGRES: DatabaseEngine = {
  name: "postgres",
  poolsPerNode: 2,
  connectionStrings(e, poolSize) {
    return [
      {
        name: "db",
        value: `Server=${e.host};Port=${e.port};Database=${e.database};User ID=${e.user};password=${e.password};Timeout=500;CommandTimeout=400;MaxPoolSize=${poolSize};`,
      },
      {
        name: "dbPostgreSql",
        value: `Pooling=true;Database=${e.database};Host=${e.host};Port=${e.port};Username=${e.user};Password=${e.password};Timeout=500;CommandTimeout=400;Maximum Pool Size=${poolSize}`,
      },
    ];
  },
};

/** A database as its clients see it. */
export class DatabaseEndpoint {
  constructor(
    public readonly engine: DatabaseEngine,
    public readonly props: DatabaseEndpointProps,
    /** Pool limit of each connection string. */
    public readonly poolSize: number,
  ) {
    for (const [key, value] of Object.entries({ host: props.host, database: props.database, user: props.user, password: props.password })) {
      // These values sit inside a key=value;… string: a ';' or '=' would silently change its meaning.
      if (/[;=]/.test(value)) throw new Error(`database ${key} must not contain ';' or '=': ${JSON.stringify(value)}`);
    }
  }

  connectionStrings(): ConnectionString[] {
    return this.engine.connectionStrings(this.props, this.poolSize);
  }
}
