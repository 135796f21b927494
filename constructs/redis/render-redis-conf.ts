/** redis.conf for the farm's Redis. Pure: model in, text out. */
import { template } from "../lib/template";

export interface RedisConfModel {
  readonly port: number;
  /** Where the append-only file lives; Redis checks it exists when it reads the file. */
  readonly dataDir: string;
  /** Memory for data; past it Redis refuses writes (noeviction) instead of growing until the host runs out. */
  readonly maxMemoryMb: number;
}

const render = template(__dirname, "redis.conf.hbs");

export function renderRedisConf(model: RedisConfModel): string {
  return render(model);
}
