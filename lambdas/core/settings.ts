/**
 * What the deployer decides about the response, shared by the CDK config (bin/) and the Lambdas, which
 * receive it as the RESPONDER_SETTINGS environment variable. One schema, so the two cannot drift.
 */
import { z } from 'zod';
import { ACTIONS } from './actions.js';
import { DEFAULT_PLAYBOOK, PlaybookSchema } from './playbook.js';

export const ResponderSettingsSchema = z.strictObject({
  /** EKS clusters the responder may act on; findings on other clusters are identified and reported only. */
  clusters: z.array(z.string().min(1)).default([]),
  enabledActions: z.array(z.enum(ACTIONS)).default([...ACTIONS]),
  /** GuardDuty sample findings are planned and reported but change nothing unless this is true. */
  actOnSampleFindings: z.boolean().default(false),
  playbook: PlaybookSchema.default(DEFAULT_PLAYBOOK),
});

export type ResponderSettings = z.infer<typeof ResponderSettingsSchema>;
