/**
 * Request-approval Lambda: invoked by a waiting task state with its task token (lambdas/approval/), it
 * records the request and publishes what waits and how to answer. The state waits for the answer.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type ApprovalRequest, approvalNotice, requestApproval } from '../approval/approval.js';
import { kmsTokens, type TokenVault } from '../approval/tokens.js';
import { namedCalls } from '../clients/named-calls.js';
import { IncidentStore } from '../incident/store.js';
import { settingsFromEnvironment } from '../settings.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';

export const requestApprovalHandler =
  (
    store: IncidentStore,
    sns: SNSClient,
    options: { topicArn: string; timeoutMinutes: number; approveFunction: string },
    tokens: TokenVault,
  ) =>
  async (request: ApprovalRequest): Promise<void> => {
    const approval = await requestApproval(request, {
      store,
      timeoutMinutes: options.timeoutMinutes,
      tokens,
    });
    const notice = approvalNotice(request, approval, options.approveFunction);
    await sns.send(
      new PublishCommand({
        TopicArn: options.topicArn,
        Subject: notice.subject,
        Message: notice.message,
        MessageAttributes: { outcome: { DataType: 'String', StringValue: 'approval-needed' } },
      }),
    );
  };

export const handler = lazyHandler(() =>
  requestApprovalHandler(
    IncidentStore.fromEnvironment(),
    namedCalls(new SNSClient({})),
    {
      topicArn: requireEnv('TOPIC_ARN'),
      timeoutMinutes: settingsFromEnvironment().settings.approvalTimeoutMinutes,
      approveFunction: requireEnv('APPROVE_FUNCTION'),
    },
    kmsTokens(namedCalls(new KMSClient({})), requireEnv('APPROVAL_KEY_ID')),
  ),
);
