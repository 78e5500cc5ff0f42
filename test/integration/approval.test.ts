/**
 * Approval of chosen actions, with the synthesized state machine run by aws-local-stepfunctions in the
 * replay simulation: cordon-nodes waits on a task token for a person's answer, which comes through the
 * simulation's Step Functions endpoint (SendTaskSuccess) from the real approve handler; every other
 * action runs, and finishes, before the answer.
 */

import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { answerApproval } from '../../lambdas/approval/approval.js';
import { parseFindingEvent } from '../../lambdas/core/finding.js';
import { QUARANTINE_LABEL } from '../../lambdas/core/quarantine.js';
import { approveHandler } from '../../lambdas/handlers/approve.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { type ExecutionRun, runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import { approvalTokens, type Simulation, simulatedHandlers } from '../../simulation/simulation.js';
import { loadEvent, RESPONDER } from '../support/events.js';
import { answered, callersOf } from '../support/persons.js';
import { useSimulation } from '../support/simulated.js';

const event = parseFindingEvent(loadEvent('eks-audit-privileged-container.json'));
const findingId = event.detail.id;
const config = parseConfig({
  clusters: ['prod-eks'],
  requireApproval: ['cordon-nodes'],
  approvalTimeoutMinutes: 1,
});
const definition = synthesizedDefinition(config, RESPONDER);
const ALICE = 'arn:aws:iam::111122223333:user/alice';

const { simulate } = useSimulation();

/** Starts the response; resolves once the approval request is published, with the running execution. */
async function untilAsked(options: { timeoutSeconds?: number } = {}) {
  const sim = await simulate(event);
  const patched = structuredClone(definition);
  if (options.timeoutSeconds) {
    // The deadline as the state machine keeps it, shortened so that a test can see it pass.
    const json = JSON.stringify(patched).replace(
      /"TimeoutSeconds":60\b/g,
      `"TimeoutSeconds":${options.timeoutSeconds}`,
    );
    Object.assign(patched, JSON.parse(json));
  }
  const running = runLocally(patched, event, simulatedHandlers(sim, config, RESPONDER), {
    tokens: sim.tokens,
  });
  const asked = () => sim.home.state.published.find((p) => p.Subject?.includes('approval needed'));
  for (let waited = 0; !asked(); waited += 20) {
    if (waited > 20_000) throw new Error('no approval was requested');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { sim, running, notice: asked() };
}

/** A person's answer, signed as that person, through the Approve function. */
const answer = async (sim: Simulation, approve: boolean, by = 'alice') =>
  approveHandler(
    { store: sim.store(), sfn: new SFNClient(sim.overrides), tokens: approvalTokens(sim) },
    new SNSClient(sim.overrides),
    'arn:aws:sns:us-east-1:111122223333:responder',
    callersOf(sim),
  )(await answered(sim, { findingId, action: 'cordon-nodes', approve }, by));

const cordoned = (sim: Simulation) => sim.kube.list('nodes').filter((n) => n.spec?.unschedulable).length;
const finalNotice = (sim: Simulation) =>
  sim.home.state.published
    .filter(
      (p) =>
        p.Subject?.startsWith('[guardduty-responder] ') &&
        p.MessageAttributes?.outcome?.StringValue !== 'approval-needed' &&
        !p.Subject.includes('approve:'),
    )
    .at(-1);
const stateExited = (run: ExecutionRun, name: string) =>
  run.events.find((e) => e.type === 'StateExited' && e.state === name)?.at ?? Number.POSITIVE_INFINITY;

describe('an action that requires approval', () => {
  it('waits for the answer, tells the topic how to give it, and runs once approved; the others do not wait', async () => {
    const { sim, running, notice } = await untilAsked();

    expect(notice?.Message).toContain("cordon-nodes waits for a person's approval");
    expect(notice?.Message).toContain(`npm run approve -- ${findingId} --action cordon-nodes`);
    expect(notice?.Message).toMatch(/It would act on 2 target\(s\): node /);
    // Everything else is done while cordon-nodes waits.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(cordoned(sim)).toBe(0);
    expect(sim.kube.list('pods').filter((p) => p.metadata.labels?.[QUARANTINE_LABEL]).length).toBeGreaterThan(
      0,
    );
    expect(sim.account.state.instances.some((i) => i.terminationProtection)).toBe(true);
    expect(sim.account.state.snapshots.length).toBeGreaterThan(0);

    const report = await answer(sim, true);
    const run = await running;

    expect(report.answers).toEqual([
      { action: 'cordon-nodes', decided: true, effect: 'approved: the action runs' },
    ]);
    expect(run.status).toBe('SUCCEEDED');
    expect(cordoned(sim)).toBe(2);
    // The other actions' states ended before the approval was even asked for.
    const asked = run.events.find((e) => e.type === 'StateEntered' && e.state === 'AwaitCordonNodesApproval');
    for (const state of ['IsolatePods', 'ProtectInstances', 'RevokeIam', 'SnapshotVolumes']) {
      expect(stateExited(run, state), state).toBeLessThan(asked?.at ?? 0);
    }
    expect(finalNotice(sim)?.MessageAttributes?.outcome?.StringValue).toBe('contained');

    // A second answer changes nothing, and says so; both are in the record with who gave them.
    const again = await answer(sim, false, 'bob');
    expect(again.answers[0]?.effect).toMatch(
      /^nothing changed: already approved by arn:aws:iam::111122223333:user\/alice at /,
    );
    const record = await sim.store().get(findingId);
    expect(record?.approvals?.['cordon-nodes']).toMatchObject({ state: 'approved', answeredBy: ALICE });
    expect(record?.approvals?.['cordon-nodes']?.decisions.map((d) => [d.answer, d.by])).toEqual([
      ['approve', ALICE],
      ['deny', 'arn:aws:iam::111122223333:user/bob'],
    ]);
  });

  it('keeps the task token only encrypted: what the table holds answers nothing without Approve', async () => {
    const { sim, running } = await untilAsked();
    const record = await sim.store().get(findingId);
    const kept = record?.approvals?.['cordon-nodes']?.token ?? '';

    // Whoever reads the table (or a log of it) holds ciphertext, not the token the execution waits on.
    await expect(
      new SFNClient(sim.overrides).send(
        new SendTaskSuccessCommand({
          taskToken: kept,
          output: JSON.stringify({ approved: true, reason: 'x' }),
        }),
      ),
    ).rejects.toThrow(/Task does not exist/);
    // Nor does it decrypt for another action or execution: the encryption context binds it.
    await expect(
      approvalTokens(sim).open(kept, {
        findingId,
        action: 'isolate-pods',
        executionArn: record?.approvals?.['cordon-nodes']?.executionArn ?? '',
      }),
    ).rejects.toThrow(/ciphertext is invalid/);
    expect(cordoned(sim)).toBe(0);

    // Approve decrypts it and answers.
    expect((await answer(sim, true)).answers[0]?.decided).toBe(true);
    expect((await running).status).toBe('SUCCEEDED');
    expect(cordoned(sim)).toBe(2);
  });

  it('waits again when Step Functions does not take the answer, so that a second answer decides it', async () => {
    const { sim, running } = await untilAsked();
    sim.home.fail(
      'SendTaskSuccess',
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      }),
      5,
    );

    const refused = await answer(sim, true);
    expect(refused.answers[0]?.decided).toBe(false);
    expect(refused.answers[0]?.effect).toMatch(
      /^nothing changed: the execution could not be told \(.*Rate exceeded.*\): the request waits again, answer again$/,
    );
    expect((await sim.store().get(findingId))?.approvals?.['cordon-nodes']?.state).toBe('waiting');

    const decided = await answer(sim, true);
    expect(decided.answers).toEqual([
      { action: 'cordon-nodes', decided: true, effect: 'approved: the action runs' },
    ]);
    expect((await running).status).toBe('SUCCEEDED');
    expect(cordoned(sim)).toBe(2);
  });

  it('is held back when denied, and the notification says by whom', async () => {
    const { sim, running } = await untilAsked();

    await answer(sim, false);
    const run = await running;

    expect(run.status).toBe('SUCCEEDED');
    expect(cordoned(sim)).toBe(0);
    const message = finalNotice(sim)?.Message ?? '';
    expect(message).toMatch(
      /cordon-nodes +skipped: held back: denied by arn:aws:iam::111122223333:user\/alice at /,
    );
    expect((await sim.store().get(findingId))?.approvals?.['cordon-nodes']?.state).toBe('denied');
  });

  it('is held back when the deadline passes, and a late answer changes nothing', async () => {
    const { sim, running } = await untilAsked({ timeoutSeconds: 1 });

    const run = await running;
    expect(run.status).toBe('SUCCEEDED');
    expect(cordoned(sim)).toBe(0);
    expect(finalNotice(sim)?.Message).toContain(
      'cordon-nodes       skipped: held back: no answer within 1 minute(s) of the request',
    );

    const late = await answerApproval(
      { findingId, action: 'cordon-nodes', approve: true, requestedBy: ALICE },
      { store: sim.store(), sfn: new SFNClient(sim.overrides), tokens: approvalTokens(sim) },
    );
    expect(late.answers).toEqual([
      {
        action: 'cordon-nodes',
        decided: false,
        effect: 'nothing changed: the execution no longer waits (TaskTimedOut): the action was held back',
      },
    ]);
    expect(cordoned(sim)).toBe(0);
  });
});

describe('the approval in the replay and through the deployed stack', () => {
  it('npm run replay answers in the simulation with --approve, and needs an answer', async () => {
    const { replay } = await import('../../commands/replay.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { EVENTS_DIR } = await import('../support/events.js');
    const state = join(mkdtempSync(join(tmpdir(), 'approval-')), 'simulation.json');
    const lines: string[] = [];
    const errors: string[] = [];
    const file = `${EVENTS_DIR}eks-audit-privileged-container.json`;
    const call = (args: string[]) =>
      replay(
        [file, ...args, '--state', state],
        (l) => lines.push(l),
        (l) => errors.push(l),
      );

    expect(await call(['--require-approval', 'cordon-nodes', '--approve'])).toBe(0);
    expect(lines.join('\n')).toMatch(
      /AwaitCordonNodesApproval +\d+ ms {2}approved by the replay \(--approve \/ --deny\) at /,
    );
    expect(lines.join('\n')).toMatch(/CordonNodesItem .* ok node .*: cordoned/);

    expect(await call(['--require-approval', 'cordon-nodes'])).toBe(2);
    expect(errors.at(-1)).toBe(
      'replay: --require-approval needs the simulated person to answer: give --approve or --deny',
    );
    expect(await call(['--require-approval', 'delete-cluster', '--deny'])).toBe(2);
    expect(errors.at(-1)).toMatch(/^replay: --require-approval takes actions among isolate-pods, /);
  });

  it('npm run approve invokes the Approve function the stack names with the caller, and says what the answer did', async () => {
    const { approve } = await import('../../commands/approve.js');
    const { InvokeCommand } = await import('@aws-sdk/client-lambda');
    const { mockDeployedStack, payloadOf: payload } = await import('../support/deployed.js');
    const { lambda, restore } = mockDeployedStack({ ApproveFunctionName: 'responder-approve' }, ALICE);
    try {
      lambda
        .on(InvokeCommand)
        .resolvesOnce({
          Payload: payload({
            findingId: 'f1',
            answers: [{ action: 'cordon-nodes', decided: true, effect: 'denied: the action is held back' }],
          }),
        })
        .resolvesOnce({
          Payload: payload({
            findingId: 'f1',
            answers: [
              { action: 'cordon-nodes', decided: false, effect: 'nothing changed: already denied by x at y' },
            ],
          }),
        });
      const lines: string[] = [];
      const errors: string[] = [];
      const call = (args: string[]) =>
        approve(
          args,
          (l) => lines.push(l),
          (l) => errors.push(l),
        );

      expect(
        await call(['f1', '--deny', '--action', 'cordon-nodes', '--deployed', 'GuardDutyResponder']),
      ).toBe(0);
      expect(lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toMatchObject({
        FunctionName: 'responder-approve',
      });
      // No name in the request: a proof of the caller, bound to this answer, which STS checks.
      expect(JSON.parse(String(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload))).toEqual({
        findingId: 'f1',
        action: 'cordon-nodes',
        approve: false,
        caller: expect.stringMatching(/^gdr-caller-v1\./),
      });
      expect(lines).toEqual([
        'Deployed: responder-approve',
        'cordon-nodes of finding f1: denied: the action is held back',
      ]);
      expect(await call(['f1', '--deployed', 'GuardDutyResponder'])).toBe(1);
      expect(lines.at(-1)).toBe('cordon-nodes of finding f1: nothing changed: already denied by x at y');
      expect(await call(['f1'])).toBe(2);
      expect(errors.at(-1)).toMatch(/^approve: an answer goes to a running execution: give --deployed STACK/);
    } finally {
      restore();
    }
  });
});

describe('the approval in the stack', () => {
  it('waits on a task token up to the deadline, extends the execution timeout, and lets only Approve answer', async () => {
    const { synthesize } = await import('../support/synth.js');
    const { template } = synthesize(
      { clusters: ['prod-eks'], requireApproval: ['cordon-nodes'], approvalTimeoutMinutes: 30 },
      { nag: true },
    );
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(machine?.Properties.DefinitionString);
    expect(definition).toContain(':states:::lambda:invoke.waitForTaskToken');
    expect(definition).toContain('\\"AwaitCordonNodesApproval\\":{');
    expect(definition).toContain('\\"TimeoutSeconds\\":1800');
    // The execution may last the response's 30 minutes and the 30 of the deadline.
    expect(definition).toContain('\\"TimeoutSeconds\\":3600');
    const grantsOf = (description: string) => {
      const [id] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, fn]) =>
        String(fn.Properties.Description).startsWith(description),
      ) ?? [''];
      const role = template.toJSON().Resources[id].Properties.Role['Fn::GetAtt'][0];
      return Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
        .flatMap((p) =>
          p.Properties.PolicyDocument.Statement.flatMap((st: { Action: string | string[] }) =>
            [st.Action].flat(),
          ),
        );
    };
    const sendTask = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('states:SendTask'),
    );
    expect(sendTask).toHaveLength(1);
    expect(grantsOf('Answers an action')).toContain('states:SendTaskSuccess');
    expect(grantsOf('Answers an action').filter((a: string) => a.startsWith('states:'))).toEqual([
      'states:SendTaskSuccess',
    ]);
  });
});
