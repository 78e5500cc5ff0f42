/**
 * npm run approve -- <finding id> --deployed STACK [--action ACTION] [--deny] [--region R]
 *
 * Answers the actions of a finding that wait for a person's approval (`requireApproval`): invokes the
 * deployed stack's Approve function with the caller's identity, which tells the waiting execution and
 * records the answer. An answer after the deadline, or a second one, changes nothing and says so. In the
 * simulation the execution runs inside the replay: answer there with
 * `npm run replay -- <event> --require-approval ACTION --approve` (or `--deny`).
 * Exit code 0 when an action was decided, 1 when the answer changed nothing, 2 for bad input.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { STSClient } from '@aws-sdk/client-sts';
import { ACTION_NAMES } from '../lambdas/actions/registry.js';
import { type ApprovalReport, answerDigest, describeApproval } from '../lambdas/approval/approval.js';
import { callerProof } from '../lambdas/clients/caller.js';
import type { ActionName } from '../lambdas/core/plan.js';
import { exitCodeOf, InputError, type Out, parseCommandLine } from './cli.js';
import { stackOutput } from './replay/deployed.js';

export async function approve(argv: readonly string[], out: Out, err: Out): Promise<number> {
  return exitCodeOf(
    'approve',
    err,
    async () => {
      const { values, positionals } = parseCommandLine(
        argv,
        {
          deployed: { type: 'string' },
          action: { type: 'string' },
          deny: { type: 'boolean', default: false },
          region: { type: 'string' },
        },
        { name: 'approve', positional: '<finding id>' },
      );
      if (positionals.length !== 1 || !positionals[0])
        throw new InputError('give exactly one finding id: npm run approve -- <finding id> --deployed STACK');
      if (!values.deployed)
        throw new InputError(
          'an answer goes to a running execution: give --deployed STACK (in the simulation, answer with npm run replay -- <event> --require-approval ACTION --approve or --deny)',
        );
      if (values.action && !ACTION_NAMES.includes(values.action))
        throw new InputError(`--action must be one of ${ACTION_NAMES.join(', ')}`);
      const region = values.region;
      const functionName = await stackOutput(
        values.deployed,
        'ApproveFunctionName',
        new CloudFormationClient({ region }),
      );
      // Signed as the caller: the function records who STS says signed this very answer.
      const asked = {
        findingId: positionals[0],
        action: values.action as ActionName | undefined,
        approve: !values.deny,
      };
      const sts = { region: region ?? process.env.AWS_REGION ?? 'us-east-1' };
      const caller = await callerProof({
        digest: answerDigest(asked),
        at: sts,
        credentials: new STSClient({ region: sts.region }).config.credentials,
      });
      const answer = await new LambdaClient({ region }).send(
        new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify({ ...asked, caller }) }),
      );
      const payload = JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8') || 'null');
      if (answer.FunctionError) {
        const message = `${payload?.errorType ?? answer.FunctionError}: ${payload?.errorMessage ?? ''}`;
        if (payload?.errorType === 'ApprovalError' || payload?.errorType === 'CallerRefused')
          throw new InputError(message);
        throw new Error(message);
      }
      const report = payload as ApprovalReport;
      out(`Deployed: ${functionName}`);
      for (const line of describeApproval(report)) out(line);
      return report.answers.some((a) => a.decided) ? 0 : 1;
    },
    out,
  );
}
