/**
 * Recovery-watch Lambda, the one task of the RecoveryWatch state machine (lib/recovery-watch.ts): checks
 * the pods a recovery deleted (lambdas/recover/watch.ts); the state machine waits and calls it again
 * until they are gone, held, or the bound passed, and it publishes what it found once, then.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { namedCalls } from '../clients/named-calls.js';
import type { Reach } from '../clients/reach.js';
import { clean } from '../notify/message.js';
import { checkPods, describeWatch, type WatchResult } from '../recover/watch.js';
import { reachFromEnvironment } from '../settings.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';

const WatchInputSchema = z.looseObject({
  findingId: z.string().regex(/^[0-9a-zA-Z_-]{1,128}$/),
  location: z.strictObject({ accountId: z.string().regex(/^\d{12}$/), region: z.string().min(1) }),
  pods: z
    .array(
      z.strictObject({ cluster: z.string().min(1), namespace: z.string().min(1), pod: z.string().min(1) }),
    )
    .max(500),
  until: z.string().datetime(),
});

export const recoveryWatchHandler =
  (reach: Reach, sns: SNSClient, topicArn: string, now: () => Date = () => new Date()) =>
  async (input: unknown): Promise<WatchResult> => {
    const { findingId, location, pods, until } = WatchInputSchema.parse(input);
    const result = await checkPods({ findingId, location, pods, until }, reach(location).kubernetes, now());
    if (result.done)
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: clean(`[guardduty-responder] recovery watched: ${findingId}`, 100),
          Message: describeWatch(result).join('\n'),
        }),
      );
    return result;
  };

export const handler = lazyHandler(() =>
  recoveryWatchHandler(
    reachFromEnvironment('recovery-watch'),
    namedCalls(new SNSClient({})),
    requireEnv('TOPIC_ARN'),
  ),
);
