/**
 * Approve Lambda, invoked by a person (`npm run approve -- <finding id> --deployed <stack>`), never by the
 * state machine: answers the finding's waiting actions (lambdas/approval/approval.ts) and publishes what
 * the answer did.
 */

import { KMSClient } from '@aws-sdk/client-kms';
import { SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  type ApprovalReport,
  ApproveRequestSchema,
  answerApproval,
  answerDigest,
  describeApproval,
} from '../approval/approval.js';
import { kmsTokens, type TokenVault } from '../approval/tokens.js';
import { CallerRefusedError } from '../clients/caller.js';
import { type CallerCheck, stsCallers } from '../clients/caller-check.js';
import { namedCalls } from '../clients/named-calls.js';
import { IncidentStore } from '../incident/store.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';

export const approveHandler =
  (
    ports: { store: IncidentStore; sfn: SFNClient; tokens: TokenVault },
    sns: SNSClient,
    topicArn: string,
    callers: CallerCheck,
  ) =>
  async (input: unknown): Promise<ApprovalReport> => {
    const parsed = ApproveRequestSchema.safeParse(input);
    if (!parsed.success)
      throw new CallerRefusedError(
        `approve input is not valid (${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'input'}: ${issue.message}`).join('; ')}); nothing was done`,
      );
    const { caller, ...asked } = parsed.data;
    // Who answers is who STS says signed this very answer, never a field of the request.
    const requestedBy = await callers(caller, answerDigest(asked));
    const report = await answerApproval({ ...asked, requestedBy }, ports);
    const answer = asked.approve ? 'approved' : 'denied';
    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: `[guardduty-responder] approve: ${answer}: ${report.findingId}`.slice(0, 100),
        Message: [...describeApproval(report), `Answered by ${requestedBy}.`].join('\n'),
        MessageAttributes: { outcome: { DataType: 'String', StringValue: answer } },
      }),
    );
    return report;
  };

export const handler = lazyHandler(() =>
  approveHandler(
    {
      store: IncidentStore.fromEnvironment(),
      sfn: namedCalls(new SFNClient({})),
      tokens: kmsTokens(namedCalls(new KMSClient({})), requireEnv('APPROVAL_KEY_ID')),
    },
    namedCalls(new SNSClient({})),
    requireEnv('TOPIC_ARN'),
    stsCallers({ region: requireEnv('AWS_REGION') }),
  ),
);
