/**
 * Release Lambda, invoked by a person (`npm run release -- <finding id> --deployed <stack>`), never by
 * the state machine: undoes an incident's containment from its record (lambdas/release/release.ts) and
 * publishes what it did.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { namedCalls } from '../clients/named-calls.js';
import { reachFromEnvironment } from '../clients/reach.js';
import { IncidentStore } from '../incident/store.js';
import { personRequestHandler } from '../notify/person-request.js';
import {
  describeRelease,
  type ReleasePorts,
  type ReleaseReport,
  releaseIncident,
} from '../release/release.js';
import { requireEnv } from '../shared/env.js';
import { lazyHandler } from '../shared/handler.js';

export const releaseHandler = (
  ports: ReleasePorts,
  sns: SNSClient,
  topicArn: string,
): ((input: unknown) => Promise<ReleaseReport>) =>
  personRequestHandler(
    'release',
    (request) => releaseIncident(request, ports),
    describeRelease,
    sns,
    topicArn,
  );

export const handler = lazyHandler(() =>
  releaseHandler(
    { store: IncidentStore.fromEnvironment(), reach: reachFromEnvironment('release') },
    namedCalls(new SNSClient({})),
    requireEnv('TOPIC_ARN'),
  ),
);
