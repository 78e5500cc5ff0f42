/**
 * aws:revoke-iam. Takes the permissions away from a compromised identity, recording every removed
 * policy so it can be put back: detaches the role's managed policies and deletes its inline policies
 * (their documents are kept in the result). A role that pods or instances outside the incident also use
 * (a node group's role is shared by all its nodes) is not stripped by default, since that would break
 * them: the compromised instance's instance profile is disassociated instead, and a shared pod role is
 * reported for a person to decide. `revokeSharedRoles` strips shared roles anyway.
 */

import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DisassociateIamInstanceProfileCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import {
  AttachRolePolicyCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import { policyDocumentOf } from '../../clients/policy-document.js';
import {
  type ActionItem,
  type ActionResult,
  heldBack,
  item,
  skippedResult,
  unlessPlanned,
} from '../../core/action-result.js';
import type { ResponsePlan } from '../../core/plan.js';
import { REVOKE_SESSIONS_POLICY } from '../../core/quarantine.js';
import { roleLeftAlone } from '../../identify/identification.js';
import type { Identification, IdentifiedInstance, IdentifiedRole } from '../../identify/identify.js';
import { type Journal, journaled } from '../../incident/journal.js';
import { settle } from '../../shared/errors.js';

export type RevokeInput = { plan: ResponsePlan; identification: Identification };
export type RevokePorts = { iam: IAMClient; ec2: EC2Client };

/** A role's policies before containment, as recorded. */
export const RoleRecordSchema = z.strictObject({
  roleName: z.string().min(1),
  attachedPolicyArns: z.array(z.string().min(1)),
  inlinePolicies: z.array(z.strictObject({ name: z.string().min(1), document: z.string() })),
});
export type RoleRecord = z.infer<typeof RoleRecordSchema>;

const CREDENTIALS_CAVEAT =
  'credentials the instance already holds stay valid until they expire (up to a few hours); revoking the role sessions would also cut every other user of the role';

async function readRole(iam: IAMClient, roleName: string): Promise<RoleRecord> {
  const attachedPolicyArns: string[] = [];
  let Marker: string | undefined;
  do {
    const page = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName, Marker }));
    for (const policy of page.AttachedPolicies ?? [])
      if (policy.PolicyArn) attachedPolicyArns.push(policy.PolicyArn);
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  const inlinePolicies: RoleRecord['inlinePolicies'] = [];
  do {
    const page = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName, Marker }));
    for (const name of page.PolicyNames ?? []) {
      // The responder's own revocation of the role's sessions (revoke-sessions) is containment, not a
      // permission of the role: it stays, and release of its own entry removes it.
      if (name === REVOKE_SESSIONS_POLICY) continue;
      const policy = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
      inlinePolicies.push({ name, document: policyDocumentOf(policy.PolicyDocument) });
    }
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  return { roleName, attachedPolicyArns, inlinePolicies };
}

async function alreadyGoneIsDone(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof NoSuchEntityException)) throw error;
  }
}

/** Revocations count against the account's budget of roles (budget.ts); null: go on. */
const spendOnRole = (journal: Journal, account: string, target: string) =>
  journal.spend('revoke-iam', 'roles', `account ${account}`, target);

async function stripRole(
  iam: IAMClient,
  role: IdentifiedRole,
  account: string,
  journal: Journal,
): Promise<ActionItem> {
  const target = `role ${role.name}`;
  let current: RoleRecord;
  try {
    current = await readRole(iam, role.name);
  } catch (error) {
    if (error instanceof NoSuchEntityException) return item(target, 'skipped', 'the role no longer exists');
    throw error;
  }
  const held = await spendOnRole(journal, account, target);
  if (held) return heldBack(target, held);
  // The record is complete before the first change, so whatever happens next can be undone; after a crash
  // the retry keeps the first record and removes what is still there.
  return journaled(journal, { action: 'revoke-iam', cluster: null, target }, current, async (record) => {
    // Another execution for the same role may remove a policy between our read and our call: gone is done.
    for (const arn of current.attachedPolicyArns) {
      await alreadyGoneIsDone(iam.send(new DetachRolePolicyCommand({ RoleName: role.name, PolicyArn: arn })));
    }
    for (const policy of current.inlinePolicies) {
      await alreadyGoneIsDone(
        iam.send(new DeleteRolePolicyCommand({ RoleName: role.name, PolicyName: policy.name })),
      );
    }
    const after = await readRole(iam, role.name);
    const verified = after.attachedPolicyArns.length === 0 && after.inlinePolicies.length === 0;
    const detail =
      record.attachedPolicyArns.length + record.inlinePolicies.length === 0
        ? 'had no policies left'
        : `detached ${record.attachedPolicyArns.length} managed polic${record.attachedPolicyArns.length === 1 ? 'y' : 'ies'} (${record.attachedPolicyArns.join(', ') || 'none'}), deleted ${record.inlinePolicies.length} inline (${record.inlinePolicies.map((p) => p.name).join(', ') || 'none'})`;
    return { item: item(target, verified ? 'ok' : 'failed', detail, { verified, restore: record }) };
  });
}

async function currentAssociation(ec2: EC2Client, instanceId: string) {
  const answer = await ec2.send(
    new DescribeIamInstanceProfileAssociationsCommand({
      Filters: [{ Name: 'instance-id', Values: [instanceId] }],
    }),
  );
  return (answer.IamInstanceProfileAssociations ?? []).find(
    (association) => association.State === 'associated' || association.State === 'associating',
  );
}

/** An instance's profile association before containment, as recorded (null: there was none). */
export const ProfileBeforeSchema = z.strictObject({
  instanceId: z.string().min(1),
  instanceProfileArn: z.string().nullable(),
});
export type ProfileBefore = z.infer<typeof ProfileBeforeSchema>;

async function disassociateProfile(
  ec2: EC2Client,
  instance: IdentifiedInstance,
  role: IdentifiedRole,
  account: string,
  journal: Journal,
): Promise<ActionItem> {
  const target = `instance profile of ${instance.instanceId}`;
  const association = await currentAssociation(ec2, instance.instanceId);
  if (association?.AssociationId) {
    const held = await spendOnRole(journal, account, target);
    if (held) return heldBack(target, held);
  }
  const current: ProfileBefore = {
    instanceId: instance.instanceId,
    instanceProfileArn: association?.IamInstanceProfile?.Arn ?? null,
  };
  return journaled(journal, { action: 'revoke-iam', cluster: null, target }, current, async (before) => {
    if (!association?.AssociationId) {
      return {
        item: before.instanceProfileArn
          ? item(target, 'ok', `disassociated ${before.instanceProfileArn}`, {
              verified: true,
              restore: before,
            })
          : item(target, 'ok', 'no instance profile associated any more', { verified: true }),
      };
    }
    await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: association.AssociationId }));
    const verified = (await currentAssociation(ec2, instance.instanceId)) === undefined;
    const sharedWith = role.usedOutsideIncident?.join(', ') ?? 'users that could not be determined';
    const detail = `disassociated ${before.instanceProfileArn} (role ${role.name} is shared with ${sharedWith}, so it was left intact)`;
    return {
      item: item(target, verified ? 'ok' : 'failed', detail, {
        verified,
        caveats: [CREDENTIALS_CAVEAT],
        restore: before,
      }),
    };
  });
}

export async function revokeIam(
  input: RevokeInput,
  ports: RevokePorts,
  options: { revokeSharedRoles: boolean },
  journal: Journal,
): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'revoke-iam');
  if (notPlanned) return notPlanned;
  const { roles, instances } = input.identification;
  if (roles.length === 0) return skippedResult('revoke-iam', 'no IAM role was identified');

  const items: ActionItem[] = [];
  for (const role of roles) {
    const target = `role ${role.name}`;
    const decided = decideRole(role, input.plan, instances);
    if ('leftAlone' in decided) {
      items.push(item(target, 'skipped', decided.leftAlone));
      continue;
    }
    const { compromisedHosts, ownRole } = decided;
    const shared = role.usedOutsideIncident === null || role.usedOutsideIncident.length > 0;
    if (shared && !options.revokeSharedRoles) {
      const users =
        role.usedOutsideIncident === null
          ? 'users that could not be determined'
          : role.usedOutsideIncident.join(', ');
      for (const instance of compromisedHosts) {
        const done = await settle(() =>
          disassociateProfile(ports.ec2, instance, role, input.plan.finding.accountId, journal),
        );
        items.push(
          done.ok ? done.value : item(`instance profile of ${instance.instanceId}`, 'failed', done.error),
        );
      }
      if (ownRole) {
        items.push(
          item(
            target,
            'skipped',
            `left intact: also used by ${users}; set revokeSharedRoles to strip it anyway`,
            {
              caveats: ["the compromised workload keeps this role's permissions"],
            },
          ),
        );
      }
      continue;
    }
    const done = await settle(() => stripRole(ports.iam, role, input.plan.finding.accountId, journal));
    items.push(done.ok ? done.value : item(target, 'failed', done.error));
  }
  return { action: 'revoke-iam', skipped: null, items };
}

/**
 * Whether revoke-iam acts on a role, decided before anything is changed (a dry run names the same
 * roles): a role no action may change is left alone, and so is the instance-profile role of nodes that
 * merely run an affected pod. An instance-profile role is a compromised identity when the finding is
 * about the host itself (an EC2 finding).
 */
export function decideRole(
  role: IdentifiedRole,
  plan: ResponsePlan,
  instances: readonly IdentifiedInstance[],
): { leftAlone: string } | { compromisedHosts: IdentifiedInstance[]; ownRole: boolean } {
  const leftAlone = roleLeftAlone(role);
  if (leftAlone) return { leftAlone };
  const named = new Set(plan.targets.instanceIds);
  const compromisedHosts =
    plan.finding.resourceType === 'Instance'
      ? instances.filter(
          (instance) =>
            instance.role?.arn === role.arn &&
            named.has(instance.instanceId) &&
            instance.instanceProfileArn !== null &&
            instance.state !== 'terminated',
        )
      : [];
  const ownRole = role.sources.some((source) => source !== 'instance-profile');
  if (!ownRole && compromisedHosts.length === 0)
    return {
      leftAlone:
        'the instance-profile role of nodes that run the affected pods: the finding does not say the host is compromised',
    };
  return { compromisedHosts, ownRole };
}

/** Release of a role: every recorded managed policy attached again, every inline policy put back. */
export async function restoreRole(iam: IAMClient, before: RoleRecord): Promise<ActionItem> {
  const target = `role ${before.roleName}`;
  for (const arn of before.attachedPolicyArns) {
    await iam.send(new AttachRolePolicyCommand({ RoleName: before.roleName, PolicyArn: arn }));
  }
  for (const policy of before.inlinePolicies) {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: before.roleName,
        PolicyName: policy.name,
        PolicyDocument: policy.document,
      }),
    );
  }
  const after = await readRole(iam, before.roleName);
  const verified =
    before.attachedPolicyArns.every((arn) => after.attachedPolicyArns.includes(arn)) &&
    before.inlinePolicies.every((policy) =>
      after.inlinePolicies.some((p) => p.name === policy.name && p.document === policy.document),
    );
  return item(
    target,
    verified ? 'ok' : 'failed',
    `attached ${before.attachedPolicyArns.length} managed, put back ${before.inlinePolicies.length} inline`,
    { verified },
  );
}

/** Release of an instance profile: associated again, unless the instance has another one by now. */
export async function reassociateProfile(ec2: EC2Client, before: ProfileBefore): Promise<ActionItem> {
  const target = `instance profile of ${before.instanceId}`;
  const profile = before.instanceProfileArn;
  if (!profile) return item(target, 'skipped', 'had no instance profile before the incident');
  const current = await currentAssociation(ec2, before.instanceId);
  if (current && current.IamInstanceProfile?.Arn !== profile) {
    return item(
      target,
      'failed',
      `the instance has another profile now (${current.IamInstanceProfile?.Arn}); ${profile} was not associated`,
    );
  }
  if (!current) {
    await ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: before.instanceId,
        IamInstanceProfile: { Arn: profile },
      }),
    );
  }
  const verified = (await currentAssociation(ec2, before.instanceId))?.IamInstanceProfile?.Arn === profile;
  return item(target, verified ? 'ok' : 'failed', `associated ${profile} again`, { verified });
}
