/** protect-instances, as data: where it runs, when it applies, what it needs to contain and to undo. */
import type { ActionSpec } from '../../core/action-spec.js';
import { type IamNeed, RECORDS, SIGNS, TERMINATION_PROTECTION_OFF } from '../../core/needs.js';

/** Delete-on-termination of attached volumes: the block device mapping, no other attribute. */
const KEEP_VOLUMES: IamNeed = {
  actions: ['ec2:ModifyInstanceAttribute'],
  scope: 'instances',
  why: 'delete-on-termination of the attached volumes (off to keep them as evidence; back on at release)',
  conditions: { StringEqualsIgnoreCase: { 'ec2:Attribute': 'BlockDeviceMapping' } },
};

export const spec = {
  name: 'protect-instances',
  resultKey: 'protectInstances',
  functionId: 'ProtectInstances',
  state: 'ProtectInstancesItem',
  description: 'Sets termination and scale-in protection on an instance',
  comment: 'Termination and scale-in protection of each instance',
  timeoutSeconds: 60,
  phase: 'contain',
  branch: 'Protection',
  targetKind: 'instances',
  items: 'instances',
  heldBack: 'instance',
  budget: null,
  appliesTo: ['workload', 'instances'],
  changesCluster: false,
  cutsClusterNodes: false,
  defaultRules: ['workload-or-host-compromise'],
  evidence: false,
  contain: {
    kubernetesGroup: 'guardduty-responder-protect',
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: ['ec2:DescribeInstanceAttribute'],
        scope: 'instances',
        why: 'read termination protection and delete-on-termination of the affected instances',
      },
      {
        actions: ['ec2:ModifyInstanceAttribute'],
        scope: 'instances',
        why: 'turn termination protection on, and only on',
        conditions: { StringEqualsIgnoreCase: { 'ec2:Attribute/DisableApiTermination': 'true' } },
      },
      KEEP_VOLUMES,
      {
        actions: ['autoscaling:SetInstanceProtection'],
        scope: 'auto-scaling-groups',
        why: 'scale-in protection of the affected instances in their groups',
      },
      {
        actions: ['autoscaling:DescribeAutoScalingInstances'],
        scope: 'any',
        why: 'current scale-in protection; Describe actions support no resource-level permissions',
      },
      {
        actions: ['eks:DescribeCluster'],
        scope: 'clusters',
        why: 'Karpenter nodes are protected by a node annotation',
      },
    ],
    rbac: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }],
  },
  undo: {
    iam: [
      {
        actions: ['ec2:DescribeInstanceAttribute'],
        scope: 'instances',
        why: 'read termination protection and delete-on-termination as they are now',
      },
      TERMINATION_PROTECTION_OFF,
      KEEP_VOLUMES,
      {
        actions: ['autoscaling:SetInstanceProtection'],
        scope: 'auto-scaling-groups',
        why: 'put back scale-in protection as recorded',
      },
      {
        actions: ['autoscaling:DescribeAutoScalingInstances'],
        scope: 'any',
        why: 'current scale-in protection; Describe actions support no resource-level permissions',
      },
    ],
    rbac: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }],
  },
} as const satisfies ActionSpec;
