/**
 * Runs the response state machine on this machine: the definition synthesized from lib/ exactly as
 * `cdk synth` makes it (bundling skipped), executed by aws-local-stepfunctions, every Lambda task bound
 * to the real handler built over the given clients. Used by the replay, the benchmark and the tests.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { SNSClient } from '@aws-sdk/client-sns';
import { App } from 'aws-cdk-lib';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { actionHandler } from '../lambdas/actions/lambda.js';
import { ACTION_NAMES, REGISTRY } from '../lambdas/actions/registry.js';
import type { TokenVault } from '../lambdas/approval/tokens.js';
import type { Reach } from '../lambdas/clients/reach.js';
import type { ResponderLocation } from '../lambdas/core/plan.js';
import type { ResponderSettings } from '../lambdas/core/settings.js';
import type { HostCapturePlace } from '../lambdas/evidence/hosts.js';
import { claimHandler } from '../lambdas/handlers/claim.js';
import { collectCredentialActivityHandler } from '../lambdas/handlers/collect-credential-activity.js';
import { collectHostEvidenceHandler } from '../lambdas/handlers/collect-host-evidence.js';
import { collectPodEvidenceHandler } from '../lambdas/handlers/collect-pod-evidence.js';
import { identifyHandler } from '../lambdas/handlers/identify.js';
import { notifyHandler } from '../lambdas/handlers/notify.js';
import { requestApprovalHandler } from '../lambdas/handlers/request-approval.js';
import type { FindingSource } from '../lambdas/identify/source.js';
import type { IncidentStore } from '../lambdas/incident/store.js';
import type { WorkflowFunction } from '../lambdas/permissions.js';
import { ResponderStack } from '../lib/responder-stack.js';
import { approvalState, taskStateOf } from '../lib/response-workflow.js';
import { cdkJsonContext, type ResponderConfig } from './cdk-json.js';

/** Resolves the intrinsic functions in a synthesized DefinitionString; functions become Lambda ARNs. */
function render(part: unknown, location: ResponderLocation): string {
  if (typeof part === 'string') return part;
  const object = part as Record<string, unknown>;
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => render(p, location)).join(separator);
  }
  if ('Fn::GetAtt' in object) {
    const [logicalId] = object['Fn::GetAtt'] as string[];
    return `arn:aws:lambda:${location.region}:${location.accountId}:function:${logicalId}`;
  }
  if ('Ref' in object) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': location.region,
      'AWS::AccountId': location.accountId,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[String(object.Ref)] ?? String(object.Ref);
  }
  throw new Error(`cannot render ${JSON.stringify(part)}`);
}

/** The state machine definition of the stack this configuration deploys, with cdk.json's feature flags. */
export function synthesizedDefinition(
  config: ResponderConfig,
  location: ResponderLocation,
  /** The construct whose state machine: the response (Workflow), or the RecoveryWatch. */
  construct: 'Workflow' | 'RecoveryWatch' = 'Workflow',
): StateMachineDefinition {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new ResponderStack(app, config.stackName, {
    config,
    env: { account: location.accountId, region: location.region },
  });
  const template = app.synth().getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Type: string; Properties: { DefinitionString?: unknown } }>;
  };
  const machine = Object.entries(template.Resources).find(
    ([id, r]) => r.Type === 'AWS::StepFunctions::StateMachine' && id.startsWith(construct),
  )?.[1];
  if (!machine) throw new Error(`the stack has no ${construct} state machine`);
  return JSON.parse(render(machine.Properties.DefinitionString, location));
}

export type ResponderPorts = {
  settings: ResponderSettings;
  store: IncidentStore;
  location: ResponderLocation;
  /**
   * How each function reaches a finding's account and region (lambdas/clients/reach.ts): in Lambda, as
   * its own role, which Kubernetes maps to its access entry's group.
   */
  reach: (fn: WorkflowFunction) => Reach;
  /** The evidence bucket, and where hosts write the capture's output (HostCapturePlace). */
  evidence: { s3: S3Client; bucket: string } & HostCapturePlace;
  sns: SNSClient;
  topicArn: string;
  /** Security Hub in a finding's region (notify notes the outcome there). */
  securityHub: (region: string) => SecurityHubClient;
  /** The chat topic, with `chatNotifications`. */
  chatTopicArn?: string | null;
  /** Where Identify reads the finding back from; GuardDuty of the finding's account by default. */
  findingSource?: FindingSource;
  /** The approval key: Request-approval keeps task tokens only encrypted under it. */
  tokens: TokenVault;
  /** The deployed stack the notification's commands name; none for a replay on this machine. */
  stackName?: string | null;
};

// biome-ignore lint/suspicious/noExplicitAny: each handler takes its own input; the runner passes state JSON
export type TaskHandler = (input: any) => Promise<unknown>;

/** The real handler of every task state, over these clients. */
export function taskHandlers(ports: ResponderPorts): Record<string, TaskHandler> {
  const { settings, reach, store, evidence } = ports;
  const bucket = { s3: evidence.s3, bucket: evidence.bucket };
  const byFunction: Record<WorkflowFunction, TaskHandler> = {
    claim: claimHandler(settings, store),
    identify: identifyHandler(
      settings,
      ports.location,
      reach('identify'),
      store,
      bucket,
      ports.findingSource,
    ),
    // Every registered action, as its Lambda runs it.
    ...Object.fromEntries(
      REGISTRY.map((action) => [
        action.spec.name,
        actionHandler(action, reach(action.spec.name), settings, store),
      ]),
    ),
    'collect-pod-evidence': collectPodEvidenceHandler(
      reach('collect-pod-evidence'),
      bucket,
      settings.evidence,
      store,
    ),
    'collect-credential-activity': collectCredentialActivityHandler(
      reach('collect-credential-activity'),
      bucket,
      settings.evidence,
      store,
      [ports.location.region, ...settings.regions],
      evidence.sleep,
    ),
    'collect-host-evidence': collectHostEvidenceHandler(
      reach('collect-host-evidence'),
      { ...bucket, home: ports.location },
      settings.evidence,
      store,
      evidence,
    ),
    notify: notifyHandler({
      sns: ports.sns,
      topicArn: ports.topicArn,
      store,
      securityHub: ports.securityHub,
      chatTopicArn: ports.chatTopicArn ?? null,
      // Run here, the report is kept on this machine too: the command that ran it prints where.
      report: ports.stackName
        ? bucket
        : {
            ...bucket,
            shownAs: (id) => `incident-${id}.html, kept on this machine (its path is printed below)`,
          },
      stackName: ports.stackName ?? null,
    }),
  };
  const approval = requestApprovalHandler(
    store,
    ports.sns,
    {
      topicArn: ports.topicArn,
      timeoutMinutes: settings.approvalTimeoutMinutes,
      approveFunction: 'the Approve function (ApproveFunctionName)',
    },
    ports.tokens,
  );
  return {
    ...Object.fromEntries(Object.entries(byFunction).map(([name, handler]) => [taskStateOf(name), handler])),
    // Every action's approval state asks through request-approval (only the configured ones exist).
    ...Object.fromEntries(ACTION_NAMES.map((action) => [approvalState(action), approval])),
  };
}

/**
 * The task tokens of the states that wait for one (`lambda:invoke.waitForTaskToken`), as Step Functions
 * keeps them: SendTaskSuccess answers a waiting state once; a token past its state's timeout answers
 * TaskTimedOut, an unknown one TaskDoesNotExist. The simulation serves these calls (aws-api-server.ts).
 */
export class TaskTokens {
  private readonly waiting = new Map<
    string,
    { deadline: number; resolve: (output: unknown) => void; reject: (error: Error) => void }
  >();

  open(token: string, timeoutSeconds: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.set(token, { deadline: Date.now() + timeoutSeconds * 1000, resolve, reject });
    });
  }

  private take(token: string) {
    const waiting = this.waiting.get(token);
    const fail = (name: string, message: string) =>
      Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
    if (!waiting) throw fail('TaskDoesNotExist', 'Task does not exist anymore');
    if (Date.now() >= waiting.deadline) throw fail('TaskTimedOut', 'Task Timed Out');
    this.waiting.delete(token);
    return waiting;
  }

  succeed(token: string, output: string): void {
    this.take(token).resolve(JSON.parse(output));
  }

  fail(token: string, error: string, cause: string): void {
    this.take(token).reject(Object.assign(new Error(cause), { name: error }));
  }
}

type StateDefinition = { Type: string; Resource?: string; TimeoutSeconds?: number; [key: string]: unknown };

/** Every state of a definition, branches and Map processors included. */
function statesOf(definition: { States?: Record<string, StateDefinition> }): [string, StateDefinition][] {
  return Object.entries(definition.States ?? {}).flatMap(([name, state]) => [
    [name, state] as [string, StateDefinition],
    ...((state.Branches as { States?: Record<string, StateDefinition> }[] | undefined) ?? []).flatMap(
      statesOf,
    ),
    ...statesOf(
      (state.ItemProcessor ?? state.Iterator ?? {}) as { States?: Record<string, StateDefinition> },
    ),
  ]);
}

export type ExecutionEvent = {
  type: string;
  /** Milliseconds since the execution started. */
  at: number;
  state?: string;
  output?: unknown;
  error?: string;
  cause?: unknown;
};

export type ExecutionRun = {
  status: 'SUCCEEDED' | 'FAILED';
  output: Record<string, unknown> | null;
  error: string | null;
  events: ExecutionEvent[];
  durationMs: number;
};

/** Step Functions' limit on the size of a state's input or output. */
export const STATE_LIMIT_BYTES = 256 * 1024;

/** The largest state (a state's output, as JSON) the execution carried, in bytes. */
export const largestStateBytes = (run: ExecutionRun): number =>
  Math.max(0, ...run.events.map((event) => Buffer.byteLength(JSON.stringify(event.output ?? null))));

/** Runs the definition on this machine; results pass through JSON, as a Lambda's would. */
export async function runLocally(
  definition: StateMachineDefinition,
  input: unknown,
  handlers: Record<string, TaskHandler>,
  options: {
    retryWaitMs?: number;
    executionArn?: string;
    tokens?: TaskTokens;
    /** Wait states' time, in ms, by state name (a Wait of seconds in a test). */
    waitMs?: Record<string, number>;
  } = {},
): Promise<ExecutionRun> {
  const machine = new StateMachine(definition);
  const tokens = options.tokens ?? new TaskTokens();
  // A state that waits for a task token gets a token of its own, passed to its function with the rest of
  // its payload; the state ends when the token is answered (or its TimeoutSeconds passes).
  const waiting = new Map(
    statesOf(definition as never)
      .filter(([, state]) => state.Resource?.endsWith('.waitForTaskToken'))
      .map(([name, state]) => [name, state.TimeoutSeconds ?? 99_999_999]),
  );
  const taskResourceLocalHandlers = Object.fromEntries(
    Object.entries(handlers).map(([state, handler]) => {
      const timeout = waiting.get(state);
      if (timeout === undefined)
        return [state, async (payload: unknown) => JSON.parse(JSON.stringify(await handler(payload)))];
      return [
        state,
        async (parameters: unknown) => {
          const token = `${state}:${randomUUID()}`;
          const answer = tokens.open(token, timeout);
          const payload = (parameters as { Payload: Record<string, unknown> }).Payload;
          await handler(JSON.parse(JSON.stringify({ ...payload, token })));
          return (await answer) as never;
        },
      ];
    }),
  );
  const wait = Object.fromEntries(Object.keys(handlers).map((state) => [state, options.retryWaitMs ?? 0]));
  const started = performance.now();
  const executionArn =
    options.executionArn ??
    `arn:aws:states:us-east-1:000000000000:execution:guardduty-responder-local:${randomUUID()}`;
  const execution = machine.run(input as never, {
    overrides: { taskResourceLocalHandlers, retryIntervalOverrides: wait, waitTimeOverrides: options.waitMs },
    // $$.Task.Token must resolve; each waiting state's handler replaces it with a token of its own.
    context: {
      Execution: { Id: executionArn, Name: executionArn.split(':').at(-1) },
      Task: { Token: 'given by the waiting state' },
    },
  });
  const events: ExecutionEvent[] = [];
  const logging = (async () => {
    for await (const event of execution.eventLogs) {
      const entry: ExecutionEvent = { type: event.type, at: performance.now() - started };
      if ('state' in event) {
        entry.state = event.state.name;
        if (event.state.output !== undefined) entry.output = event.state.output;
      }
      if ('Error' in event) {
        entry.error = event.Error;
        entry.cause = event.Cause;
      }
      events.push(entry);
    }
  })();
  try {
    const output = (await execution.result) as Record<string, unknown>;
    await logging;
    return { status: 'SUCCEEDED', output, error: null, events, durationMs: performance.now() - started };
  } catch (error) {
    await logging;
    const message = error instanceof Error ? error.message : String(error);
    return {
      status: 'FAILED',
      output: null,
      error: message,
      events,
      durationMs: performance.now() - started,
    };
  }
}
