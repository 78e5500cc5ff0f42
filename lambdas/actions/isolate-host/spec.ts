/** isolate-host, as data: where it runs, when it applies, what it needs to contain and to undo. */
import type { ActionSpec } from '../../core/action-spec.js';
import { OWN_GROUP_TAG, RECORDS, SIGNS } from '../../core/needs.js';

export const spec = {
  name: 'isolate-host',
  resultKey: 'isolateHost',
  functionId: 'IsolateHost',
  state: 'IsolateHostsItem',
  description: 'Puts an instance behind the quarantine security group, out of service',
  comment: 'Quarantine security group, Standby or out of the load balancers, for each host the finding names',
  timeoutSeconds: 120,
  phase: 'cut',
  branch: 'Hosts',
  targetKind: 'instances',
  items: 'hosts',
  heldBack: 'instance',
  budget: 'hosts',
  appliesTo: ['instances'],
  changesCluster: true,
  cutsClusterNodes: true,
  defaultRules: ['workload-or-host-compromise'],
  evidence: false,
  contain: {
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: [
          'ec2:DescribeInstances',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSecurityGroups',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeAutoScalingGroups',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeTargetHealth',
          'elasticloadbalancing:DescribeLoadBalancers',
        ],
        scope: 'any',
        why: 'the interfaces, groups, Auto Scaling and load balancer membership of the instance; Describe actions support no resource-level permissions',
      },
      {
        actions: ['ec2:CreateSecurityGroup'],
        scope: 'vpcs',
        why: 'the quarantine and untrack groups, created in the instance VPC on first use',
      },
      {
        actions: ['ec2:CreateSecurityGroup'],
        scope: 'security-groups',
        why: "only a group tagged as the responder's (quarantine or untrack) as it is created",
        conditions: {
          StringEquals: { 'aws:RequestTag/guardduty-responder:purpose': ['quarantine', 'untrack'] },
        },
      },
      {
        actions: ['ec2:CreateTags'],
        scope: 'security-groups',
        why: "tag the responder's groups, only as they are created",
        conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSecurityGroup' } },
      },
      {
        actions: [
          'ec2:AuthorizeSecurityGroupIngress',
          'ec2:AuthorizeSecurityGroupEgress',
          'ec2:RevokeSecurityGroupIngress',
          'ec2:RevokeSecurityGroupEgress',
        ],
        scope: 'security-groups',
        why: "set the rules of the responder's own groups (tagged quarantine or untrack; the code acts only on the ids it registered), no other group",
        conditions: { StringEquals: OWN_GROUP_TAG },
      },
      {
        actions: ['ec2:DeleteSecurityGroup'],
        scope: 'security-groups',
        why: 'delete a group it has just made when another execution registered one first',
        conditions: { StringEquals: OWN_GROUP_TAG },
      },
      {
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        scope: 'network-interfaces',
        why: 'replace the security groups of the instance interfaces',
      },
      {
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        scope: 'security-groups',
        why: 'the groups an interface is moved into',
      },
      {
        actions: ['ec2:CreateTags'],
        scope: 'instances',
        why: 'tag the quarantined instance, with that tag only',
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': 'guardduty-responder:quarantined' } },
      },
      {
        actions: ['autoscaling:EnterStandby'],
        scope: 'auto-scaling-groups',
        why: 'move the instance to Standby, out of its load balancers and health checks',
      },
      {
        actions: ['elasticloadbalancing:DeregisterTargets'],
        scope: 'target-groups',
        why: 'take an instance outside any Auto Scaling group out of its target groups',
      },
      {
        actions: ['elasticloadbalancing:DeregisterInstancesFromLoadBalancer'],
        scope: 'load-balancers',
        why: 'take an instance outside any Auto Scaling group out of its Classic Load Balancers',
      },
    ],
    rbac: [],
  },
  undo: {
    iam: [
      {
        actions: [
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSecurityGroups',
          'autoscaling:DescribeAutoScalingGroups',
        ],
        scope: 'any',
        why: 'the interfaces, groups and Auto Scaling state of an isolated host; Describe actions support no resource-level permissions',
      },
      {
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        scope: 'network-interfaces',
        why: 'put each interface of an isolated host back in its recorded groups',
      },
      {
        actions: ['ec2:ModifyNetworkInterfaceAttribute'],
        scope: 'security-groups',
        why: 'the recorded groups an interface goes back into',
      },
      {
        actions: ['ec2:DeleteSecurityGroup'],
        scope: 'security-groups',
        why: "delete the responder's own groups (by the ids it registered) once no interface uses them",
        conditions: { StringEquals: OWN_GROUP_TAG },
      },
      {
        actions: ['ec2:DeleteTags'],
        scope: 'instances',
        why: 'take the quarantine tag off, and no other tag',
        conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': 'guardduty-responder:quarantined' } },
      },
      {
        actions: ['autoscaling:ExitStandby'],
        scope: 'auto-scaling-groups',
        why: 'put an isolated host back in service in its group',
      },
      {
        actions: ['elasticloadbalancing:RegisterTargets'],
        scope: 'target-groups',
        why: 'register an isolated host again with its recorded target groups',
      },
      {
        actions: ['elasticloadbalancing:RegisterInstancesWithLoadBalancer'],
        scope: 'load-balancers',
        why: 'register an isolated host again with its recorded Classic Load Balancers',
      },
    ],
    rbac: [],
  },
} as const satisfies ActionSpec;
