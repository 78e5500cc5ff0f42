/**
 * The deployer's configuration schema: the `guardduty-responder` key of the `cdk.json` context (bin/
 * reads it), validated once and passed down as typed props. Nothing in lib/ reads context or the
 * environment.
 */
import { z } from 'zod';
import type { ResponderSettings } from '../lambdas/core/settings.js';
import { ResponderSettingsSchema } from '../lambdas/settings.js';

export type { SeverityRange } from '../lambdas/core/settings.js';

/** The retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const ResponderConfigSchema = ResponderSettingsSchema.extend({
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
    .default('GuardDutyResponder'),
  notificationEmail: z.email().optional(),
  /** A second topic for Amazon Q Developer in chat applications, with the chat format of each notification. */
  chatNotifications: z.boolean().default(false),
  /**
   * The account and region the responder is deployed to (by default the CLI's): required with members,
   * whose MemberAccess roles trust the responder's roles by ARN, and with regions, whose intake stacks
   * forward findings to this region.
   */
  account: z
    .string()
    .regex(/^\d{12}$/, { message: 'an AWS account id is 12 digits' })
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'not an AWS region name' })
    .optional(),
  /** Run the Lambdas in these subnets, for clusters whose API endpoint is private. */
  vpc: z
    .strictObject({
      vpcId: z.string().regex(/^vpc-[0-9a-f]+$/),
      subnets: z
        .array(
          z.strictObject({ subnetId: z.string().regex(/^subnet-[0-9a-f]+$/), availabilityZone: z.string() }),
        )
        .min(1),
      securityGroupIds: z.array(z.string().regex(/^sg-[0-9a-f]+$/)).min(1),
    })
    .optional(),
  /**
   * Roles no responder function may strip, deny or give policies to (an explicit Deny), besides its own,
   * the CDK bootstrap roles, OrganizationAccountAccessRole and IAM Identity Center's: role names, `*`
   * matching any run of characters (a break-glass role, the security team's).
   */
  neverTouchRoles: z
    .array(z.string().regex(/^[\w+=,.@*-]{1,64}$/, { message: 'a role name, `*` allowed' }))
    .default([]),
  logRetentionDays: z
    .number()
    .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
      message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
    })
    .default(365),
}).superRefine((config, context) => {
  if (config.members.length > 0 && config.externalId === null)
    context.addIssue({
      code: 'custom',
      path: ['externalId'],
      message: 'externalId is required with members: the MemberAccess roles trust the responder only with it',
    });
  for (const field of ['account', 'region'] as const) {
    if ((config.members.length > 0 || config.regions.length > 0) && config[field] === undefined)
      context.addIssue({
        code: 'custom',
        path: [field],
        message: `${field} is required with members and regions: the member and intake stacks name the responder's`,
      });
  }
  if (config.region && config.regions.includes(config.region))
    context.addIssue({
      code: 'custom',
      path: ['regions'],
      message: `regions lists the responder's own region ${config.region}: list only the others`,
    });
});

export type ResponderConfig = z.infer<typeof ResponderConfigSchema>;
export type VpcPlacement = NonNullable<ResponderConfig['vpc']>;

export const CONTEXT_KEY = 'guardduty-responder';

export function parseConfig(context: unknown): ResponderConfig {
  const result = ResponderConfigSchema.safeParse(context ?? {});
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${[CONTEXT_KEY, ...issue.path].join('.')}: ${issue.message}`,
    );
    throw new Error(`invalid configuration in cdk.json context:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

/** The part of the configuration the Lambdas receive (RESPONDER_SETTINGS). */
export const settingsOf = (config: ResponderConfig): ResponderSettings =>
  z.object(ResponderSettingsSchema.shape).parse(config);
