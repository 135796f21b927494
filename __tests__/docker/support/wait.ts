import { sleep } from "../../live/support/processes";

/** Polls `condition` every 100 ms; returns the milliseconds it took, or throws after `timeoutMs`. */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what = "condition"): Promise<number> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(100);
  }
  return Date.now() - started;
}
