/** A GET load through the balancer: `concurrency` loops, each request on a fresh connection, until stopped. */
import { get } from "./http";

export interface LoadResult {
  readonly total: number;
  /** One line per failed request: status and body, or the client error. */
  readonly failures: readonly string[];
  /** Slowest request, in ms. */
  readonly maxMs: number;
}

export function startLoad(port: number, path: string, concurrency = 4): { stop(): Promise<LoadResult> } {
  let running = true;
  let total = 0;
  let maxMs = 0;
  const failures: string[] = [];
  const loop = async () => {
    while (running) {
      const started = Date.now();
      try {
        const res = await get(port, path);
        if (res.status !== 200) failures.push(`${res.status} ${res.body.slice(0, 200)}`);
      } catch (e) {
        failures.push(`client error: ${(e as Error).message}`);
      }
      total++;
      maxMs = Math.max(maxMs, Date.now() - started);
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return { total, failures, maxMs };
    },
  };
}
