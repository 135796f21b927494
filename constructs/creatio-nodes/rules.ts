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

/** Every segment starts with a letter, digit or '_': no '.', '..' or hidden names; never '/' itself. */
const APP_DIR = /^(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/;

/** Why `appDir` cannot be the application root inside the image, or undefined when it can. */
/** `appDirProblem` for the published JSON Schema (editors). */
export const APP_DIR_JSON_SCHEMA = { pattern: APP_DIR.source, maxLength: 200 };

export function appDirProblem(appDir: string): string | undefined {
  if (appDir.length > 200 || !APP_DIR.test(appDir)) {
    return "expected an absolute directory path below / such as /app (letters, digits, '.', '_', '-'; no '.' or '..' segments; at most 200 characters)";
  }
  return undefined;
}

/** A sign-in provider's name as `<auth><providers><provider name=…>` spells it. */
const PROVIDER_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** Why a list of sign-in providers cannot be written into `<auth providerNames>`, or undefined. */
export function authProvidersProblem(providers: readonly string[]): string | undefined {
  if (providers.length === 0) return "expected at least one provider: a node without one signs nobody in";
  const bad = providers.find((p) => !PROVIDER_NAME.test(p));
  if (bad !== undefined) return `expected provider names of letters and digits, got "${bad}"`;
  const twice = providers.find((p, i) => providers.indexOf(p) !== i);
  if (twice !== undefined) return `"${twice}" is listed twice`;
  return undefined;
}
