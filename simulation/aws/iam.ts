/** IAM: roles with managed and inline policies and their trust policy, instance profiles. The AWS query protocol; errors by code (NoSuchEntity). */
import { createHash } from 'node:crypto';
import {
  type AttachRolePolicyCommandInput,
  type DeleteRolePolicyCommandInput,
  type DetachRolePolicyCommandInput,
  type GetInstanceProfileCommandInput,
  type GetRoleCommandInput,
  type GetRolePolicyCommandInput,
  type ListAttachedRolePoliciesCommandInput,
  type ListRolePoliciesCommandInput,
  NoSuchEntityException,
  type PutRolePolicyCommandInput,
} from '@aws-sdk/client-iam';
import { instanceOfHostKey } from './function-keys.js';
import { type AccountState, EC2_TRUST, profileArn, roleArn } from './state.js';
import { el, escapeXml, members, type Out, type SimulatedService, text } from './wire.js';

/** A role's unique id as IAM gives it (`AROA…`): the same for the same name. */
export const roleIdOf = (roleName: string): string =>
  `AROA${createHash('sha256').update(roleName).digest('hex').slice(0, 17).toUpperCase()}`;

/**
 * The `aws:userid` of an instance's role session, `<role id>:<instance id>`, as EC2 names the session its
 * instance profile gives it; null when it runs with no profile.
 */
export function instanceUserId(account: AccountState, instanceId: string): string | null {
  const profile = account.profileOf(instanceId)?.split('/').at(-1);
  const roleName = profile ? account.account.instanceProfiles?.[profile] : undefined;
  return roleName ? `${roleIdOf(roleName)}:${instanceId}` : null;
}

/** The `aws:userid` of a request signed with a host's credentials (function-keys.ts); null for anyone else. */
export function hostUserId(account: AccountState, accessKeyId: string | undefined): string | null {
  const instanceId = instanceOfHostKey(accessKeyId ?? '');
  if (!instanceId) return null;
  return instanceUserId(account, instanceId) ?? `no-role:${instanceId}`;
}
export const iam: SimulatedService = {
  operations: (s) => {
    const { account, accountId, role } = s;
    return {
      GetInstanceProfile: (input: GetInstanceProfileCommandInput) => {
        const roleName = account.instanceProfiles?.[input.InstanceProfileName ?? ''];
        if (!roleName)
          throw new NoSuchEntityException({ message: 'Instance Profile not found', $metadata: {} });
        return {
          InstanceProfile: {
            InstanceProfileName: input.InstanceProfileName,
            Arn: profileArn(input.InstanceProfileName ?? '', accountId),
            Roles: [{ RoleName: roleName, Arn: roleArn(roleName, accountId), RoleId: roleIdOf(roleName) }],
          },
        };
      },
      ListAttachedRolePolicies: (input: ListAttachedRolePoliciesCommandInput) => ({
        AttachedPolicies: role(input.RoleName).attached.map((arn) => ({
          PolicyArn: arn,
          PolicyName: arn.split('/').pop(),
        })),
        IsTruncated: false,
      }),
      ListRolePolicies: (input: ListRolePoliciesCommandInput) => ({
        PolicyNames: Object.keys(role(input.RoleName).inline),
        IsTruncated: false,
      }),
      GetRole: (input: GetRoleCommandInput) => {
        role(input.RoleName);
        const name = input.RoleName ?? '';
        return {
          Role: {
            RoleName: name,
            Arn: roleArn(name, accountId),
            AssumeRolePolicyDocument: encodeURIComponent(account.roles?.[name]?.trust ?? EC2_TRUST),
          },
        };
      },
      GetRolePolicy: (input: GetRolePolicyCommandInput) => {
        const document = role(input.RoleName).inline[input.PolicyName ?? ''];
        if (document === undefined)
          throw new NoSuchEntityException({ message: 'policy not found', $metadata: {} });
        return {
          RoleName: input.RoleName,
          PolicyName: input.PolicyName,
          PolicyDocument: account.policyDocuments === 'raw' ? document : encodeURIComponent(document),
        };
      },
      DetachRolePolicy: (input: DetachRolePolicyCommandInput) => {
        const target = role(input.RoleName);
        if (!target.attached.includes(input.PolicyArn ?? ''))
          throw new NoSuchEntityException({ message: 'not attached', $metadata: {} });
        target.attached = target.attached.filter((arn) => arn !== input.PolicyArn);
        return {};
      },
      DeleteRolePolicy: (input: DeleteRolePolicyCommandInput) => {
        const target = role(input.RoleName);
        if (!((input.PolicyName ?? '') in target.inline))
          throw new NoSuchEntityException({ message: 'no such policy', $metadata: {} });
        delete target.inline[input.PolicyName ?? ''];
        return {};
      },
      AttachRolePolicy: (input: AttachRolePolicyCommandInput) => {
        const target = role(input.RoleName);
        if (!target.attached.includes(input.PolicyArn ?? '')) target.attached.push(input.PolicyArn ?? '');
        return {};
      },
      PutRolePolicy: (input: PutRolePolicyCommandInput) => {
        role(input.RoleName).inline[input.PolicyName ?? ''] = input.PolicyDocument ?? '';
        return {};
      },
    };
  },
  xmlns: 'https://iam.amazonaws.com/doc/2010-05-08/',
  query: {
    GetInstanceProfile: {
      input: (p) => ({ InstanceProfileName: p.InstanceProfileName }),
      output: (out) =>
        el(
          'InstanceProfile',
          text('InstanceProfileName', out.InstanceProfile.InstanceProfileName) +
            text('Arn', out.InstanceProfile.Arn) +
            text('InstanceProfileId', 'AIPASIMULATED') +
            text('Path', '/') +
            text('CreateDate', '2026-01-01T00:00:00Z') +
            members(
              'Roles',
              out.InstanceProfile.Roles,
              (role: Out) =>
                text('RoleName', role.RoleName) +
                text('Arn', role.Arn) +
                text('RoleId', role.RoleId) +
                text('Path', '/') +
                text('CreateDate', '2026-01-01T00:00:00Z'),
            ),
        ),
    },
    ListAttachedRolePolicies: {
      input: (p) => ({ RoleName: p.RoleName, Marker: p.Marker }),
      output: (out) =>
        members(
          'AttachedPolicies',
          out.AttachedPolicies,
          (p: Out) => text('PolicyName', p.PolicyName) + text('PolicyArn', p.PolicyArn),
        ) + text('IsTruncated', false),
    },
    ListRolePolicies: {
      input: (p) => ({ RoleName: p.RoleName, Marker: p.Marker }),
      output: (out) =>
        members('PolicyNames', out.PolicyNames, (name: string) => escapeXml(name)) +
        text('IsTruncated', false),
    },
    GetRole: {
      input: (p) => ({ RoleName: p.RoleName }),
      output: (out) =>
        el(
          'Role',
          text('RoleName', out.Role.RoleName) +
            text('Arn', out.Role.Arn) +
            text('RoleId', roleIdOf(out.Role.RoleName)) +
            text('Path', '/') +
            text('CreateDate', '2026-01-01T00:00:00Z') +
            text('AssumeRolePolicyDocument', out.Role.AssumeRolePolicyDocument),
        ),
    },
    GetRolePolicy: {
      input: (p) => ({ RoleName: p.RoleName, PolicyName: p.PolicyName }),
      output: (out) =>
        text('RoleName', out.RoleName) +
        text('PolicyName', out.PolicyName) +
        text('PolicyDocument', out.PolicyDocument),
    },
    DetachRolePolicy: {
      input: (p) => ({ RoleName: p.RoleName, PolicyArn: p.PolicyArn }),
      output: () => '',
    },
    DeleteRolePolicy: {
      input: (p) => ({ RoleName: p.RoleName, PolicyName: p.PolicyName }),
      output: () => '',
    },
    AttachRolePolicy: {
      input: (p) => ({ RoleName: p.RoleName, PolicyArn: p.PolicyArn }),
      output: () => '',
    },
    PutRolePolicy: {
      input: (p) => ({
        RoleName: p.RoleName,
        PolicyName: p.PolicyName,
        PolicyDocument: p.PolicyDocument,
      }),
      output: () => '',
    },
  },
};
