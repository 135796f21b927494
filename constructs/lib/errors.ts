import { IConstruct } from "constructs";

/**
 * A contradiction between props that the config schema cannot see, reported with the construct path so the
 * message says where it happened: `[dev/balancer] ...`.
 */
export class FarmValidationError extends Error {
  public readonly constructPath: string;

  constructor(message: string, scope: IConstruct) {
    super(`[${scope.node.path}] ${message}`);
    this.name = "FarmValidationError";
    this.constructPath = scope.node.path;
  }
}
