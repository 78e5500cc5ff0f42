/** revoke-iam, as data: where it runs, when it applies, what it needs to contain and to undo. */
import type { ActionSpec } from '../../core/action-spec.js';
import { RECORDS, SIGNS } from '../../core/needs.js';

export const spec = {
  name: 'revoke-iam',
  resultKey: 'revokeIam',
  functionId: 'RevokeIam',
  state: 'RevokeIam',
  description: 'Detaches the policies of compromised roles, recording them',
  comment: 'Detach the policies of compromised roles',
  timeoutSeconds: 120,
  phase: 'cut',
  branch: 'Identity',
  targetKind: 'roles',
  items: null,
  heldBack: null,
  budget: 'roles',
  appliesTo: ['workload', 'instances', 'role'],
  changesCluster: false,
  cutsClusterNodes: false,
  defaultRules: ['workload-or-host-compromise'],
  evidence: false,
  secondPerson: true,
  contain: {
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: [
          'iam:ListAttachedRolePolicies',
          'iam:ListRolePolicies',
          'iam:GetRolePolicy',
          'iam:DetachRolePolicy',
          'iam:DeleteRolePolicy',
        ],
        scope: 'roles',
        why: 'record, then detach and delete the policies of a compromised role',
      },
      {
        actions: ['ec2:DisassociateIamInstanceProfile'],
        scope: 'instances',
        why: 'take the instance profile off a compromised instance whose role is shared',
      },
      {
        actions: ['ec2:DescribeIamInstanceProfileAssociations'],
        scope: 'any',
        why: 'the instance profile association of an instance; Describe actions support no resource-level permissions',
      },
    ],
    rbac: [],
  },
  undo: {
    iam: [
      {
        actions: ['ec2:AssociateIamInstanceProfile'],
        scope: 'instances',
        why: 'put back the instance profile as recorded',
      },
      {
        actions: ['ec2:DescribeIamInstanceProfileAssociations'],
        scope: 'any',
        why: 'the current instance profile association; Describe actions support no resource-level permissions',
      },
      {
        actions: [
          'iam:AttachRolePolicy',
          'iam:PutRolePolicy',
          'iam:ListAttachedRolePolicies',
          'iam:ListRolePolicies',
          'iam:GetRolePolicy',
        ],
        scope: 'roles',
        why: 're-attach and re-create the recorded policies of a stripped role, and read them back',
      },
      {
        actions: ['iam:PassRole'],
        scope: 'roles',
        why: 'associating an instance profile again passes its role to EC2',
        conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      },
    ],
    rbac: [],
  },
} as const satisfies ActionSpec;
