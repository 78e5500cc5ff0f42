/**
 * Recover Lambda, invoked by a person (`npm run recover -- <finding id> --deployed <stack>`), never by
 * the state machine: replaces the compromised pods and hosts of a confirmed incident from its record
 * (lambdas/recover/recover.ts) and publishes what it did.
 */

import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
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
import type { WatchInput } from '../recover/watch.js';
import { reachFromEnvironment } from '../settings.js';
import { requireEnv } from '../shared/env.js';
import { messageOf } from '../shared/errors.js';
import { lazyHandler } from '../shared/handler.js';

/** The recovery as a person asks it; the finding in Security Hub is RESOLVED once recovered. */
export const recoverHandler = (
  ports: RecoverPorts,
  sns: SNSClient,
  topicArn: string,
  callers: CallerCheck,
  hub?: (region: string) => SecurityHubClient,
  /** Starts the RecoveryWatch state machine over the deleted pods still terminating. */
  startWatch?: (watch: WatchInput) => Promise<string>,
): ((input: unknown) => Promise<RecoverReport>) =>
  personRequestHandler(
    'recover',
    async (request) => {
      const report = await recoverIncident(request, ports);
      if (!report.watch || report.dryRun || !startWatch) return report;
      try {
        return { ...report, watching: `the RecoveryWatch state machine (${await startWatch(report.watch)})` };
      } catch (error) {
        return {
          ...report,
          watching: `not watched: the RecoveryWatch state machine did not start (${messageOf(error)})`,
        };
      }
    },
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
    async (watch) => {
      const { executionArn } = await namedCalls(new SFNClient({})).send(
        new StartExecutionCommand({
          stateMachineArn: requireEnv('WATCH_STATE_MACHINE_ARN'),
          name: `watch-${watch.findingId.slice(0, 40)}-${Date.now()}`,
          input: JSON.stringify(watch),
        }),
      );
      return executionArn ?? '';
    },
  ),
);
