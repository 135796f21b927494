/** Rules of a node set: the config schema reports them at the file's line, `CreatioNodeSet` at its construct path. */

/** Each node whose name an earlier node already has, with the message. `at(i)` names node i the way the caller does. */
export function duplicateNodeNames(names: readonly unknown[], at: (index: number) => string): Array<{ index: number; message: string }> {
  const seen = new Map<unknown, number>();
  return names.flatMap((name, index) => {
    if (typeof name !== "string") return [];
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, index);
      return [];
    }
    return [{ index, message: `duplicate node name "${name}" (already used by ${at(first)})` }];
  });
}
