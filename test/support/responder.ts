/** The real handlers of every task state of the synthesized state machine, over the mocked clients. */
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { type Reach, reach } from '../../lambdas/clients/reach.js';
import type { RetryPolicy } from '../../lambdas/clients/retry.js';
import { evidenceClients } from '../../lambdas/evidence/clients.js';
import type { IncidentStore } from '../../lambdas/incident/store.js';
import type { FunctionName } from '../../lambdas/permissions.js';
import { ResponderSettingsSchema } from '../../lambdas/settings.js';
import { newMacKey } from '../../simulation/account.js';
import { localTokens } from '../../simulation/aws/kms.js';
import { HOST_OUTPUT_SUFFIX } from '../../simulation/aws/s3.js';
import { functionAccessKey } from '../../simulation/eks-token.js';
import { type TaskHandler, taskHandlers } from '../../simulation/runner.js';
import { RESPONDER } from './events.js';

export const TOPIC = 'arn:aws:sns:us-east-1:111122223333:responder';
export const EVIDENCE_BUCKET = 'responder-evidence';
export const HOST_OUTPUT_BUCKET = `responder${HOST_OUTPUT_SUFFIX}`;

/** The Kubernetes retry bound, shortened so that a test of an outage does not wait the real 12 s. */
export const FAST_RETRY: RetryPolicy = { budgetMs: 300, firstDelayMs: 10, maxDelayMs: 80 };

/**
 * How a function reaches the account in the tests: the mocked clients, signing its EKS tokens as its own
 * role, so an API server that authorizes by access entry (accessEntryAuthorizer) sees which function calls.
 */
export const reachAs = (fn: FunctionName, settings = ResponderSettingsSchema.parse({})): Reach =>
  reach({
    home: RESPONDER,
    settings,
    sessionName: fn,
    overrides: { credentials: { accessKeyId: functionAccessKey(fn), secretAccessKey: 'test' } },
    retry: FAST_RETRY,
  });

export function responderHandlers(
  settings: Record<string, unknown>,
  store: IncidentStore,
): Record<string, TaskHandler> {
  const parsed = ResponderSettingsSchema.parse(settings);
  return taskHandlers({
    settings: parsed,
    store,
    location: RESPONDER,
    reach: (fn) => reachAs(fn, parsed),
    evidence: {
      s3: evidenceClients().s3,
      bucket: EVIDENCE_BUCKET,
      hostOutput: HOST_OUTPUT_BUCKET,
      sleep: async () => {},
    },
    sns: new SNSClient({}),
    topicArn: TOPIC,
    tokens: localTokens(newMacKey('111122223333')),
    securityHub: (region) => new SecurityHubClient({ region }),
    // These tests are not about where a finding comes from (test/integration/not-a-way-in.test.ts is): GuardDuty holds
    // each finding exactly as its event says.
    findingSource: async (finding) => finding,
  });
}
