/**
 * Ordering for generated output. `localeCompare` depends on the machine's locale (ICU collation: "aa" sorts after
 * "b" in Danish), which would make two machines render different files from one config. Code-unit order is the
 * same everywhere.
 */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
