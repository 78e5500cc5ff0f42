/**
 * Replay against the deployed stack: StartExecution of its state machine with the event (not PutEvents:
 * events with an `aws.` source cannot be put, and a custom source would let anyone who can put events
 * trigger containment), then follow the execution and build the timeline from its history.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { ExecutionEvent } from '../../simulation/runner.js';

export type DeployedClients = { sfn: SFNClient; cloudFormation: CloudFormationClient };

export const deployedClients = (region?: string): DeployedClients => ({
  sfn: new SFNClient({ region }),
  cloudFormation: new CloudFormationClient({ region }),
});

/** One output of the deployed stack (StateMachineArn, ReleaseFunctionName, …). */
export async function stackOutput(
  stackName: string,
  key: string,
  cloudFormation: CloudFormationClient,
): Promise<string> {
  const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const value = Stacks?.[0]?.Outputs?.find((output) => output.OutputKey === key)?.OutputValue;
  if (!value) throw new Error(`stack ${stackName} has no ${key} output`);
  return value;
}

/** The state machine ARN: given as such, or the StateMachineArn output of the named stack. */
export async function stateMachineArn(target: string, clients: DeployedClients): Promise<string> {
  return target.startsWith('arn:') ? target : stackOutput(target, 'StateMachineArn', clients.cloudFormation);
}

const STATE_EVENTS: Record<string, string> = {
  TaskStateEntered: 'StateEntered',
  TaskStateExited: 'StateExited',
  MapStateEntered: 'StateEntered',
  MapStateExited: 'StateExited',
};

/** Step Functions history events as the runner's execution events, for the same timeline. */
export function historyToEvents(history: HistoryEvent[]): ExecutionEvent[] {
  const start = history[0]?.timestamp?.getTime() ?? 0;
  return history.flatMap((event): ExecutionEvent[] => {
    const at = (event.timestamp?.getTime() ?? start) - start;
    const type = event.type ?? '';
    if (STATE_EVENTS[type]) {
      const details = event.stateEnteredEventDetails ?? event.stateExitedEventDetails;
      const output = event.stateExitedEventDetails?.output;
      return [
        {
          type: STATE_EVENTS[type],
          at,
          state: details?.name,
          output: output ? JSON.parse(output) : undefined,
        },
      ];
    }
    if (type === 'ExecutionSucceeded') return [{ type: 'ExecutionSucceeded', at }];
    if (type === 'ExecutionFailed')
      return [
        {
          type: 'ExecutionFailed',
          at,
          error: event.executionFailedEventDetails?.error,
          cause: event.executionFailedEventDetails?.cause,
        },
      ];
    if (type === 'ExecutionTimedOut' || type === 'ExecutionAborted')
      return [{ type: 'ExecutionFailed', at, error: type }];
    return [];
  });
}

export async function runDeployed(
  arn: string,
  input: unknown,
  clients: DeployedClients,
  options: { name: string; pollMs?: number; timeoutMs?: number },
): Promise<{ status: string; events: ExecutionEvent[]; executionArn: string }> {
  const started = await clients.sfn.send(
    new StartExecutionCommand({ stateMachineArn: arn, name: options.name, input: JSON.stringify(input) }),
  );
  const executionArn = started.executionArn ?? '';
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  let status = 'RUNNING';
  while (status === 'RUNNING') {
    if (Date.now() > deadline) throw new Error(`execution ${executionArn} still running after the timeout`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2000));
    status = (await clients.sfn.send(new DescribeExecutionCommand({ executionArn }))).status ?? 'UNKNOWN';
  }
  const history: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, includeExecutionData: true }),
    );
    history.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return { status, events: historyToEvents(history), executionArn };
}
