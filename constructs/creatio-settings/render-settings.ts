/**
 * The requests the settings job sends to Creatio's DataService, rendered as data: PostSysSettingsValues (the values,
 * JSON-escaped here, so no value is ever interpreted by the job's shell) and QuerySysSettings (the codes, checked
 * before anything is set). Pure: model in, text out.
 */
import { byCodeUnit } from "../lib/order";

/** A system setting's code as Creatio names them (`SiteUrl`, `OAuth20IdentityServerUrl`). */
export const SETTING_CODE = /^[A-Za-z][A-Za-z0-9_]{0,249}$/;

/** A value as PostSysSettingsValues takes it: text (Text, SecureText, lookups by id), a number or a boolean. */
export type SettingValue = string | number | boolean;

export const SETTING_CODE_EXPECTED = "expected a system setting code (a letter, then letters, digits or '_'; at most 250)";

/** Why `code` cannot be a system setting code, or undefined. */
export function settingCodeProblem(code: string): string | undefined {
  return SETTING_CODE.test(code) ? undefined : `${SETTING_CODE_EXPECTED}, got ${JSON.stringify(code)}`;
}

/** Why `value` cannot be sent as a system setting's value (its type), or undefined. */
function settingTypeProblem(value: unknown): string | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? undefined : `expected a finite number, got ${value}`;
  if (typeof value === "boolean" || typeof value === "string") return undefined;
  return `expected text, a number or true/false, got ${JSON.stringify(value)}`;
}

/** Marks where a generated secret goes in a rendered file (`secret-text.ts`): never allowed in a value from the environment file. */
const SECRET_MARK = "@@secret:";

/**
 * Why `value` cannot be a system setting from the environment file, or undefined. Text holding the farm's secret
 * mark is refused: at apply time it would become the generated secret it names (the database's password, say) and
 * land in a setting any Creatio user may read.
 */
export function settingValueProblem(value: unknown): string | undefined {
  const type = settingTypeProblem(value);
  if (type || typeof value !== "string") return type;
  return value.includes(SECRET_MARK) ? `expected text without "${SECRET_MARK}", which marks where the farm puts a generated secret` : undefined;
}

export interface SettingsRequests {
  /** Body of DataService/json/SyncReply/PostSysSettingsValues. */
  readonly post: string;
  /** Body of DataService/json/SyncReply/QuerySysSettings. */
  readonly query: string;
  /** The codes, one per line: the job checks each against the answer to `query`. */
  readonly codes: string;
}

export function renderSettingsRequests(values: Readonly<Record<string, SettingValue>>): SettingsRequests {
  const codes = Object.keys(values).sort(byCodeUnit);
  if (codes.length === 0) throw new Error("no system setting to set");
  for (const code of codes) {
    const problem = settingCodeProblem(code);
    if (problem) throw new Error(problem);
    // The secret mark is allowed here: the construct places it for generated secrets (setSecret) and refuses it in values.
    const type = settingTypeProblem(values[code]);
    if (type) throw new Error(`${code}: ${type}`);
  }
  const sorted = Object.fromEntries(codes.map((c) => [c, values[c]]));
  return {
    post: `${JSON.stringify({ isPersonal: false, sysSettingsValues: sorted })}\n`,
    query: `${JSON.stringify({ sysSettingsNameCollection: codes })}\n`,
    codes: `${codes.join("\n")}\n`,
  };
}
