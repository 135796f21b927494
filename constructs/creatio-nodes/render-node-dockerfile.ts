/** The Dockerfile of a node set's image: the user's Creatio image plus the farm's build step. Pure: model in, text out. */
import { imagePinProblem } from "../lib/image-ref";
import { template } from "../lib/template";

export interface NodeDockerfileModel {
  /** Node set name, for the header. */
  readonly component: string;
  /** The user's Creatio image, pinned. */
  readonly baseImage: string;
  /** Application root inside the image. */
  readonly appDir: string;
  /** Where the farm's scripts live inside the image; the build context holds them under the same path. */
  readonly farmDir: string;
  readonly tenantId: number;
  /** The DataProtection key directory every node mounts the shared key volume on. */
  readonly keysDir: string;
  /** Comma-separated sign-in providers the patch step keeps. @default - the image's */
  readonly authProviders?: string;
}

/** Characters a path may hold where it is written unquoted into a Dockerfile. */
const PATH = /^\/[A-Za-z0-9._\/-]*$/;

const render = template(__dirname, "node-image.Dockerfile.hbs");

export function renderNodeDockerfile(model: NodeDockerfileModel): string {
  const pin = imagePinProblem(model.baseImage);
  if (pin) throw new Error(`base image "${model.baseImage}": ${pin}`);
  for (const [key, value] of [["appDir", model.appDir], ["farmDir", model.farmDir], ["keysDir", model.keysDir]] as const) {
    if (!PATH.test(value) || value.split("/").includes("..")) throw new Error(`${key} must be an absolute path of [A-Za-z0-9._/-], got "${value}"`);
  }
  if (!Number.isInteger(model.tenantId) || model.tenantId < 1) throw new Error(`tenantId must be a positive integer, got ${model.tenantId}`);
  if (model.authProviders !== undefined && !/^[A-Za-z][A-Za-z0-9]*(,[A-Za-z][A-Za-z0-9]*)*$/.test(model.authProviders)) {
    throw new Error(`authProviders must be provider names separated by commas, got "${model.authProviders}"`);
  }
  return render({ ...model, farmDirInContext: model.farmDir.slice(1) });
}
