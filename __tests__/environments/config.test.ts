/**
 * Your environments (config/*.yaml), whatever files exist: each one synthesizes, one snapshot per stack and one per
 * rendered file (a pull request shows the rendered diff in __snapshots__/config.test.ts.snap), and every provisioned
 * file passes the real program that reads it. After an intended change, `npm run update` refreshes cdktf.out/ and
 * these snapshots together.
 */
import * as path from "path";
import { describeEnvironments } from "../support/environment-checks";
import { REPO } from "../support/farm";

describeEnvironments(path.join(REPO, "config"));
