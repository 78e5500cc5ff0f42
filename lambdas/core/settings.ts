/**
 * What the deployer decides about the response, shared by the CDK config (bin/) and the Lambdas, which
 * receive it as the RESPONDER_SETTINGS environment variable. One schema, so the two cannot drift.
 */
import { z } from 'zod';
import { ACTIONS } from './actions.js';
import { DEFAULT_PLAYBOOK, PlaybookSchema } from './playbook.js';

export const SeverityRangeSchema = z
  .strictObject({
    /** Lowest severity that starts a response (inclusive). */
    atLeast: z.number().min(0).max(10).default(4),
    /** Severities from here up do not start a response; null means no upper bound. */
    below: z.number().gt(0).max(11).nullable().default(9),
  })
  .refine((range) => range.below === null || range.below > range.atLeast, {
    message: 'severity.below must be greater than severity.atLeast',
  });
export type SeverityRange = z.infer<typeof SeverityRangeSchema>;

export const inSeverityRange = (severity: number, range: SeverityRange): boolean =>
  severity >= range.atLeast && (range.below === null || severity < range.below);

export const describeSeverityRange = (range: SeverityRange): string =>
  range.below === null
    ? `${range.atLeast} and above`
    : `${range.atLeast} up to but not including ${range.below}`;

export const ResponderSettingsSchema = z.strictObject({
  /** Findings in this range start a response (the EventBridge rule); others are reported only. */
  severity: SeverityRangeSchema.default({ atLeast: 4, below: 9 }),
  /** EKS clusters the responder may act on; findings on other clusters are identified and reported only. */
  clusters: z.array(z.string().min(1)).default([]),
  enabledActions: z.array(z.enum(ACTIONS)).default([...ACTIONS]),
  /** GuardDuty sample findings are planned and reported but change nothing unless this is true. */
  actOnSampleFindings: z.boolean().default(false),
  playbook: PlaybookSchema.default(DEFAULT_PLAYBOOK),
  /**
   * Stronger isolation: also remove a quarantined pod's own labels (kept on the pod in an annotation for
   * release), so that no other NetworkPolicy that allows traffic selects it. The pod leaves its Services
   * and its controller starts a clean replacement.
   */
  stripPodLabels: z.boolean().default(false),
  /** Strip the policies of a role that pods or instances outside the incident also use. */
  revokeSharedRoles: z.boolean().default(false),
  /** Plan, identify and notify, changing nothing: every planned action is held back. */
  dryRun: z.boolean().default(false),
});

export type ResponderSettings = z.infer<typeof ResponderSettingsSchema>;

/** The key, beside the event in an execution's input, under which a replay passes its options. */
export const EXECUTION_OPTIONS_KEY = 'guardduty-responder';
