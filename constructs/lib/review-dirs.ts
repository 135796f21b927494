import * as fs from "fs";
import * as path from "path";
import { ISynthesisSession } from "cdktf";

// Folders this synth has made, per session. Every container writes its review copies into a folder of its own; on
// large farms those mkdir calls were the largest part of each node's synth time, and a recursive mkdir costs one
// failed call more per folder than creating the missing ones top-down.
const made = new WeakMap<ISynthesisSession, Set<string>>();

/** Makes `dir` (and what is missing above it) for this synth: one mkdir per folder, top-down. */
export function ensureReviewDir(session: ISynthesisSession, dir: string): void {
  let known = made.get(session);
  if (!known) made.set(session, (known = new Set()));
  const missing: string[] = [];
  for (let d = dir; !known.has(d) && d !== path.dirname(d); d = path.dirname(d)) missing.push(d);
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    known.add(d);
  }
}
