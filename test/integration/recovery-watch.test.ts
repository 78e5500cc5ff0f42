/**
 * The recovery watch: recover deletes a pod, which stays terminating until its kubelet confirms; the
 * RecoveryWatch state machine (its synthesized definition, run with aws-local-stepfunctions) waits and
 * has the recovery-watch function check again, as the watch group, until the pod is gone or held past
 * its grace period, then one notice says which. No Lambda waits: each check is one short invocation.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recoveryWatchHandler } from '../../lambdas/handlers/recovery-watch.js';
import type { WatchInput } from '../../lambdas/recover/watch.js';
import { applyShippedPolicies } from '../../simulation/admission.js';
import { parseConfig } from '../../simulation/cdk-json.js';
import { isEksToken } from '../../simulation/eks-token.js';
import { KubeApiServer } from '../../simulation/kube-api-server.js';
import { runLocally, synthesizedDefinition } from '../../simulation/runner.js';
import { type FakeAccount, mockAccount } from '../support/aws-account.js';
import { node, pod } from '../support/cluster.js';
import { RESPONDER } from '../support/events.js';
import { reachAs } from '../support/responder.js';

const definition = synthesizedDefinition(parseConfig({ clusters: ['prod-eks'] }), RESPONDER, 'RecoveryWatch');
const sns = mockClient(SNSClient);
let server: KubeApiServer;
let account: ReturnType<typeof mockAccount>;

beforeEach(async () => {
  server = new KubeApiServer(isEksToken);
  applyShippedPolicies(server);
  await server.start();
  server.add('nodes', node('ip-10-0-9-9.ec2.internal', 'i-0aaaaaaaaaaaaaaa1'));
  account = mockAccount({ clusters: { 'prod-eks': server.url } } as FakeAccount);
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});
afterEach(async () => {
  account.restore();
  await server.stop();
});

/** A pod recover deleted: terminating, its kubelet due to stop it within 30 s. */
const terminating = (name: string, finalizers?: string[]) => {
  const base = pod({ name, namespace: 'ops', nodeName: 'ip-10-0-9-9.ec2.internal' });
  server.add('pods', {
    ...base,
    metadata: {
      ...base.metadata,
      deletionTimestamp: new Date(Date.now() + 30_000).toISOString(),
      deletionGracePeriodSeconds: 30,
      ...(finalizers ? { finalizers } : {}),
    },
  });
};

/** Runs the watch; between two checks, 10 s pass for the cluster and the function alike. */
async function watch(input: WatchInput) {
  let checks = 0;
  let skew = 0;
  const check = recoveryWatchHandler(
    reachAs('recovery-watch'),
    new SNSClient({}),
    'arn:aws:sns:us-east-1:111122223333:t',
    () => new Date(Date.now() + skew),
  );
  const run = await runLocally(
    definition,
    input,
    {
      CheckPods: async (payload: unknown) => {
        checks++;
        const result = await check(payload);
        skew += 10_000;
        server.elapse(10);
        return result;
      },
    },
    { waitMs: { Pause: 1 } },
  );
  return { run, checks, notice: sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '' };
}

const input = (pods: string[], untilSeconds = 600): WatchInput => ({
  findingId: 'f0000000000000000000000000000001',
  location: { accountId: RESPONDER.accountId, region: RESPONDER.region },
  pods: pods.map((name) => ({ cluster: 'prod-eks', namespace: 'ops', pod: name })),
  until: new Date(Date.now() + untilSeconds * 1000).toISOString(),
});

describe('the recovery watch', () => {
  it('checks again until the terminating pod is gone, then says so once', async () => {
    terminating('web-1');
    const { run, checks, notice } = await watch(input(['web-1']));

    expect(run.status).toBe('SUCCEEDED');
    // The checks 10 s apart see it terminating through its 30 s of grace, then gone.
    expect(checks).toBe(4);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(notice).toBe(
      'The recovery of finding f0000000000000000000000000000001 watched 1 deleted pod(s): 1 gone.',
    );
  });

  it('names a finalizer that holds a pod past its grace period, and stops there', async () => {
    terminating('web-2', ['example.com/backup']);
    const { run, checks, notice } = await watch(input(['web-2']));

    expect(run.status).toBe('SUCCEEDED');
    // The first check past 30 s of grace and the 15 s margin (at 50 s) finds it held; the watch ends there.
    expect(checks).toBe(6);
    expect(notice).toContain(
      'pod ops/web-2: still there past its grace period: held by finalizer(s) example.com/backup',
    );
  });

  it('says the watch stopped, and why, when the checks keep failing; the execution fails', async () => {
    const said: unknown[] = [];
    let checks = 0;
    const run = await runLocally(
      definition,
      input(['web-3']),
      {
        CheckPods: async () => {
          checks++;
          throw Object.assign(new Error('API server https://prod-eks not reached after 5 attempt(s)'), {
            name: 'ClusterUnreachableError',
          });
        },
        SayWatchStopped: async (payload: unknown) => {
          said.push(payload);
          return {};
        },
      },
      { waitMs: { Pause: 1 } },
    );

    expect(run.status).toBe('FAILED');
    // The first try and its three retries.
    expect(checks).toBe(4);
    expect(JSON.stringify(said)).toContain(
      'The recovery watch of finding f0000000000000000000000000000001 stopped before the deleted pods were gone: ClusterUnreachableError: ',
    );
  });
});
