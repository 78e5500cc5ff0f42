/**
 * Release Lambda, invoked by a person (`npm run release -- <finding id> --deployed <stack>`), never by
 * the state machine: undoes an incident's containment from its record (lambdas/release/release.ts) and
 * publishes what it did.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { awsClients } from '../clients/aws.js';
import { eksKubernetes } from '../clients/kubernetes.js';
import { namedCalls } from '../clients/named-calls.js';
import { evidenceClients } from '../evidence/clients.js';
import { IncidentStore } from '../incident/store.js';
import { clean } from '../notify/message.js';
import {
  describeRelease,
  type ReleasePorts,
  type ReleaseReport,
  releaseIncident,
} from '../release/release.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';

const ReleaseInputSchema = z.strictObject({
  findingId: z.string().min(1),
  dryRun: z.boolean().default(false),
  /** Who asked, for the record: the CLI passes the caller's ARN. */
  requestedBy: z.string().min(1).default('unknown'),
});

export function releaseHandler(
  ports: ReleasePorts,
  sns: SNSClient,
  topicArn: string,
): (input: unknown) => Promise<ReleaseReport> {
  return async (input) => {
    const parsed = ReleaseInputSchema.safeParse(input);
    if (!parsed.success) throw new Error(`release input is not valid: ${parsed.error.message}`);
    const report = await releaseIncident(parsed.data, ports);
    logger.info('released', { ...report });
    if (!report.dryRun) {
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: clean(`[guardduty-responder] released: ${report.findingId}`, 100),
          Message: [...describeRelease(report), `Requested by ${parsed.data.requestedBy}.`].join('\n'),
          MessageAttributes: { outcome: { DataType: 'String', StringValue: 'released' } },
        }),
      );
    }
    return report;
  };
}

export const handler = lazyHandler(() => {
  const clients = awsClients();
  return releaseHandler(
    {
      ...clients,
      store: IncidentStore.fromEnvironment(),
      kubernetes: eksKubernetes(clients.eks),
      ssm: evidenceClients().ssm,
    },
    namedCalls(new SNSClient({})),
    requireEnv('TOPIC_ARN'),
  );
});
