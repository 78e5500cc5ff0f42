/** The real handlers of every task state of the synthesized state machine, over the mocked clients. */
import { EKSClient } from '@aws-sdk/client-eks';
import { SNSClient } from '@aws-sdk/client-sns';
import { type TaskHandler, taskHandlers } from '../../bin/runner.js';
import { functionAccessKey } from '../../bin/simulation/eks-token.js';
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
    // Each function signs its EKS tokens as its own role, so an API server that authorizes by access entry
    // (accessEntryAuthorizer) sees which function calls.
    kubernetes: (fn) =>
      eksKubernetes(
        new EKSClient({ credentials: { accessKeyId: functionAccessKey(fn), secretAccessKey: 'test' } }),
        FAST_RETRY,
      ),
    evidence: { ...evidenceClients(), bucket: EVIDENCE_BUCKET, sleep: async () => {} },
    sns: new SNSClient({}),
    topicArn: TOPIC,
  });
}
