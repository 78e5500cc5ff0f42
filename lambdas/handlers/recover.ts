/**
 * Recover Lambda, invoked by a person (`npm run recover -- <finding id> --deployed <stack>`), never by
 * the state machine: replaces the compromised pods and hosts of a confirmed incident from its record
 * (lambdas/recover/recover.ts) and publishes what it did.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { z } from 'zod';
import { awsClients } from '../clients/aws.js';
import { eksKubernetes } from '../clients/kubernetes.js';
import { namedCalls } from '../clients/named-calls.js';
import { IncidentStore } from '../incident/store.js';
import { clean } from '../notify/message.js';
import {
  describeRecovery,
  type RecoverPorts,
  type RecoverReport,
  recoverIncident,
} from '../recover/recover.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';

const RecoverInputSchema = z.strictObject({
  findingId: z.string().min(1),
  dryRun: z.boolean().default(false),
  /** Who asked, for the record: the CLI passes the caller's ARN. */
  requestedBy: z.string().min(1).default('unknown'),
});

export function recoverHandler(
  ports: RecoverPorts,
  sns: SNSClient,
  topicArn: string,
): (input: unknown) => Promise<RecoverReport> {
  return async (input) => {
    const parsed = RecoverInputSchema.safeParse(input);
    if (!parsed.success) throw new Error(`recover input is not valid: ${parsed.error.message}`);
    const report = await recoverIncident(parsed.data, ports);
    logger.info('recovered', { ...report });
    if (!report.dryRun) {
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: clean(`[guardduty-responder] ${report.state}: ${report.findingId}`, 100),
          Message: [...describeRecovery(report), `Requested by ${parsed.data.requestedBy}.`].join('\n'),
          MessageAttributes: { outcome: { DataType: 'String', StringValue: report.state } },
        }),
      );
    }
    return report;
  };
}

export const handler = lazyHandler(() => {
  const clients = awsClients();
  return recoverHandler(
    { ...clients, store: IncidentStore.fromEnvironment(), kubernetes: eksKubernetes(clients.eks) },
    namedCalls(new SNSClient({})),
    requireEnv('TOPIC_ARN'),
  );
});
