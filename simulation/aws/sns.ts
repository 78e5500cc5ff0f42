/** SNS: Publish, every message kept for the tests and the replay. */
import type { PublishCommandInput } from '@aws-sdk/client-sns';
import { list, type Out, type SimulatedService, text } from './wire.js';
export const sns: SimulatedService = {
  operations: (s) => {
    const { published } = s;
    return {
      Publish: (input: PublishCommandInput) => {
        published.push(input);
        return { MessageId: `message-${published.length}` };
      },
    };
  },
  xmlns: 'http://sns.amazonaws.com/doc/2010-03-31/',
  query: {
    Publish: {
      input: (p) => ({
        TopicArn: p.TopicArn,
        Subject: p.Subject,
        Message: p.Message,
        MessageAttributes: Object.fromEntries(
          list(p.MessageAttributes?.entry).map((entry: Out) => [
            entry.Name,
            { DataType: entry.Value?.DataType, StringValue: entry.Value?.StringValue },
          ]),
        ),
      }),
      output: (out) => text('MessageId', out.MessageId),
    },
  },
};
