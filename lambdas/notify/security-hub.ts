/**
 * Security Hub, where analysts already look: the GuardDuty finding there gets a note with the outcome and
 * the incident id (BatchUpdateFindings), and its workflow status follows the incident: NOTIFIED once
 * something is contained, RESOLVED when it is recovered, SUPPRESSED on the release of a false positive
 * only when the configuration says so. An account without Security Hub gets a line in the notification,
 * not a failure: the response does not depend on it.
 */
import {
  BatchUpdateFindingsCommand,
  InvalidAccessException,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { namedCalls } from '../clients/named-calls.js';
import { partitionOf } from '../clients/reach.js';
import { messageOf } from '../shared/errors.js';

/** Security Hub's limit on a note's text. */
export const NOTE_LIMIT = 512;

export type WorkflowStatus = 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED';

/** The GuardDuty finding as Security Hub names it: its ARN, under GuardDuty's product in its region. */
export type SecurityHubFinding = { arn: string; region: string };

/** The BatchUpdateFindings input for one finding: the note (cut at its limit) and any status. */
export function findingUpdate(finding: SecurityHubFinding, note: string, status: WorkflowStatus | null) {
  return {
    FindingIdentifiers: [
      {
        Id: finding.arn,
        ProductArn: `arn:${partitionOf(finding.region)}:securityhub:${finding.region}::product/aws/guardduty`,
      },
    ],
    Note: {
      Text: note.length > NOTE_LIMIT ? `${note.slice(0, NOTE_LIMIT - 1)}…` : note,
      UpdatedBy: 'guardduty-responder',
    },
    ...(status ? { Workflow: { Status: status } } : {}),
  };
}

/** Updates the finding in Security Hub; returns the notification's line saying what happened. */
export async function noteInSecurityHub(
  securityHub: SecurityHubClient,
  finding: SecurityHubFinding,
  note: string,
  status: WorkflowStatus | null,
): Promise<string> {
  const what = status ? `noted, workflow status ${status}` : 'noted';
  try {
    const answer = await securityHub.send(
      new BatchUpdateFindingsCommand(findingUpdate(finding, note, status)),
    );
    const unprocessed = answer.UnprocessedFindings?.[0];
    if (unprocessed)
      return `Security Hub: the finding was not updated (${unprocessed.ErrorCode}: ${unprocessed.ErrorMessage})`;
    return `Security Hub: ${what} on the finding in ${finding.region}`;
  } catch (error) {
    if (error instanceof InvalidAccessException)
      return `Security Hub: not enabled in ${finding.region} for this account: nothing noted`;
    return `Security Hub: the finding could not be updated (${messageOf(error)})`;
  }
}

/**
 * Security Hub as the Lambdas reach it, a client per region: each call bounded (3 s to connect, 5 s for
 * the answer, 3 attempts), so that a Security Hub that does not answer delays the notification by
 * seconds and never makes its function time out before it publishes.
 */
export const lambdaSecurityHub = () =>
  securityHubClients((region) =>
    namedCalls(
      new SecurityHubClient({
        region,
        maxAttempts: 3,
        requestHandler: { connectionTimeout: 3000, requestTimeout: 5000 },
      }),
    ),
  );

/** A Security Hub client per region, made once. */
export function securityHubClients(make: (region: string) => SecurityHubClient) {
  const clients = new Map<string, SecurityHubClient>();
  return (region: string) => {
    const known = clients.get(region) ?? make(region);
    clients.set(region, known);
    return known;
  };
}
