/**
 * Security-hub-intake Lambda: a Security Hub custom action ("Contain", "Dry run") on selected findings
 * starts one response each through the same state machine. Each GuardDuty finding is read from GuardDuty
 * first (in its account and region, through the member role there) and the response starts with the
 * finding as GuardDuty holds it, never as the event says; Identify reads it back again. What is not a
 * GuardDuty finding, or not held by GuardDuty any more, is refused with why; nothing fails the others.
 */
import { randomUUID } from 'node:crypto';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { AwsReader } from '../clients/aws.js';
import { namedCalls } from '../clients/named-calls.js';
import type { Reach } from '../clients/reach.js';
import { EXECUTION_OPTIONS_KEY } from '../core/settings.js';
import { CustomActionEventSchema, requestedFindings } from '../intake/security-hub.js';
import { reachFromEnvironment } from '../settings.js';
import { requireEnv } from '../shared/env.js';
import { messageOf } from '../shared/errors.js';
import { lazyHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';

export type IntakeReport = {
  action: string;
  dryRun: boolean;
  started: { findingId: string; executionArn: string }[];
  refused: string[];
};

export const securityHubIntakeHandler =
  (reach: Reach, sfn: SFNClient, stateMachineArn: string, now: () => Date = () => new Date()) =>
  async (input: unknown): Promise<IntakeReport> => {
    const parsed = CustomActionEventSchema.safeParse(input);
    if (!parsed.success)
      throw new Error(
        `not a Security Hub custom action event: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      );
    const { action, requests, refused } = requestedFindings(parsed.data);
    const report: IntakeReport = { action: action.name, dryRun: action.dryRun, started: [], refused };
    for (const request of requests) {
      const { findingId, detectorId, accountId, region } = request;
      try {
        const held = await new AwsReader(reach({ accountId, region })).heldFinding(detectorId, findingId);
        if (!held) {
          report.refused.push(
            `${findingId}: GuardDuty holds no such finding (archived or deleted): nothing started`,
          );
          continue;
        }
        const { executionArn } = await sfn.send(
          new StartExecutionCommand({
            stateMachineArn,
            name: `securityhub-${findingId.slice(0, 40)}-${now().getTime()}`,
            input: JSON.stringify({
              version: '0',
              id: randomUUID(),
              'detail-type': 'GuardDuty Finding',
              source: 'aws.guardduty',
              account: accountId,
              time: now().toISOString(),
              region,
              resources: [],
              detail: held,
              [EXECUTION_OPTIONS_KEY]: {
                dryRun: action.dryRun,
                requestedFrom: `Security Hub custom action "${action.name}"`,
              },
            }),
          }),
        );
        report.started.push({ findingId, executionArn: executionArn ?? '' });
      } catch (error) {
        report.refused.push(`${findingId}: ${messageOf(error)}: nothing started`);
      }
    }
    logger.info('security hub custom action', { ...report });
    return report;
  };

export const handler = lazyHandler(() =>
  securityHubIntakeHandler(
    reachFromEnvironment('security-hub-intake'),
    namedCalls(new SFNClient({})),
    requireEnv('STATE_MACHINE_ARN'),
  ),
);
