/**
 * Security Hub custom actions (lib/security-hub-actions.ts): an analyst selects findings in Security Hub
 * and picks "Contain" or "Dry run"; EventBridge delivers a "Security Hub Findings - Custom Action" event
 * with the selected findings in ASFF. Pure: which GuardDuty findings (detector and id, from each
 * finding's ARN) a response is asked for, and which selected findings are not GuardDuty's, with why. The
 * handler reads each from GuardDuty before it starts anything, as Identify reads every finding back.
 */
import { z } from 'zod';

/** The custom actions the stack makes: their ids (the last part of the action target's ARN). */
export const CUSTOM_ACTIONS = {
  contain: { id: 'GdrContain', name: 'Contain', dryRun: false },
  dryRun: { id: 'GdrDryRun', name: 'Dry run', dryRun: true },
} as const;

const AsffFindingSchema = z.looseObject({
  Id: z.string(),
  ProductArn: z.string(),
  AwsAccountId: z.string().regex(/^\d{12}$/),
  Region: z.string().optional(),
});

export const CustomActionEventSchema = z.looseObject({
  source: z.literal('aws.securityhub'),
  'detail-type': z.literal('Security Hub Findings - Custom Action'),
  resources: z.array(z.string()).min(1),
  detail: z.looseObject({
    actionName: z.string(),
    findings: z.array(AsffFindingSchema),
  }),
});
export type CustomActionEvent = z.infer<typeof CustomActionEventSchema>;

/** A GuardDuty finding a person asked a response for. */
export type Requested = { findingId: string; detectorId: string; accountId: string; region: string };

const GUARDDUTY_FINDING =
  /^arn:aws[a-z-]*:guardduty:([a-z0-9-]+):(\d{12}):detector\/([0-9a-f]+)\/finding\/([0-9a-f]+)$/;

/**
 * The GuardDuty findings of a custom action event, whether it asks a dry run, and what it selected that
 * is not a GuardDuty finding. An event of another action than the stack's is refused whole.
 */
export function requestedFindings(event: CustomActionEvent): {
  action: (typeof CUSTOM_ACTIONS)[keyof typeof CUSTOM_ACTIONS];
  requests: Requested[];
  refused: string[];
} {
  const actionId = event.resources[0]?.split('/').at(-1);
  const action = Object.values(CUSTOM_ACTIONS).find((candidate) => candidate.id === actionId);
  if (!action) throw new Error(`not a custom action of this responder: ${event.resources[0]}`);
  const requests: Requested[] = [];
  const refused: string[] = [];
  for (const finding of event.detail.findings) {
    const arn = GUARDDUTY_FINDING.exec(finding.Id);
    if (!finding.ProductArn.endsWith(':product/aws/guardduty') || !arn) {
      refused.push(
        `${finding.Id}: not a GuardDuty finding (${finding.ProductArn}); only GuardDuty findings are answered`,
      );
      continue;
    }
    const [, region = '', accountId = '', detectorId = '', findingId = ''] = arn;
    if (accountId !== finding.AwsAccountId) {
      refused.push(`${finding.Id}: its ARN names account ${accountId}, the finding ${finding.AwsAccountId}`);
      continue;
    }
    if (!requests.some((r) => r.findingId === findingId))
      requests.push({ findingId, detectorId, accountId, region });
  }
  return { action, requests, refused };
}
