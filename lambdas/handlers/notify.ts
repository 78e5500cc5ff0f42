/** Notify Lambda: publish one SNS message per execution, whatever the earlier steps reached. */
import { type MessageAttributeValue, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { composeNotification, type Outcome } from '../notify/message.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';

export type NotifyOutput = { messageId: string; outcome: Outcome };

export function notifyHandler(sns: SNSClient, topicArn: string): (state: unknown) => Promise<NotifyOutput> {
  return async (state) => {
    const { subject, message, attributes } = composeNotification(
      typeof state === 'object' && state !== null ? state : {},
    );
    const messageAttributes: Record<string, MessageAttributeValue> = {
      findingType: { DataType: 'String', StringValue: attributes.findingType },
      outcome: { DataType: 'String', StringValue: attributes.outcome },
      sample: { DataType: 'String', StringValue: String(attributes.sample) },
    };
    if (attributes.severity !== null) {
      messageAttributes.severity = { DataType: 'Number', StringValue: String(attributes.severity) };
    }
    const published = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: subject,
        Message: message,
        MessageAttributes: messageAttributes,
      }),
    );
    logger.info('notified', { subject, outcome: attributes.outcome, messageId: published.MessageId });
    return { messageId: published.MessageId ?? '', outcome: attributes.outcome };
  };
}

export const handler = lazyHandler(() => notifyHandler(new SNSClient({}), requireEnv('TOPIC_ARN')));
