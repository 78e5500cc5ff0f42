/**
 * aws:isolate-host. Cuts a compromised instance off the network, the way AWS's EC2 incident guidance
 * does it, and keeps its Auto Scaling group from replacing it:
 * - every network interface of the instance gets its security groups replaced by the VPC's responder-owned
 *   quarantine group (no inbound rule, no outbound rule), each interface's own groups recorded first; the
 *   responder's groups are its own by id: made by it, registered signed in the incident table, and acted
 *   on only by that id (a tag on another group changes nothing);
 * - security groups are stateful: a tracked connection (an open reverse shell) survives a swap of groups.
 *   Flows that the groups allow in both directions from and to everywhere are not tracked, so unless the
 *   interface's groups already allowed that, it goes through the responder-owned "untrack" group (all
 *   traffic, both directions) first, which leaves its TCP and UDP flows untracked, then to quarantine,
 *   where the untracked flows stop at once;
 * - an instance in an Auto Scaling group goes to Standby without decrementing desired capacity (out of the
 *   group's load balancers and target groups, out of its health checks: not replaced by termination, while
 *   the service gets a new instance); one outside any group is deregistered from the target groups and
 *   Classic Load Balancers that hold it;
 * - the instance is tagged `guardduty-responder:quarantined=<finding id>`.
 * Everything is written to the incident record before it is changed; release puts it back.
 */

import { randomBytes } from 'node:crypto';
import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  EnterStandbyCommand,
  ExitStandbyCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import {
  DeregisterInstancesFromLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  type ElasticLoadBalancingClient,
  RegisterInstancesWithLoadBalancerCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import {
  type ActionItem,
  type ActionResult,
  heldBack,
  item,
  unlessPlanned,
} from '../../core/action-result.js';
import type { IdentifiedInstance, TargetInput } from '../../identify/identify.js';
import type { OwnGroup } from '../../incident/groups.js';
import { type Journal, journaled } from '../../incident/journal.js';
import { settle } from '../../shared/errors.js';

export type IsolateHostInput = TargetInput<IdentifiedInstance>;
export type IsolateHostPorts = {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  elbv2: ElasticLoadBalancingV2Client;
  elb: ElasticLoadBalancingClient;
};

/** The tag that marks the responder's security groups, and what each one is for. */
export const GROUP_PURPOSE_TAG = 'guardduty-responder:purpose';
/** The tag that marks a quarantined instance; its value is the finding id. */
export const QUARANTINED_TAG = 'guardduty-responder:quarantined';

const GROUPS = {
  quarantine: {
    name: 'guardduty-responder-quarantine',
    description: 'guardduty-responder: no traffic in or out (quarantined instances)',
  },
  untrack: {
    name: 'guardduty-responder-untrack',
    description: 'guardduty-responder: all traffic, briefly, so open connections stop being tracked',
  },
} as const;
type Purpose = keyof typeof GROUPS;

/** All traffic, from or to everywhere: the rule pair under which flows are not tracked. */
const EVERYWHERE: IpPermission = {
  IpProtocol: '-1',
  IpRanges: [{ CidrIp: '0.0.0.0/0' }],
  Ipv6Ranges: [{ CidrIpv6: '::/0' }],
};

const CAVEATS = [
  'ICMP flows and flows through automatically tracked paths (NAT gateways, Network and Gateway Load Balancers, interface VPC endpoints, transit gateways) stay tracked until they time out',
  "a network ACL on the subnet is stateless and would cut them at once, but applies to the whole subnet: the responder does not change it; its rules may allow or deny this instance's traffic regardless of security groups",
];

/** An interface's groups before containment, as recorded. */
const InterfaceBeforeSchema = z.strictObject({
  networkInterfaceId: z.string().min(1),
  vpcId: z.string(),
  groups: z.array(z.string()),
});
export type InterfaceBefore = z.infer<typeof InterfaceBeforeSchema>;

/** An instance's network, load balancing and tags before containment, as recorded. */
export const HostBeforeSchema = z.strictObject({
  instanceId: z.string().min(1),
  interfaces: z.array(InterfaceBeforeSchema),
  /** Its Auto Scaling group, lifecycle state and desired capacity; null outside any group. */
  autoScaling: z
    .strictObject({ group: z.string(), lifecycleState: z.string(), desiredCapacity: z.number().nullable() })
    .nullable(),
  /** Target groups (ALB, NLB) that held it outside an Auto Scaling group, with the port registered. */
  targetGroups: z.array(z.strictObject({ targetGroupArn: z.string(), port: z.number().nullable() })),
  /** Classic Load Balancers that held it outside an Auto Scaling group. */
  classicLoadBalancers: z.array(z.string()),
  /** The quarantine tag's value before (null: absent). */
  tag: z.string().nullable(),
});
export type HostBefore = z.infer<typeof HostBeforeSchema>;

async function interfacesOf(ec2: EC2Client, instanceId: string): Promise<InterfaceBefore[]> {
  const { NetworkInterfaces } = await ec2.send(
    new DescribeNetworkInterfacesCommand({
      Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }],
    }),
  );
  return (NetworkInterfaces ?? []).map((eni) => ({
    networkInterfaceId: eni.NetworkInterfaceId ?? '',
    vpcId: eni.VpcId ?? '',
    groups: (eni.Groups ?? []).flatMap((group) => (group.GroupId ? [group.GroupId] : [])),
  }));
}

async function autoScalingOf(
  autoScaling: AutoScalingClient,
  instanceId: string,
): Promise<HostBefore['autoScaling']> {
  const { AutoScalingInstances } = await autoScaling.send(
    new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
  );
  const entry = AutoScalingInstances?.[0];
  if (!entry?.AutoScalingGroupName) return null;
  const { AutoScalingGroups } = await autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [entry.AutoScalingGroupName] }),
  );
  return {
    group: entry.AutoScalingGroupName,
    lifecycleState: entry.LifecycleState ?? 'unknown',
    desiredCapacity: AutoScalingGroups?.[0]?.DesiredCapacity ?? null,
  };
}

/** The target groups of the region that hold the instance (a registration is per group and port). */
async function targetGroupsOf(
  elbv2: ElasticLoadBalancingV2Client,
  instanceId: string,
): Promise<HostBefore['targetGroups']> {
  const held: HostBefore['targetGroups'] = [];
  let Marker: string | undefined;
  do {
    const page = await elbv2.send(new DescribeTargetGroupsCommand({ Marker }));
    for (const group of page.TargetGroups ?? []) {
      if (group.TargetType !== 'instance' || !group.TargetGroupArn) continue;
      const health = await elbv2.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: group.TargetGroupArn }),
      );
      for (const target of health.TargetHealthDescriptions ?? []) {
        if (target.Target?.Id === instanceId && target.TargetHealth?.State !== 'draining')
          held.push({ targetGroupArn: group.TargetGroupArn, port: target.Target.Port ?? null });
      }
    }
    Marker = page.NextMarker;
  } while (Marker);
  return held;
}

async function classicLoadBalancersOf(
  elb: ElasticLoadBalancingClient,
  instanceId: string,
): Promise<string[]> {
  const names: string[] = [];
  let Marker: string | undefined;
  do {
    const page = await elb.send(new DescribeLoadBalancersCommand({ Marker }));
    for (const balancer of page.LoadBalancerDescriptions ?? []) {
      if (balancer.LoadBalancerName && balancer.Instances?.some((i) => i.InstanceId === instanceId))
        names.push(balancer.LoadBalancerName);
    }
    Marker = page.NextMarker;
  } while (Marker);
  return names;
}

/** The host as it is now: interfaces, Auto Scaling or load balancer membership, the quarantine tag. */
async function readHost(instance: IdentifiedInstance, ports: IsolateHostPorts): Promise<HostBefore> {
  const { instanceId } = instance;
  const autoScaling = await autoScalingOf(ports.autoScaling, instanceId);
  const { Reservations } = await ports.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const tags = Reservations?.[0]?.Instances?.[0]?.Tags ?? [];
  const tag = tags.find((t) => t.Key === QUARANTINED_TAG)?.Value ?? null;
  return {
    instanceId,
    interfaces: await interfacesOf(ports.ec2, instanceId),
    autoScaling,
    targetGroups: autoScaling ? [] : await targetGroupsOf(ports.elbv2, instanceId),
    classicLoadBalancers: autoScaling ? [] : await classicLoadBalancersOf(ports.elb, instanceId),
    tag,
  };
}

const sameRule = (a: IpPermission, b: IpPermission) =>
  a.IpProtocol === b.IpProtocol &&
  (a.IpRanges ?? []).some((r) => r.CidrIp === '0.0.0.0/0') ===
    (b.IpRanges ?? []).some((r) => r.CidrIp === '0.0.0.0/0') &&
  (a.Ipv6Ranges ?? []).some((r) => r.CidrIpv6 === '::/0') ===
    (b.Ipv6Ranges ?? []).some((r) => r.CidrIpv6 === '::/0') &&
  (a.UserIdGroupPairs ?? []).length === 0 &&
  (a.PrefixListIds ?? []).length === 0;

/** Whether the rules are exactly what the purpose needs: none for quarantine, all traffic both ways for untrack. */
function rulesHold(group: SecurityGroup, purpose: Purpose): boolean {
  const ingress = group.IpPermissions ?? [];
  const egress = group.IpPermissionsEgress ?? [];
  if (purpose === 'quarantine') return ingress.length === 0 && egress.length === 0;
  return (
    ingress.length === 1 &&
    egress.length === 1 &&
    sameRule(ingress[0] as IpPermission, EVERYWHERE) &&
    sameRule(egress[0] as IpPermission, EVERYWHERE)
  );
}

/** Flows an interface's groups allow in both directions from and to everywhere are not tracked. */
function allowsAllBothWays(groups: readonly SecurityGroup[]): boolean {
  const everywhere = (rules: IpPermission[] | undefined) =>
    (rules ?? []).some(
      (rule) => rule.IpProtocol === '-1' && (rule.IpRanges ?? []).some((r) => r.CidrIp === '0.0.0.0/0'),
    );
  return (
    groups.some((g) => everywhere(g.IpPermissions)) && groups.some((g) => everywhere(g.IpPermissionsEgress))
  );
}

/** A group by id, or null when it no longer exists. */
async function describeGroup(ec2: EC2Client, groupId: string): Promise<SecurityGroup | null> {
  try {
    const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    return SecurityGroups?.[0] ?? null;
  } catch (error) {
    if (error instanceof Error && error.name === 'InvalidGroup.NotFound') return null;
    throw error;
  }
}

/** The rules set to what the purpose needs, whatever they were changed to: the group is the responder's. */
async function enforceRules(ec2: EC2Client, group: SecurityGroup, purpose: Purpose): Promise<void> {
  if (rulesHold(group, purpose)) return;
  const id = group.GroupId ?? '';
  if ((group.IpPermissions ?? []).length > 0)
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: group.IpPermissions }),
    );
  if ((group.IpPermissionsEgress ?? []).length > 0)
    await ec2.send(
      new RevokeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: group.IpPermissionsEgress }),
    );
  if (purpose === 'untrack') {
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: id, IpPermissions: [EVERYWHERE] }));
    await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: id, IpPermissions: [EVERYWHERE] }));
  }
}

/**
 * The VPC's responder-owned group for a purpose: the one the responder registered (by id, signed, in the
 * incident table), or one it makes now and registers. A tag on any other group changes nothing: the
 * responder never looks groups up by tag. Its rules are set to what the purpose needs.
 */
async function ensureGroup(
  ec2: EC2Client,
  journal: Journal,
  vpcId: string,
  purpose: Purpose,
): Promise<{ id: string; created: boolean; note: string | null }> {
  const own = await journal.ownGroup(vpcId, purpose);
  const note = own.refused ? `${own.refused}: a new ${purpose} group was made, that one left alone` : null;
  const existing = own.id ? await describeGroup(ec2, own.id) : null;
  if (existing) {
    await enforceRules(ec2, existing, purpose);
    return { id: existing.GroupId ?? '', created: false, note };
  }
  // A name of its own each time: a group someone made with the responder's name is not taken over.
  const made = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `${GROUPS[purpose].name}-${randomBytes(4).toString('hex')}`,
      Description: GROUPS[purpose].description,
      VpcId: vpcId,
      TagSpecifications: [
        { ResourceType: 'security-group', Tags: [{ Key: GROUP_PURPOSE_TAG, Value: purpose }] },
      ],
    }),
  );
  const madeId = made.GroupId ?? '';
  let id = madeId;
  if (!(await journal.registerGroup(vpcId, purpose, madeId, own))) {
    // Another execution registered one in between: that one stands, this one goes.
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: madeId })).catch(() => undefined);
    const standing = await journal.ownGroup(vpcId, purpose);
    if (!standing.id)
      throw new Error(
        `the ${purpose} group of ${vpcId} was registered by another execution and then failed verification: no interface was moved`,
      );
    id = standing.id;
  }
  const group = await describeGroup(ec2, id);
  if (!group) throw new Error(`the ${purpose} group ${id} of ${vpcId} vanished as it was made`);
  await enforceRules(ec2, group, purpose);
  return { id, created: id === madeId, note };
}

async function setGroups(ec2: EC2Client, networkInterfaceId: string, groups: string[]): Promise<void> {
  await ec2.send(
    new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: networkInterfaceId, Groups: groups }),
  );
}

/**
 * The tracked interfaces to the untrack group, then every interface to quarantine. An interface is never
 * left in the allow-all group: if a move fails, those already opened go back to their own groups before
 * the error is reported (or retried), and any that cannot is named in the error.
 */
async function moveThroughUntrack(
  ec2: EC2Client,
  tracked: readonly InterfaceBefore[],
  all: readonly InterfaceBefore[],
  untrack: string,
  quarantine: string,
): Promise<void> {
  const opened = new Set<InterfaceBefore>();
  try {
    for (const eni of tracked) {
      await setGroups(ec2, eni.networkInterfaceId, [untrack]);
      opened.add(eni);
    }
    for (const eni of all) {
      await setGroups(ec2, eni.networkInterfaceId, [quarantine]);
      opened.delete(eni);
    }
  } catch (error) {
    const stuck: string[] = [];
    for (const eni of opened) {
      await setGroups(ec2, eni.networkInterfaceId, eni.groups).catch(() =>
        stuck.push(eni.networkInterfaceId),
      );
    }
    if (stuck.length > 0 && error instanceof Error)
      error.message += `; ${stuck.join(', ')} STILL in the allow-all group ${untrack}: move by hand`;
    throw error;
  }
}

/**
 * Moves each interface into its VPC's quarantine group, through the untrack group where flows may be
 * tracked; `quarantines` gets each VPC's quarantine group, for the check that reads the effect back.
 */
async function quarantineInterfaces(
  ec2: EC2Client,
  journal: Journal,
  interfaces: readonly InterfaceBefore[],
  quarantines: Map<string, string>,
): Promise<string[]> {
  const done: string[] = [];
  for (const vpcId of [...new Set(interfaces.map((eni) => eni.vpcId))]) {
    const quarantine = await ensureGroup(ec2, journal, vpcId, 'quarantine');
    quarantines.set(vpcId, quarantine.id);
    if (quarantine.note) done.push(quarantine.note);
    const inVpc = interfaces.filter(
      (eni) => eni.vpcId === vpcId && !(eni.groups.length === 1 && eni.groups[0] === quarantine.id),
    );
    if (inVpc.length === 0) {
      done.push(`interfaces in ${vpcId} already in quarantine group ${quarantine.id}`);
      continue;
    }
    const ownGroups = [...new Set(inVpc.flatMap((eni) => eni.groups))];
    const { SecurityGroups } = ownGroups.length
      ? await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ownGroups }))
      : { SecurityGroups: [] };
    const untracked = inVpc.filter((eni) =>
      allowsAllBothWays((SecurityGroups ?? []).filter((g) => eni.groups.includes(g.GroupId ?? ''))),
    );
    const tracked = inVpc.filter((eni) => !untracked.includes(eni));
    const untrack = tracked.length > 0 ? await ensureGroup(ec2, journal, vpcId, 'untrack') : null;
    if (untrack?.note) done.push(untrack.note);
    await moveThroughUntrack(ec2, tracked, inVpc, untrack?.id ?? '', quarantine.id);
    if (untrack)
      done.push(
        `${tracked.map((eni) => eni.networkInterfaceId).join(', ')} through allow-all group ${untrack.id} first (open connections untracked)`,
      );
    if (untracked.length > 0)
      done.push(
        `${untracked.map((eni) => eni.networkInterfaceId).join(', ')} directly (their groups allowed all traffic: flows untracked)`,
      );
    done.push(
      `interfaces ${inVpc.map((eni) => eni.networkInterfaceId).join(', ')} in quarantine group ${quarantine.id}${quarantine.created ? ' (created)' : ''}`,
    );
  }
  return done;
}

/** Out of service without being replaced by termination: Standby, or out of the load balancers. */
async function takeOutOfService(ports: IsolateHostPorts, before: HostBefore): Promise<string[]> {
  const { instanceId, autoScaling } = before;
  if (autoScaling) {
    if (autoScaling.lifecycleState === 'Standby') return [`already in Standby in ${autoScaling.group}`];
    if (autoScaling.lifecycleState !== 'InService')
      throw new Error(`cannot move to Standby from ${autoScaling.lifecycleState} in ${autoScaling.group}`);
    await ports.autoScaling.send(
      new EnterStandbyCommand({
        AutoScalingGroupName: autoScaling.group,
        InstanceIds: [instanceId],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    return [
      `Standby in ${autoScaling.group} (desired capacity ${autoScaling.desiredCapacity ?? '?'} unchanged: a replacement launches; out of the group's load balancers)`,
    ];
  }
  const done: string[] = [];
  for (const { targetGroupArn, port } of before.targetGroups) {
    await ports.elbv2.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: targetGroupArn,
        Targets: [{ Id: instanceId, Port: port ?? undefined }],
      }),
    );
    done.push(`deregistered from ${targetGroupArn}`);
  }
  for (const name of before.classicLoadBalancers) {
    await ports.elb.send(
      new DeregisterInstancesFromLoadBalancerCommand({
        LoadBalancerName: name,
        Instances: [{ InstanceId: instanceId }],
      }),
    );
    done.push(`deregistered from Classic Load Balancer ${name}`);
  }
  if (done.length === 0) done.push('in no Auto Scaling group, target group or load balancer');
  return done;
}

/**
 * What the effect looks like read back: every interface in its VPC's quarantine group (by id, the one
 * the responder registered) and in no other, out of service.
 */
async function verify(
  ports: IsolateHostPorts,
  before: HostBefore,
  quarantines: ReadonlyMap<string, string>,
): Promise<boolean> {
  const interfaces = await interfacesOf(ports.ec2, before.instanceId);
  const quarantined = interfaces.map(
    (eni) => eni.groups.length === 1 && eni.groups[0] === quarantines.get(eni.vpcId),
  );
  const asg = before.autoScaling ? await autoScalingOf(ports.autoScaling, before.instanceId) : null;
  const standby = !before.autoScaling || /Standby/.test(asg?.lifecycleState ?? '');
  const registered = before.autoScaling ? [] : await targetGroupsOf(ports.elbv2, before.instanceId);
  return interfaces.length > 0 && quarantined.every(Boolean) && standby && registered.length === 0;
}

export async function isolateHost(
  input: IsolateHostInput,
  ports: IsolateHostPorts,
  options: { isolateClusterNodes: boolean },
  journal: Journal,
): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'isolate-host');
  if (notPlanned) return notPlanned;
  const instance = input.target;
  const target = `instance ${instance.instanceId}`;
  const skipped = (why: string): ActionResult => ({
    action: 'isolate-host',
    skipped: null,
    items: [item(target, 'skipped', why)],
  });
  if (instance.state === 'terminated' || instance.state === 'shutting-down')
    return skipped(`the instance is ${instance.state}`);
  // The plan decides from the finding; the instance's own tags may say it is a node all the same.
  if (instance.cluster && !options.isolateClusterNodes)
    return skipped(`a node of cluster ${instance.cluster}: isolateClusterNodes is off`);
  const findingId = input.plan.finding.id;

  const budget = await settle(() =>
    journal.spend('isolate-host', 'hosts', `account ${input.plan.finding.accountId}`, target),
  );
  if (!budget.ok)
    return { action: 'isolate-host', skipped: null, items: [item(target, 'failed', budget.error)] };
  if (budget.value) return { action: 'isolate-host', skipped: null, items: [heldBack(target, budget.value)] };

  const at = { action: 'isolate-host', cluster: null, target };
  const isolated = await settle(async () => {
    const current = await readHost(instance, ports);
    return journaled(journal, at, current, async (before) => {
      const done: string[] = [];
      const failures: string[] = [];
      const step = async (what: string, work: () => Promise<string[]>) => {
        const outcome = await settle(work);
        if (outcome.ok) done.push(...outcome.value);
        else failures.push(`${what}: ${outcome.error}`);
      };
      const quarantines = new Map<string, string>();
      await step('security groups', () =>
        quarantineInterfaces(ports.ec2, journal, current.interfaces, quarantines),
      );
      await step('out of service', () => takeOutOfService(ports, current));
      await step('tag', async () => {
        await ports.ec2.send(
          new CreateTagsCommand({
            Resources: [instance.instanceId],
            Tags: [{ Key: QUARANTINED_TAG, Value: findingId }],
          }),
        );
        return [`tagged ${QUARANTINED_TAG}=${findingId}`];
      });
      const checked = await settle(() => verify(ports, before, quarantines));
      const verified = checked.ok && checked.value;
      const status = failures.length > 0 || !verified ? 'failed' : 'ok';
      const result = item(target, status, [...done, ...failures].join('; '), {
        verified,
        caveats: CAVEATS,
        restore: before,
      });
      return { item: result };
    });
  });
  const result = isolated.ok ? isolated.value : item(target, 'failed', isolated.error);
  return { action: 'isolate-host', skipped: null, items: [result] };
}

/** Where release finds the responder's own groups: the registry, verified (lambdas/incident/groups.ts). */
export type OwnGroups = (vpcId: string, purpose: Purpose) => Promise<OwnGroup>;

/** Deletes the responder's own group (by its registered id) once no interface uses it; says whether it did. */
async function deleteIfUnused(
  ec2: EC2Client,
  ownGroups: OwnGroups,
  vpcId: string,
  purpose: Purpose,
): Promise<string | null> {
  const { id, refused } = await ownGroups(vpcId, purpose);
  if (refused) return `${refused}: no group deleted`;
  if (!id || !(await describeGroup(ec2, id))) return null;
  const { NetworkInterfaces } = await ec2.send(
    new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: [id] }] }),
  );
  if ((NetworkInterfaces ?? []).length > 0) return null;
  await ec2.send(new DeleteSecurityGroupCommand({ GroupId: id }));
  return `${purpose} group ${id} deleted (no interface uses it)`;
}

/**
 * Release: each interface back in its own groups, back in service (ExitStandby, registered again), the
 * tag off; the responder's groups deleted once no interface uses them.
 */
export async function releaseHost(
  before: HostBefore,
  ports: IsolateHostPorts,
  ownGroups: OwnGroups,
): Promise<ActionItem> {
  const target = `instance ${before.instanceId}`;
  const done: string[] = [];
  const existing = new Set(
    (await interfacesOf(ports.ec2, before.instanceId)).map((eni) => eni.networkInterfaceId),
  );
  for (const eni of before.interfaces) {
    if (!existing.has(eni.networkInterfaceId)) {
      done.push(`${eni.networkInterfaceId} no longer attached`);
      continue;
    }
    await setGroups(ports.ec2, eni.networkInterfaceId, eni.groups);
    done.push(`${eni.networkInterfaceId} back in ${eni.groups.join(', ')}`);
  }
  const { autoScaling } = before;
  if (autoScaling?.lifecycleState === 'InService') {
    const now = await autoScalingOf(ports.autoScaling, before.instanceId);
    if (now?.lifecycleState === 'Standby') {
      await ports.autoScaling.send(
        new ExitStandbyCommand({ AutoScalingGroupName: autoScaling.group, InstanceIds: [before.instanceId] }),
      );
      done.push(`out of Standby in ${autoScaling.group} (ExitStandby raises desired capacity by one)`);
    }
  }
  for (const { targetGroupArn, port } of before.targetGroups) {
    await ports.elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: targetGroupArn,
        Targets: [{ Id: before.instanceId, Port: port ?? undefined }],
      }),
    );
    done.push(`registered again with ${targetGroupArn}`);
  }
  for (const name of before.classicLoadBalancers) {
    await ports.elb.send(
      new RegisterInstancesWithLoadBalancerCommand({
        LoadBalancerName: name,
        Instances: [{ InstanceId: before.instanceId }],
      }),
    );
    done.push(`registered again with Classic Load Balancer ${name}`);
  }
  if (before.tag === null) {
    await ports.ec2.send(
      new DeleteTagsCommand({ Resources: [before.instanceId], Tags: [{ Key: QUARANTINED_TAG }] }),
    );
    done.push(`tag ${QUARANTINED_TAG} removed`);
  }
  for (const vpcId of [...new Set(before.interfaces.map((eni) => eni.vpcId))]) {
    for (const purpose of ['untrack', 'quarantine'] as const) {
      const deleted = await deleteIfUnused(ports.ec2, ownGroups, vpcId, purpose);
      if (deleted) done.push(deleted);
    }
  }
  const after = await interfacesOf(ports.ec2, before.instanceId);
  const verified = before.interfaces
    .filter((eni) => existing.has(eni.networkInterfaceId))
    .every((eni) => {
      const now = after.find((a) => a.networkInterfaceId === eni.networkInterfaceId);
      return now !== undefined && [...now.groups].sort().join() === [...eni.groups].sort().join();
    });
  return item(target, verified ? 'ok' : 'failed', done.join('; '), { verified });
}
