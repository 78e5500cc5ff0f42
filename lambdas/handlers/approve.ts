/**
 * Approve Lambda, invoked by a person (`npm run approve -- <finding id> --deployed <stack>`), never by the
 * state machine: answers the finding's waiting actions (lambdas/approval/approval.ts) and publishes what
 * the answer did.
 */

import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  type ApprovalReport,
  ApproveRequestSchema,
  answerApproval,
  describeApproval,
} from '../approval/approval.js';
import { namedCalls } from '../clients/named-calls.js';
import { IncidentStore } from '../incident/store.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';

export const approveHandler =
  (ports: { store: IncidentStore; sfn: SFNClient }, sns: SNSClient, topicArn: string) =>
  async (input: unknown): Promise<ApprovalReport> => {
    const parsed = ApproveRequestSchema.safeParse(input);
    if (!parsed.success) throw new Error(`approve input is not valid: ${parsed.error.message}`);
    const report = await answerApproval(parsed.data, ports);
    const answer = parsed.data.approve ? 'approved' : 'denied';
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: `[guardduty-responder] approve: ${answer}: ${report.findingId}`.slice(0, 100),
        Message: [...describeApproval(report), `Answered by ${parsed.data.requestedBy}.`].join('\n'),
        MessageAttributes: { outcome: { DataType: 'String', StringValue: answer } },
      }),
    );
    return report;
  };

export const handler = lazyHandler(() =>
  approveHandler(
    { store: IncidentStore.fromEnvironment(), sfn: namedCalls(new SFNClient({})) },
    namedCalls(new SNSClient({})),
    requireEnv('TOPIC_ARN'),
  ),
);
