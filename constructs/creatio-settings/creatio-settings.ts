import * as path from "path";
import { Construct } from "constructs";
import { Image } from "@cdktf/provider-docker/lib/image";
import { CONTAINER, DEFAULTS } from "../defaults";
import { FarmValidationError } from "../lib/errors";
import { FarmContainer, IWorkload } from "../lib/farm-container";
import { SecretName, secretPlaceholder } from "../lib/secret-text";
import { asset } from "../lib/template";
import { FarmNetwork } from "../networks/farm-network";
import { FarmSecrets } from "../secrets/farm-secrets";
import { renderSettingsRequests, settingCodeProblem, settingValueProblem, SettingValue } from "./render-settings";

const ASSETS = path.join(__dirname, "assets");
const FILES = {
  script: `${CONTAINER.farmDir}/apply-settings.sh`,
  user: `${CONTAINER.farmDir}/admin-user`,
  password: `${CONTAINER.farmDir}/admin-password`,
  post: `${CONTAINER.farmDir}/settings.json`,
  query: `${CONTAINER.farmDir}/query.json`,
  codes: `${CONTAINER.farmDir}/setting-codes`,
};

/** The nodes the job calls: any of them will do, the first that answers its health check. */
export interface SettingsTarget {
  /** An image with bash (Creatio's node image has it). */
  readonly image: Image;
  /** `address:port` of each node on `network`. */
  readonly endpoints: readonly string[];
  /** Path each node answers 200 on once it serves. */
  readonly healthPath: string;
  /** The containers the job waits for (it starts after they are created). */
  readonly workloads: readonly IWorkload[];
}

export interface CreatioSettingsProps {
  /** Environment name: prefixes the job's container name. */
  readonly environment: string;
  /** Where the job runs and whom it calls. */
  readonly target: SettingsTarget;
  /** A network the nodes are on; the job joins it at `addressOffset`. */
  readonly network: FarmNetwork;
  readonly addressOffset: number;
  /** Holds the administrator's credential (`enableCreatioAdmin()` first). */
  readonly secrets: FarmSecrets;
  /** How long the job waits for a node to serve. @default 900 */
  readonly waitSeconds?: number;
}

/**
 * Creatio system settings set through Creatio's own API (`DataService/json/SyncReply/PostSysSettingsValues`, as its
 * UI and its CLI do: SecureText values are encrypted by the platform), by a one-shot job, `<env>-creatio-settings`,
 * that signs in as an administrator (Terraform variables `creatio_admin_user`, `creatio_admin_password`), checks
 * that every code exists (an unknown one fails the job by name, before anything is set) and sets them all in one
 * request. It runs again when a value or the credential changes; setting the same values again changes nothing.
 *
 * @example
 * const settings = new CreatioSettings(stack, "creatio-settings", { environment: "prod", target, network: data, addressOffset: 5, secrets });
 * settings.set("SiteUrl", "https://crm.example.com");
 * settings.setSecret("OAuth20IdentityServerClientSecret", "identity-client-secret");
 */
export class CreatioSettings extends Construct {
  public readonly job: IWorkload;
  private readonly values = new Map<string, SettingValue>();

  constructor(scope: Construct, id: string, props: CreatioSettingsProps) {
    super(scope, id);
    const bad = props.target.endpoints.find((e) => !/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(e));
    if (props.target.endpoints.length === 0 || bad !== undefined) {
      throw new FarmValidationError(`target endpoints must be <IPv4>:<port>, at least one; got ${JSON.stringify(props.target.endpoints)}`, this);
    }
    const job = new FarmContainer(this, "job", {
      name: `${props.environment}-creatio-settings`,
      image: props.target.image,
      role: "app",
      kind: { type: "job" },
      secrets: props.secrets,
      entrypoint: ["/bin/bash", FILES.script],
      // Root reads the job's 0600 files whatever user the image runs as; it keeps no capability.
      user: "0:0",
      env: [
        `CREATIO_NODES=${props.target.endpoints.join(" ")}`,
        `CREATIO_WAIT_SECONDS=${props.waitSeconds ?? DEFAULTS.creatioSettings.waitSeconds}`,
        `CREATIO_HEALTH_PATH=${props.target.healthPath}`,
      ],
      memoryMb: 64,
    });
    job.attach(props.network, props.addressOffset);
    for (const w of props.target.workloads) job.startsAfter(w);
    this.job = job;
    job.addFile({ path: FILES.script, format: "sh", mode: 0o555, generated: false, render: () => asset(ASSETS, "apply-settings.sh") });
    job.addFile({ path: FILES.user, format: "secret", mode: 0o600, render: () => secretPlaceholder("creatio-admin-user") });
    job.addFile({ path: FILES.password, format: "secret", mode: 0o600, render: () => secretPlaceholder("creatio-admin-password") });
    const requests = () => renderSettingsRequests(Object.fromEntries(this.values));
    // The values may hold secrets (the OAuth client's): 0600.
    job.addFile({ path: FILES.post, format: "json", mode: 0o600, render: () => requests().post });
    job.addFile({ path: FILES.query, format: "json", render: () => requests().query });
    job.addFile({ path: FILES.codes, format: "text", generated: false, render: () => requests().codes });
  }

  /** Sets a system setting to a value from the environment; each code once, before synth. */
  public set(code: string, value: SettingValue): void {
    const problem = settingValueProblem(value);
    if (problem) throw new FarmValidationError(`system setting ${code}: ${problem}`, this);
    this.put(code, value);
  }

  /** Sets a system setting to a generated secret (a SecureText setting, which Creatio encrypts). */
  public setSecret(code: string, secret: SecretName): void {
    this.put(code, secretPlaceholder(secret));
  }

  private put(code: string, value: SettingValue): void {
    if (this.job.isRendered) throw new FarmValidationError(`system setting ${code} is set after the settings job was rendered (synth)`, this);
    const problem = settingCodeProblem(code);
    if (problem) throw new FarmValidationError(`system setting: ${problem}`, this);
    if (this.values.has(code)) throw new FarmValidationError(`system setting ${code} is set twice`, this);
    this.values.set(code, value);
  }
}
