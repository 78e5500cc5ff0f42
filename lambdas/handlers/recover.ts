/**
 * Recover Lambda, invoked by a person (`npm run recover -- <finding id> --deployed <stack>`), never by
 * the state machine: replaces the compromised pods and hosts of a confirmed incident from its record
 * (lambdas/recover/recover.ts) and publishes what it did.
 */

import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { type CallerCheck, stsCallers } from '../clients/caller-check.js';
import { namedCalls } from '../clients/named-calls.js';
import { evidenceClients } from '../evidence/clients.js';
import { bucketClosures } from '../incident/closures.js';
import { IncidentStore } from '../incident/store.js';
import { personRequestHandler } from '../notify/person-request.js';
import { lambdaSecurityHub } from '../notify/security-hub.js';
import {
  describeRecovery,
  type RecoverPorts,
  type RecoverReport,
  recoverIncident,
} from '../recover/recover.js';
import { reachFromEnvironment } from '../settings.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';

/** The recovery as a person asks it; the finding in Security Hub is RESOLVED once recovered. */
export const recoverHandler = (
  ports: RecoverPorts,
  sns: SNSClient,
  topicArn: string,
  callers: CallerCheck,
  hub?: (region: string) => SecurityHubClient,
): ((input: unknown) => Promise<RecoverReport>) =>
  personRequestHandler(
    'recover',
    (request) => recoverIncident(request, ports),
    describeRecovery,
    sns,
    topicArn,
    callers,
    hub && {
      hub,
      store: ports.store,
      status: (report) => (report.state === 'recovered' ? 'RESOLVED' : null),
    },
  );

export const handler = lazyHandler(() =>
  recoverHandler(
    {
      store: IncidentStore.fromEnvironment(),
      reach: reachFromEnvironment('recover'),
      closures: bucketClosures(evidenceClients().s3, requireEnv('EVIDENCE_BUCKET')),
    },
    namedCalls(new SNSClient({})),
    requireEnv('TOPIC_ARN'),
    stsCallers({ region: requireEnv('AWS_REGION') }),
    lambdaSecurityHub(),
  ),
);
