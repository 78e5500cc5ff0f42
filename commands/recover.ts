/**
 * npm run recover -- <finding id> [options]
 *
 * For a confirmed incident, once the evidence is complete: replaces the quarantined pods and the
 * compromised hosts and leaves revoked IAM revoked (see lambdas/recover/recover.ts).
 *   (default)              simulation: the one the last `npm run replay` saved (--state PATH)
 *   --deployed STACK       invokes the deployed stack's recover function (--region)
 *   --kubeconfig PATH --table NAME [--context C] [--endpoint-url URL] [--region R]
 *                          local: recovers a local replay's rehearsal from this machine
 *   --dry-run              shows the steps; changes nothing (the dry run is recorded)
 *   --wait                 local: watches the deleted pods until their kubelets confirm (or they are held)
 *   --as NAME              the simulation: the simulated person you are (operator by default)
 * The request is signed as you (a presigned STS GetCallerIdentity bound to it): the function records who
 * STS says you are.
 * Exit code 0 when the incident is recovered (or would be), 1 when a step failed or the recovery was
 * refused (a snapshot still pending: nothing changed), 2 for bad input.
 */
import { recoverHandler } from '../lambdas/handlers/recover.js';
import {
  describeRecovery,
  RecoverError,
  type RecoverReport,
  recoverIncident,
} from '../lambdas/recover/recover.js';
import { checkPods, describeWatch } from '../lambdas/recover/watch.js';
import type { Out } from './cli.js';
import { type Closing, runClosing } from './closing.js';

/** How often `--wait` checks the deleted pods. */
const WAIT_PAUSE_MS = 2_000;

export const RECOVER: Closing<RecoverReport> = {
  command: 'recover',
  functionOutput: 'RecoverFunctionName',
  run: recoverIncident,
  handler: recoverHandler,
  describe: describeRecovery,
  refusal: RecoverError,
  refusalExitCode: 1,
  // What the RecoveryWatch state machine does deployed, from this machine.
  waitFor: async (report, kubernetes, out) => {
    if (!report.watch) return;
    for (;;) {
      const result = await checkPods(report.watch, kubernetes, new Date());
      if (result.done) {
        for (const line of describeWatch(result)) out(line);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, WAIT_PAUSE_MS));
    }
  },
};

export const recover = (argv: readonly string[], out: Out, err: Out): Promise<number> =>
  runClosing(RECOVER, argv, out, err);
