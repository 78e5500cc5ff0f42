/**
 * The playbook: which containment actions a finding type gets. It is data: the deployer can replace it in
 * `cdk.json`. Rules are tried in order; the first whose patterns match the finding type wins. A pattern is
 * a finding type in which `*` stands for any run of characters.
 */
import { z } from 'zod';
import type { ActionSpec, DefaultRule } from './action-spec.js';

/** The names of the registered actions (lambdas/actions/registry.ts), the only ones a playbook may name. */
export type ActionNames = readonly [string, ...string[]];

export const playbookSchema = (names: ActionNames) =>
  z
    .array(
      z.strictObject({
        name: z.string().min(1),
        description: z.string().optional(),
        match: z.array(z.string().min(1)).min(1),
        actions: z.array(z.enum(names)),
      }),
    )
    .min(1)
    .refine((rules) => rules.some((rule) => rule.match.includes('*')), {
      message: 'the playbook needs a last rule matching "*" so that every finding type has a rule',
    });

export type Playbook = z.infer<ReturnType<typeof playbookSchema>>;
export type PlaybookRule = Playbook[number];

/** The default playbook's rules; each action's spec says which of them run it (`defaultRules`). */
const DEFAULT_RULES: (Omit<PlaybookRule, 'actions'> & { name: DefaultRule | 'report-only' })[] = [
  {
    name: 'role-credentials-used-elsewhere',
    description:
      "A role's temporary credentials are used by someone else: revoke the sessions issued so far, leave the role's policies to its other users.",
    match: [
      'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.*',
      'UnauthorizedAccess:IAMUser/*',
      'CredentialAccess:IAMUser/*',
      'Exfiltration:IAMUser/*',
      'Impact:IAMUser/*',
      'Persistence:IAMUser/*',
      'PrivilegeEscalation:IAMUser/*',
      'DefenseEvasion:IAMUser/*',
      'AttackSequence:IAM/*',
    ],
  },
  {
    name: 'workload-or-host-compromise',
    description: 'Code running in a pod or on a host is compromised: contain it and keep the evidence.',
    match: [
      'Execution:*',
      'Persistence:*',
      'PrivilegeEscalation:*',
      'CryptoCurrency:*',
      'DefenseEvasion:*',
      'Backdoor:*',
      'Trojan:*',
      'Impact:*',
      'UnauthorizedAccess:EC2/*',
      'AttackSequence:EKS/*',
      'AttackSequence:EC2/*',
    ],
  },
  {
    name: 'report-only',
    description: 'Policy, discovery and other findings: identify what is involved and notify.',
    match: ['*'],
  },
];

/** The default playbook: its rules, each with the registered actions that name it, in registry order. */
export const defaultPlaybook = (specs: readonly ActionSpec[]): Playbook =>
  DEFAULT_RULES.map((rule) => ({
    ...rule,
    actions: specs
      .filter((spec) => (spec.defaultRules as readonly string[]).includes(rule.name))
      .map((spec) => spec.name),
  }));

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/!]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

export function ruleFor(playbook: Playbook, findingType: string): PlaybookRule {
  const rule = playbook.find((candidate) =>
    candidate.match.some((p) => patternToRegExp(p).test(findingType)),
  );
  // PlaybookSchema guarantees a catch-all rule; a playbook built in code without one is a programming error.
  if (!rule) throw new Error(`the playbook has no rule for finding type ${findingType}`);
  return rule;
}
