/**
 * npm run release -- <finding id> [options]
 *
 * For a false positive: undoes an incident's containment from its record (see
 * lambdas/release/release.ts), and prints what was undone, kept and left as evidence.
 *   (default)              simulation: the one the last `npm run replay` saved (--state PATH)
 *   --deployed STACK       invokes the deployed stack's release function (--region)
 *   --kubeconfig PATH --table NAME [--context C] [--endpoint-url URL] [--region R]
 *                          local: undoes a local replay's rehearsal from this machine
 *   --dry-run              shows what would be undone; changes nothing (the dry run is recorded)
 *   --countersign          prints your countersignature of this release for the person who releases
 *   --countersigned-by T   a second person's countersignature: needed to give IAM back (secondPerson)
 *   --as NAME              the simulation: the simulated person you are (operator by default)
 * The request is signed as you (a presigned STS GetCallerIdentity bound to it): the function records who
 * STS says you are.
 * Exit code 0 when everything was undone (or would be), 1 when a step failed, 2 for bad input.
 */
import { releaseHandler } from '../lambdas/handlers/release.js';
import {
  describeRelease,
  ReleaseError,
  type ReleaseReport,
  releaseIncident,
} from '../lambdas/release/release.js';
import type { Out } from './cli.js';
import { type Closing, runClosing } from './closing.js';

export const RELEASE: Closing<ReleaseReport> = {
  command: 'release',
  functionOutput: 'ReleaseFunctionName',
  run: releaseIncident,
  handler: releaseHandler,
  describe: describeRelease,
  refusal: ReleaseError,
  refusalExitCode: 2,
};

export const release = (argv: readonly string[], out: Out, err: Out): Promise<number> =>
  runClosing(RELEASE, argv, out, err);
