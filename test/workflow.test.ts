/**
 * The synthesized state machine, run with aws-local-stepfunctions: its Lambda tasks are the real
 * handlers, over a local Kubernetes API server and aws-sdk-client-mock.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsClients } from '../lambdas/clients/aws.js';
import { ResponderSettingsSchema } from '../lambdas/core/settings.js';
import { identifyHandler } from '../lambdas/handlers/identify.js';
import { notifyHandler } from '../lambdas/handlers/notify.js';
import { mockAccount } from './support/aws-account.js';
import { addDeployment, node } from './support/cluster.js';
import { isEksToken } from './support/eks-token.js';
import { loadEvent, RESPONDER } from './support/events.js';
import { runExecution } from './support/execution.js';
import { KubeApiServer } from './support/kube-api-server.js';
import { stateMachineDefinition, synthesize } from './support/synth.js';

const TOPIC = 'arn:aws:sns:us-east-1:111122223333:responder';
const definition = stateMachineDefinition(synthesize({ clusters: ['prod-eks'] }).template);

let server: KubeApiServer;
let account: ReturnType<typeof mockAccount>;
const sns = mockClient(SNSClient);

beforeEach(async () => {
  server = new KubeApiServer(isEksToken);
  await server.start();
  account = mockAccount({
    clusters: { 'prod-eks': server.url },
    instances: [
      {
        instanceId: 'i-0f1e2d3c4b5a69788',
        privateDnsName: 'ip-10-0-12-34.ec2.internal',
        tags: { 'eks:cluster-name': 'prod-eks' },
        autoScalingGroup: 'eks-general',
        volumes: [{ volumeId: 'vol-0c1', deviceName: '/dev/xvda' }],
      },
    ],
  });
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
});

afterEach(async () => {
  for (const mock of Object.values(account)) mock.restore();
  await server.stop();
});

const handlers = () => ({
  Identify: identifyHandler(
    ResponderSettingsSchema.parse({ clusters: ['prod-eks'] }),
    RESPONDER,
    awsClients(),
  ),
  Notify: notifyHandler(new SNSClient({}), TOPIC),
});

describe('response state machine', () => {
  it('identifies, then notifies with what was found', async () => {
    server.add('nodes', node('ip-10-0-12-34.ec2.internal', 'i-0f1e2d3c4b5a69788'));
    addDeployment(server, {
      namespace: 'payments',
      name: 'payments-api',
      nodes: ['ip-10-0-12-34.ec2.internal'],
    });

    const run = await runExecution(definition, loadEvent('eks-runtime-new-binary-executed.json'), handlers());

    expect(run.status).toBe('SUCCEEDED');
    expect(run.events.filter((e) => e.type === 'StateExited').map((e) => e.state)).toEqual([
      'Identify',
      'Notify',
      'AnyStepFailed',
      'ResponseComplete',
    ]);
    const published = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(published?.TopicArn).toBe(TOPIC);
    expect(published?.Message).toContain(
      'Pods (1): payments/payments-api-5d8f7c9b6-p0 on ip-10-0-12-34.ec2.internal',
    );
    expect(published?.MessageAttributes?.outcome).toEqual({ DataType: 'String', StringValue: 'identified' });
    expect(run.output?.notify).toEqual({ messageId: 'message-1', outcome: 'identified' });
  });

  it('still notifies when identification fails, then fails the execution', async () => {
    const event = loadEvent('eks-runtime-new-binary-executed.json');
    delete event.detail.severity;

    const run = await runExecution(definition, event, handlers());

    expect(run.status).toBe('FAILED');
    expect(run.events.at(-1)).toEqual({ type: 'ExecutionFailed', error: 'ResponseFailed' });
    expect(run.events.filter((e) => e.type === 'StateCaught').map((e) => e.state)).toEqual(['Identify']);
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain('Identification failed: FindingValidationError');
    expect(message).toContain('detail.severity: Invalid input: expected number, received undefined');
  });

  it('retries a task that failed for a passing reason', async () => {
    let attempts = 0;
    const flaky = async () => {
      attempts++;
      throw Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
    };
    const run = await runExecution(definition, loadEvent('eks-runtime-new-binary-executed.json'), {
      ...handlers(),
      Identify: flaky,
    });
    // The first attempt and five retries, then the Catch hands over to notify.
    expect(attempts).toBe(6);
    expect(run.events.filter((e) => e.type === 'StateRetried')).toHaveLength(5);
    expect(run.status).toBe('FAILED');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });
});
