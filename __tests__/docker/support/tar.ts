/** Tar archives in memory, for build contexts and for files copied into containers. */
import { Readable } from "stream";
import * as tar from "tar-stream";

export interface TarEntry {
  /** Path inside the archive; a leading "/" is kept (Docker extracts it relative to the target directory). */
  readonly name: string;
  readonly content: string | Buffer;
  /** @default 0o644 */
  readonly mode?: number;
  /** @default new Date(0): build contexts hash the same whatever the checkout's timestamps */
  readonly mtime?: Date;
}

export function pack(entries: readonly TarEntry[]): Readable {
  const archive = tar.pack();
  for (const e of entries) {
    archive.entry({ name: e.name, mode: e.mode ?? 0o644, mtime: e.mtime ?? new Date(0), uid: 0, gid: 0 }, e.content);
  }
  archive.finalize();
  return archive as unknown as Readable;
}
