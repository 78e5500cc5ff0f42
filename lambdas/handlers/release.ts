/**
 * Release Lambda, invoked by a person (`npm run release -- <finding id> --deployed <stack>`), never by
 * the state machine: undoes an incident's containment from its record (lambdas/release/release.ts) and
 * publishes what it did.
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
  describeRelease,
  type ReleasePorts,
  type ReleaseReport,
  releaseIncident,
} from '../release/release.js';
import { reachFromEnvironment, settingsFromEnvironment } from '../settings.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';

/**
 * The release as a person asks it; the finding in Security Hub is noted, and SUPPRESSED once released
 * only when `securityHub.suppressOnRelease` says so (a false positive is not a resolved incident).
 */
export const releaseHandler = (
  ports: ReleasePorts,
  sns: SNSClient,
  topicArn: string,
  callers: CallerCheck,
  hub?: (region: string) => SecurityHubClient,
  options: { suppressOnRelease: boolean } = { suppressOnRelease: false },
): ((input: unknown) => Promise<ReleaseReport>) =>
  personRequestHandler(
    'release',
    (request) => releaseIncident(request, ports),
    describeRelease,
    sns,
    topicArn,
    callers,
    hub && {
      hub,
      store: ports.store,
      status: (report) => (report.state === 'released' && options.suppressOnRelease ? 'SUPPRESSED' : null),
    },
  );

export const handler = lazyHandler(() =>
  releaseHandler(
    {
      store: IncidentStore.fromEnvironment(),
      reach: reachFromEnvironment('release'),
      closures: bucketClosures(evidenceClients().s3, requireEnv('EVIDENCE_BUCKET')),
      secondPerson: settingsFromEnvironment().settings.secondPerson,
    },
    namedCalls(new SNSClient({})),
    requireEnv('TOPIC_ARN'),
    stsCallers({ region: requireEnv('AWS_REGION') }),
    lambdaSecurityHub(),
    settingsFromEnvironment().settings.securityHub,
  ),
);
