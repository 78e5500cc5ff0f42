/**
 * What the release and recover Lambdas share: the person's request parsed at the edge, and the notice of
 * what was done, published to the responder's topic (not for a dry run).
 */
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type CallerCheck, checkedRequest } from '../clients/caller-check.js';
import type { PersonRequest } from '../incident/record.js';
import type { Seal } from '../incident/signature.js';
import type { IncidentStore } from '../incident/store.js';
import { messageOf } from '../shared/errors.js';
import { logger } from '../shared/logger.js';
import { clean } from './message.js';
import { noteInSecurityHub, type WorkflowStatus } from './security-hub.js';

/** How the end of an incident shows in Security Hub: the workflow status its report earns, if any. */
export type SecurityHubEnd<Report> = {
  hub: (region: string) => SecurityHubClient;
  store: IncidentStore;
  status: (report: Report) => WorkflowStatus | null;
};

/** Notes the release or recovery on the finding in Security Hub; the line for the notice. */
async function noteEnd<Report extends PersonReport>(
  end: SecurityHubEnd<Report>,
  command: string,
  report: Report,
  requestedBy: string,
): Promise<string> {
  let finding: { arn?: string; region?: string };
  let seal: Seal;
  try {
    const { record, seal: sealed } = await end.store.sealed(report.findingId);
    finding = JSON.parse(record.finding.json ?? '{}');
    seal = sealed;
  } catch (error) {
    return `Security Hub: the finding could not be read from the incident record (${messageOf(error)})`;
  }
  if (!finding.arn || !finding.region) return 'Security Hub: the record holds no finding ARN: nothing noted';
  // Only the finding the signed header names: the record's copy of the finding is not signed.
  const own = `:guardduty:${seal.region}:${seal.accountId}:detector/`;
  if (!finding.arn.includes(own) || !finding.arn.endsWith(`/finding/${seal.findingId}`))
    return `Security Hub: the record's finding ARN ${finding.arn} is not of finding ${seal.findingId} in ${seal.accountId} ${seal.region}: nothing noted`;
  return noteInSecurityHub(
    end.hub(finding.region),
    { arn: finding.arn, region: finding.region },
    `guardduty-responder: ${command} requested by ${requestedBy}; the incident is ${report.state}.`,
    end.status(report),
  );
}

/** A release or recovery as it ended: the incident's state is the notice's `outcome` attribute. */
type PersonReport = { findingId: string; dryRun: boolean; state: string };

export function personRequestHandler<Report extends PersonReport>(
  command: 'release' | 'recover',
  run: (request: PersonRequest) => Promise<Report>,
  describe: (report: Report) => string[],
  sns: SNSClient,
  topicArn: string,
  /** Who asked, as STS authenticates it (lambdas/clients/caller.ts). */
  callers: CallerCheck,
  securityHub?: SecurityHubEnd<Report>,
): (input: unknown) => Promise<Report> {
  return async (input) => {
    const request = await checkedRequest(command, input, callers);
    const report = await run(request);
    logger.info(command, { ...report });
    if (!report.dryRun) {
      const hubLine = securityHub ? await noteEnd(securityHub, command, report, request.requestedBy) : null;
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: clean(`[guardduty-responder] ${command}: ${report.state}: ${report.findingId}`, 100),
          Message: [
            ...describe(report),
            `Requested by ${request.requestedBy}${request.countersignedBy ? `, countersigned by ${request.countersignedBy}` : ''}.`,
            ...(hubLine ? [hubLine] : []),
          ].join('\n'),
          MessageAttributes: { outcome: { DataType: 'String', StringValue: report.state } },
        }),
      );
    }
    return report;
  };
}
