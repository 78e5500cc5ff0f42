/**
 * The response state machine:
 *
 *   Claim ─▶ first sighting? ─no (seen again: a short notice)─────────────────┐
 *              │yes                                                            ▼
 *   Identify ─▶ anything planned? ─no──────────────────────────────▶ Notify ─▶ failed? ─▶ Fail | Succeed
 *                   │yes                                               ▲
 *                   ▼                                                  │
 *   Contain (Parallel) ─ Isolation: IsolatePods ─▶ CordonNodes (Map)      │
 *                      ├ Protection: ProtectInstances (Map)                 │
 *                      ├ PodEvidence: CollectPodEvidence                    │
 *                      └ HostEvidence: CollectHostEvidence (Map)            │
 *   Cut (Parallel) ───── Hosts: IsolateHosts (Map) ─────────────────────────┤
 *                      ├ Identity: RevokeIam ─▶ SnapshotVolumes (Map) ───────┤
 *                      └ Sessions: RevokeSessions ───────────────────────────┘
 *
 * An action in `requireApproval` is preceded in its branch by a gate: when the action is planned, its
 * Await<Action>Approval state invokes request-approval with a task token and waits for the answer
 * (SendTaskSuccess) up to the approval deadline; approved, the action runs; denied or unanswered, the
 * action's place gets a held-back result with the reason, and the branch goes on. Other branches do not
 * wait.
 *
 * Claim takes the finding id in the incident table with a conditional write, so a repeated finding is not
 * contained twice. Each step's result lands in the state under the step's name. Every task retries Lambda
 * service errors and the TransientError our code throws for throttling, with backoff, and a crashed or
 * timed-out invocation (Lambda.Unknown) once: the actions write their record before each change, so a
 * retry finishes the work with the original state kept. Anything else, and a TransientError past its
 * retries, is caught into the step's place ({Error, Cause}) and the branch goes on to its next action,
 * so every other action still runs and Notify reports it. Notify decides the outcome and writes it to
 * the record; an outcome short of contained (partly or not contained: a compromised target not cut off,
 * or a step failed), or a refused one (GuardDuty does not hold the finding as the event said), fails the
 * execution at its very end (ResponseFailed). Every action verifies its input against the
 * plan Identify signed before it acts (lambdas/incident/mandate.ts).
 */
import { type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { REGISTRY, SPECS } from '../lambdas/actions/registry.js';
import { approvalStateOf, type ContainStep, itemsOf, resultKeyOf } from '../lambdas/core/action-spec.js';
import { type ActionName, specOf } from '../lambdas/core/plan.js';
import type { WorkflowFunction } from '../lambdas/permissions.js';
import { phases as phasesFor } from '../lambdas/settings.js';
import { acknowledge } from './nag.js';

/** Errors a task retries with backoff: Lambda service hiccups, and throttling or outages our code reports. */
export const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientError',
];

/** A Lambda that crashed, ran out of memory or timed out; retried once, since the actions are journaled. */
export const CRASH_ERRORS = ['Lambda.Unknown'];

export type ResponseWorkflowProps = {
  functions: ReadonlyMap<WorkflowFunction, lambda.IFunction>;
  logRetentionDays: number;
  /** The key its log group is encrypted with (logs-key.ts). */
  logsKey?: kms.IKey;
  /** The actions that wait for a person's approval, and for how long. */
  requireApproval: readonly ActionName[];
  approvalTimeoutMinutes: number;
  /** The execution's timeout: the response, and the approval deadline when actions wait for one. */
  timeoutMinutes: number;
};

/** The state that waits for the approval of an action (the replay binds request-approval to it). */
export const approvalState = (action: ActionName): string => approvalStateOf(specOf(SPECS, action));

/**
 * The Task state that invokes each function. Map iterations run `<Map>Item`; the replay and the tests
 * bind their local handlers by these names.
 */
/**
 * A state machine's logging: every transition, never the data (a state's input holds the finding, what
 * was identified and an approval's task token, which must reach no log; the execution history keeps the
 * data), in a log group under the responder's logs key.
 */
export const transitionsOnly = (scope: Construct, retentionDays: number, key?: kms.IKey): sfn.LogOptions => ({
  destination: new logs.LogGroup(scope, 'Logs', {
    retention: retentionDays as logs.RetentionDays,
    encryptionKey: key,
  }),
  level: sfn.LogLevel.ALL,
  includeExecutionData: false,
});

export const TASK_STATES: Readonly<Record<WorkflowFunction, string>> = {
  claim: 'Claim',
  identify: 'Identify',
  ...Object.fromEntries(SPECS.map((spec) => [spec.name, spec.state])),
  'collect-pod-evidence': 'CollectPodEvidence',
  'collect-credential-activity': 'CollectCredentialActivity',
  'collect-host-evidence': 'CollectHostEvidenceItem',
  notify: 'Notify',
};

/** The Task state of a function the state machine invokes. */
export function taskStateOf(fn: WorkflowFunction): string {
  const state = TASK_STATES[fn];
  if (!state) throw new Error(`no task state invokes ${fn}`);
  return state;
}

const PLAN = '$.identify.plan';
const EXECUTION = '$$.Execution.Id';
const IDENTIFICATION = '$.identify.identification';

export class ResponseWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: ResponseWorkflowProps) {
    super(scope, id);
    const functionOf = (fn: WorkflowFunction): lambda.IFunction => {
      const found = props.functions.get(fn);
      if (!found) throw new Error(`the workflow has no function ${fn}`);
      return found;
    };

    /** Where a function's result goes in the execution state: `$.identify`, `$.notify`, `$.isolatePods`, … */
    const resultPath = (fn: WorkflowFunction) =>
      `$.${fn === 'claim' || fn === 'identify' || fn === 'notify' ? fn : resultKeyOf(SPECS, fn)}`;
    const step = (
      fn: WorkflowFunction,
      comment: string,
      options: { replaceInput?: boolean; payload?: Record<string, string>; timeout?: Duration } = {},
    ) => {
      const name = taskStateOf(fn);
      const task = new tasks.LambdaInvoke(this, name, {
        lambdaFunction: functionOf(fn),
        comment,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        payload: options.payload ? sfn.TaskInput.fromObject(options.payload) : undefined,
        // Without a ResultPath the result replaces the input (the default, "$", left implicit).
        resultPath: options.replaceInput ? undefined : resultPath(fn),
        taskTimeout: sfn.Timeout.duration(options.timeout ?? Duration.minutes(3)),
      });
      task.addRetry({
        errors: TRANSIENT_ERRORS,
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 6,
        maxDelay: Duration.seconds(30),
        jitterStrategy: sfn.JitterType.FULL,
      });
      task.addRetry({ errors: CRASH_ERRORS, interval: Duration.seconds(2), maxAttempts: 1 });
      return task;
    };
    const wholeInput = { 'plan.$': PLAN, 'identification.$': IDENTIFICATION, 'executionArn.$': EXECUTION };
    /** A task that acts on the whole identification (isolate, revoke). */
    const whole = (fn: WorkflowFunction, comment: string) => step(fn, comment, { payload: wholeInput });
    /**
     * A Map over the identified targets of the step's list (its spec's `items`, which the signed plan covers too);
     * each iteration's result, or its error, is one array element.
     */
    const perItem = (
      fn: WorkflowFunction,
      comment: string,
      options: { extra?: Record<string, string>; timeout?: Duration } = {},
    ) => {
      const task = step(fn, comment, { replaceInput: true, timeout: options.timeout });
      const name = task.id.replace(/Item$/, '');
      task.addCatch(new sfn.Pass(this, `${task.id}Failed`, { comment: 'the error is the element' }), {
        errors: ['States.ALL'],
      });
      return new sfn.Map(this, name, {
        comment,
        itemsPath: `${IDENTIFICATION}.${itemsOf(SPECS, fn)}`,
        itemSelector: {
          'plan.$': PLAN,
          'cluster.$': `${IDENTIFICATION}.cluster`,
          'target.$': '$$.Map.Item.Value',
          'executionArn.$': EXECUTION,
          ...options.extra,
        },
        maxConcurrency: 10,
        resultPath: resultPath(fn),
      }).itemProcessor(task);
    };
    /**
     * One branch of Contain: each action runs after the one before it, whether that one succeeded or
     * failed; a failure (after its retries) is caught into the action's own place in the state, so every
     * action's key exists at the end of the branch, and the Parallel's selector never reads a missing path.
     */
    const approvals = new Set<string>(props.requireApproval);
    /**
     * Where a branch enters an action: the action itself, or, when it waits for approval, its gate, which
     * goes on to the action when approved and to `next` (its place holding why not) when not.
     */
    const entryOf = (
      state: sfn.TaskStateBase | sfn.Map,
      fn: ContainStep,
      next: sfn.IChainable,
    ): sfn.IChainable => {
      if (!approvals.has(fn)) return state;
      const action = fn as ActionName;
      const key = resultKeyOf(SPECS, action);
      const name = approvalState(action);
      const notApproved = new sfn.Pass(this, `${name}HeldBack`, {
        comment: 'the action does not run: denied, or no answer before the deadline',
        parameters: { action, 'skipped.$': `$.approval.${key}.reason`, items: [] },
        resultPath: resultPath(fn),
      }).next(next);
      const decided = new sfn.Choice(this, `${name}Answered`)
        .when(sfn.Condition.booleanEquals(`$.approval.${key}.approved`, true), state)
        .otherwise(notApproved);
      const expired = new sfn.Pass(this, `${name}Expired`, {
        comment: 'no answer before the deadline',
        result: sfn.Result.fromObject({
          approved: false,
          reason: `held back: no answer within ${props.approvalTimeoutMinutes} minute(s) of the request`,
        }),
        resultPath: `$.approval.${key}`,
      }).next(decided);
      const wait = new tasks.LambdaInvoke(this, name, {
        lambdaFunction: functionOf('request-approval'),
        comment: `Ask a person to approve ${action}, and wait for the answer`,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        payload: sfn.TaskInput.fromObject({
          token: sfn.JsonPath.taskToken,
          action,
          'plan.$': PLAN,
          'identification.$': IDENTIFICATION,
          'executionArn.$': EXECUTION,
        }),
        resultPath: `$.approval.${key}`,
        taskTimeout: sfn.Timeout.duration(Duration.minutes(props.approvalTimeoutMinutes)),
      });
      wait.addCatch(expired, { errors: ['States.Timeout'] });
      // The request could not be made: the action's place holds the error, and it does not run.
      wait.addCatch(next, { errors: ['States.ALL'], resultPath: resultPath(fn) });
      wait.next(decided);
      return new sfn.Choice(this, `${name}Needed`)
        .when(sfn.Condition.isPresent(`$.identify.approvals.${key}`), wait)
        .otherwise(state);
    };
    const branch = (name: string, states: [sfn.TaskStateBase | sfn.Map, ContainStep][]) => {
      const end = new sfn.Pass(this, `${name}Done`, {
        comment: 'every action of the branch left its result or its error',
      });
      // Built from the last action back, so that each action knows where the next one is entered.
      let next: sfn.IChainable = end;
      for (const [state, fn] of [...states].reverse()) {
        state.addCatch(next, { errors: ['States.ALL'], resultPath: resultPath(fn) });
        state.next(next);
        next = entryOf(state, fn, next);
      }
      return next;
    };

    const notify = step('notify', 'Publish what was found, done and failed');
    const claim = step('claim', 'Claim the finding id in the incident table; a repeat is only noted', {
      payload: { 'event.$': '$', 'executionArn.$': EXECUTION },
    });
    claim.addCatch(notify, { errors: ['States.ALL'], resultPath: '$.claim' });
    const identify = step('identify', 'Plan the response and resolve its targets');
    identify.addCatch(notify, { errors: ['States.ALL'], resultPath: '$.identify' });

    // Each registered action (lambdas/actions/registry.ts): a Map over its list, or one task on the whole.
    const steps = new Map<ContainStep, sfn.TaskStateBase | sfn.Map>(
      REGISTRY.map(({ spec }) => [
        spec.name,
        spec.items ? perItem(spec.name, spec.comment) : whole(spec.name, spec.comment),
      ]),
    );
    steps.set(
      'collect-pod-evidence',
      step('collect-pod-evidence', 'Owners, events, logs and policies of the pods', {
        payload: wholeInput,
        timeout: Duration.minutes(6),
      }),
    );
    steps.set(
      'collect-host-evidence',
      perItem(
        'collect-host-evidence',
        'Volatile state of each host through Systems Manager, before it is cut off',
        { extra: { 'pods.$': `${IDENTIFICATION}.pods` }, timeout: Duration.minutes(13) },
      ),
    );
    steps.set(
      'collect-credential-activity',
      step('collect-credential-activity', 'What the credentials did, from CloudTrail event history', {
        payload: wholeInput,
        timeout: Duration.minutes(4),
      }),
    );
    const stepOf = (name: ContainStep) => {
      const found = steps.get(name);
      if (!found) throw new Error(`no step is named ${name}`);
      return found;
    };

    // The phases (lambdas/core/action-spec.ts): a Parallel each, one after the other. A phase that fails as a
    // whole leaves its error in its place and the next phase still runs.
    const phases = phasesFor(props.requireApproval).map((phase) => {
      const parallel = new sfn.Parallel(this, phase.state, {
        comment: phase.branches.map(([name, names]) => `${name}: ${names.join(' > ')}`).join('; '),
        resultPath: `$.${phase.key}`,
        // Each branch's output is its whole state; keep only the step results, under their keys.
        resultSelector: Object.fromEntries(
          phase.branches.flatMap(([, names], index) =>
            names.map((name) => [`${resultKeyOf(SPECS, name)}.$`, `$[${index}].${resultKeyOf(SPECS, name)}`]),
          ),
        ),
      });
      for (const [name, names] of phase.branches) {
        parallel.branch(
          branch(
            name,
            names.map((stepName) => [stepOf(stepName), stepName]),
          ),
        );
      }
      return { phase, parallel };
    });
    phases.forEach(({ phase, parallel }, index) => {
      const next = phases[index + 1]?.parallel ?? notify;
      parallel.addCatch(next, { errors: ['States.ALL'], resultPath: `$.${phase.key}` });
      parallel.next(next);
    });
    const contain = phases[0]?.parallel as sfn.Parallel;

    const plannedAnything = new sfn.Choice(this, 'AnythingToContain')
      .when(sfn.Condition.isPresent('$.identify.planned[0]'), contain)
      .otherwise(notify);

    const verdict = new sfn.Choice(this, 'AnyStepFailed')
      .when(
        sfn.Condition.or(
          // Not every compromised target is cut off, or something failed (lambdas/notify/verdict.ts).
          sfn.Condition.stringEquals('$.notify.outcome', 'partly-contained'),
          sfn.Condition.stringEquals('$.notify.outcome', 'not-contained'),
          // A finding GuardDuty does not hold: nothing was done, and the alarm must still fire.
          sfn.Condition.stringEquals('$.notify.outcome', 'refused'),
        ),
        new sfn.Fail(this, 'ResponseFailed', {
          error: 'ResponseFailed',
          cause: 'The incident is not contained, or a response step failed; see the notification.',
        }),
      )
      .otherwise(new sfn.Succeed(this, 'ResponseComplete'));
    notify.next(verdict);

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: 'guardduty-responder: claim, identify, contain, notify',
      definitionBody: sfn.DefinitionBody.fromChainable(
        claim.next(
          new sfn.Choice(this, 'FirstSighting')
            .when(sfn.Condition.booleanEquals('$.claim.claimed', true), identify.next(plannedAnything))
            .otherwise(notify),
        ),
      ),
      timeout: Duration.minutes(props.timeoutMinutes),
      tracingEnabled: true,
      logs: transitionsOnly(this, props.logRetentionDays, props.logsKey),
    });
    for (const fn of props.functions.values()) {
      acknowledge(
        this.stateMachine,
        `IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
        'Step Functions invokes the function by ARN and by its version and alias qualifiers (ARN:*).',
      );
    }
    acknowledge(this.stateMachine, 'IAM5[Resource::*]', 'X-Ray tracing and log delivery take no resource.');
  }
}
