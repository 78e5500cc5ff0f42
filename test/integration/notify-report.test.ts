/**
 * The incident report is Notify's second duty: when it cannot be written (the bucket refuses it), the
 * notification is still published, and says so; when it is written, it is the page of this incident.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { notifyHandler } from '../../lambdas/handlers/notify.js';
import { responderMetrics } from '../../lambdas/notify/metrics.js';
import { loadEvent } from '../support/events.js';
import { identification, identifiedPod, planFor } from '../support/incident.js';
import { useIncidentTable } from '../support/incidents.js';

const sns = mockClient(SNSClient);
const s3 = mockClient(S3Client);
const incidents = useIncidentTable();
const EVENT = 'eks-runtime-new-binary-executed.json';

beforeEach(() => {
  sns.reset();
  s3.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
});
afterEach(() => {
  sns.reset();
  s3.reset();
});

const notify = () =>
  notifyHandler({
    sns: new SNSClient({ region: 'us-east-1' }),
    topicArn: 'arn:aws:sns:us-east-1:111122223333:responder',
    store: incidents.store(),
    securityHub: (region) => new SecurityHubClient({ region }),
    chatTopicArn: null,
    report: { s3: new S3Client({ region: 'us-east-1' }), bucket: 'responder-evidence' },
    stackName: 'GuardDutyResponder',
    metrics: responderMetrics(),
  });

const state = () => ({
  ...loadEvent(EVENT),
  identify: {
    plan: planFor(EVENT),
    planned: [],
    identification: identification({ pods: [identifiedPod('payments-api-1', 'payments')] }),
  },
});

describe('the incident report from Notify', () => {
  it('is written beside the evidence, and the notification gives the command that fetches it', async () => {
    s3.on(PutObjectCommand).resolves({});
    await notify()(state());
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    const id = loadEvent(EVENT).detail.id;
    expect(put).toMatchObject({ Bucket: 'responder-evidence', Key: `incidents/${id}/report.html` });
    expect(String(put?.Body)).toContain('<svg id="timeline"');
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain(
      `The incident report: aws s3 cp s3://responder-evidence/incidents/${id}/report.html incident-${id}.html`,
    );
    expect(message).toContain(`npm run release -- ${id} --deployed GuardDutyResponder`);
  });

  it('cannot keep the notification from being published: a state it cannot read is said, and not contained', async () => {
    const broken = state();
    (broken.identify.plan as { actions: unknown }).actions = 'not a list';
    const output = await notify()(broken);
    expect(output).toEqual({ messageId: 'message-1', outcome: 'not-contained' });
    const published = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(published?.Subject).toBe(
      '[guardduty-responder] NOT CONTAINED (failed): Execution:Runtime/NewBinaryExecuted',
    );
    expect(published?.Message).toMatch(/the notification could not be composed \(.+\); every step's result/);
  });

  it('is said to be missing when the bucket refuses it, and the notification is published all the same', async () => {
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    const output = await notify()(state());
    expect(output.messageId).toBe('message-1');
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    expect(message).toContain(
      'The incident report could not be written to s3://responder-evidence (AccessDenied: Access Denied).',
    );
  });
});
