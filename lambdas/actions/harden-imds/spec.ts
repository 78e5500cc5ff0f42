/** harden-imds, as data: where it runs, when it applies, what it needs to contain and to undo. */
import type { ActionSpec } from '../../core/action-spec.js';
import { RECORDS, SIGNS } from '../../core/needs.js';

export const spec = {
  name: 'harden-imds',
  resultKey: 'hardenImds',
  functionId: 'HardenImds',
  state: 'HardenImdsItem',
  description: 'Requires IMDSv2 with a hop limit of 1 on an instance, recording its options',
  comment: 'IMDSv2 required, hop limit 1, on each instance',
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
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: ['ec2:DescribeInstances'],
        scope: 'any',
        why: "the instance's metadata options, before and after; EC2 Describe actions support no resource-level permissions",
      },
      {
        actions: ['ec2:ModifyInstanceMetadataOptions'],
        scope: 'instances',
        why: 'require IMDSv2 (session tokens) on the affected instances, and nothing looser',
        conditions: { StringEquals: { 'ec2:Attribute/HttpTokens': 'required' } },
      },
    ],
    rbac: [],
  },
  undo: {
    iam: [
      {
        actions: ['ec2:DescribeInstances'],
        scope: 'any',
        why: "the instance's metadata options; EC2 Describe actions support no resource-level permissions",
      },
      {
        actions: ['ec2:ModifyInstanceMetadataOptions'],
        scope: 'instances',
        why: 'put back the metadata options recorded before the incident',
      },
    ],
    rbac: [],
  },
} as const satisfies ActionSpec;
