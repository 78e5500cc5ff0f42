/** The real handlers of every task state of the synthesized state machine, over the mocked clients. */
import { SNSClient } from '@aws-sdk/client-sns';
import { type TaskHandler, taskHandlers } from '../../bin/runner.js';
import { awsClients } from '../../lambdas/clients/aws.js';
import { eksKubernetes } from '../../lambdas/clients/kubernetes.js';
import type { RetryPolicy } from '../../lambdas/clients/retry.js';
import { ResponderSettingsSchema } from '../../lambdas/core/settings.js';
import { evidenceClients } from '../../lambdas/evidence/clients.js';
import type { IncidentStore } from '../../lambdas/incident/store.js';
import { RESPONDER } from './events.js';

export const TOPIC = 'arn:aws:sns:us-east-1:111122223333:responder';
export const EVIDENCE_BUCKET = 'responder-evidence';

/** The Kubernetes retry bound, shortened so that a test of an outage does not wait the real 12 s. */
export const FAST_RETRY: RetryPolicy = { budgetMs: 300, firstDelayMs: 10, maxDelayMs: 80 };

export function responderHandlers(
  settings: Record<string, unknown>,
  store: IncidentStore,
): Record<string, TaskHandler> {
  const clients = awsClients();
  return taskHandlers({
    settings: ResponderSettingsSchema.parse(settings),
    store,
    location: RESPONDER,
    clients,
    kubernetes: eksKubernetes(clients.eks, FAST_RETRY),
    evidence: { ...evidenceClients(), bucket: EVIDENCE_BUCKET, sleep: async () => {} },
    sns: new SNSClient({}),
    topicArn: TOPIC,
  });
}
