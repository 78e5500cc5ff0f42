/**
 * The network side of the simulated account: VPC network interfaces and security groups (with their rules,
 * tags and the checks EC2 makes: a group must exist and be in the interface's VPC, a name is unique in its
 * VPC, a group in use cannot be deleted), instance tags, Auto Scaling Standby with desired capacity, and
 * Elastic Load Balancing target groups and Classic Load Balancers with their registrations.
 */
import { randomUUID } from 'node:crypto';
import type {
  DescribeAutoScalingGroupsCommandInput,
  EnterStandbyCommandInput,
  ExitStandbyCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  type AuthorizeSecurityGroupIngressCommandInput,
  type CreateSecurityGroupCommandInput,
  type CreateTagsCommandInput,
  type DeleteSecurityGroupCommandInput,
  type DeleteTagsCommandInput,
  type DescribeNetworkInterfacesCommandInput,
  type DescribeSecurityGroupsCommandInput,
  EC2ServiceException,
  type IpPermission,
  type ModifyNetworkInterfaceAttributeCommandInput,
} from '@aws-sdk/client-ec2';
import type {
  DeregisterInstancesFromLoadBalancerCommandInput,
  RegisterInstancesWithLoadBalancerCommandInput,
} from '@aws-sdk/client-elastic-load-balancing';
import type {
  DeregisterTargetsCommandInput,
  DescribeTargetHealthCommandInput,
  RegisterTargetsCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';

export type SimulatedInterface = { networkInterfaceId: string; vpcId: string; groups: string[] };

export type SimulatedSecurityGroup = {
  GroupId: string;
  GroupName: string;
  VpcId: string;
  Description: string;
  Tags: { Key: string; Value: string }[];
  IpPermissions: IpPermission[];
  IpPermissionsEgress: IpPermission[];
};

export type SimulatedTargetGroup = { arn: string; targets: { id: string; port: number }[] };
export type SimulatedClassicLoadBalancer = { name: string; instances: string[] };

/** What the network operations need of an instance. */
export type NetworkedInstance = {
  instanceId: string;
  tags?: Record<string, string>;
  autoScalingGroup?: string;
  lifecycleState?: string;
  networkInterfaces?: SimulatedInterface[];
};

export type NetworkState = {
  securityGroups: SimulatedSecurityGroup[];
  autoScalingGroups: Record<string, { desiredCapacity: number }>;
  targetGroups: SimulatedTargetGroup[];
  classicLoadBalancers: SimulatedClassicLoadBalancer[];
};

export const SIMULATED_VPC = 'vpc-0a1b2c3d4e5f60718';
export const APP_GROUP = 'sg-0a1b2c3d4e5f60718';

const ec2Error = (code: string, message: string) =>
  new EC2ServiceException({ name: code, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });
export const validation = (message: string) =>
  Object.assign(new Error(message), { name: 'ValidationError', $metadata: { httpStatusCode: 400 } });

/** An application's usual group: HTTPS in from the VPC, everything out (EC2's default outbound rule). */
export const appGroup = (groupId: string, vpcId: string): SimulatedSecurityGroup => ({
  GroupId: groupId,
  GroupName: `app-${groupId.slice(-6)}`,
  VpcId: vpcId,
  Description: 'application servers',
  Tags: [],
  IpPermissions: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '10.0.0.0/8' }] }],
  IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
});

/** The network state for these instances: every instance gets an interface, every group it names exists. */
export function networkState(instances: NetworkedInstance[], given: Partial<NetworkState>): NetworkState {
  const securityGroups = structuredClone(given.securityGroups ?? []);
  for (const instance of instances) {
    instance.networkInterfaces ??= [
      {
        networkInterfaceId: `eni-${instance.instanceId.slice(2)}`,
        vpcId: SIMULATED_VPC,
        groups: [APP_GROUP],
      },
    ];
    if (instance.autoScalingGroup) instance.lifecycleState ??= 'InService';
    for (const eni of instance.networkInterfaces) {
      for (const id of eni.groups)
        if (!securityGroups.some((g) => g.GroupId === id)) securityGroups.push(appGroup(id, eni.vpcId));
    }
  }
  const autoScalingGroups = structuredClone(given.autoScalingGroups ?? {});
  for (const instance of instances) {
    const group = instance.autoScalingGroup;
    if (group && !autoScalingGroups[group])
      autoScalingGroups[group] = {
        desiredCapacity: instances.filter((i) => i.autoScalingGroup === group).length,
      };
  }
  return {
    securityGroups,
    autoScalingGroups,
    targetGroups: structuredClone(given.targetGroups ?? []),
    classicLoadBalancers: structuredClone(given.classicLoadBalancers ?? []),
  };
}

const sameRule = (a: IpPermission, b: IpPermission) =>
  a.IpProtocol === b.IpProtocol &&
  a.FromPort === b.FromPort &&
  a.ToPort === b.ToPort &&
  JSON.stringify((a.IpRanges ?? []).map((r) => r.CidrIp).sort()) ===
    JSON.stringify((b.IpRanges ?? []).map((r) => r.CidrIp).sort()) &&
  JSON.stringify((a.Ipv6Ranges ?? []).map((r) => r.CidrIpv6).sort()) ===
    JSON.stringify((b.Ipv6Ranges ?? []).map((r) => r.CidrIpv6).sort());

export function networkOperations(
  instances: NetworkedInstance[],
  state: NetworkState,
  instance: (id: string | undefined) => NetworkedInstance,
) {
  const group = (id: string | undefined) => {
    const found = state.securityGroups.find((g) => g.GroupId === id);
    if (!found) throw ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
    return found;
  };
  const interfaces = () =>
    instances.flatMap((i) => (i.networkInterfaces ?? []).map((eni) => ({ eni, instanceId: i.instanceId })));
  const filterValues = (filters: { Name?: string; Values?: string[] }[] | undefined, name: string) =>
    filters?.find((f) => f.Name === name)?.Values;
  const asg = (name: string | undefined) => {
    const found = state.autoScalingGroups[name ?? ''];
    if (!found) throw validation(`AutoScalingGroup name not found - ${name}`);
    return found;
  };
  const targetGroup = (arn: string | undefined) => {
    const found = state.targetGroups.find((g) => g.arn === arn);
    if (!found)
      throw Object.assign(new Error(`Target group '${arn}' not found`), {
        name: 'TargetGroupNotFound',
        $metadata: { httpStatusCode: 400 },
      });
    return found;
  };
  const classic = (name: string | undefined) => {
    const found = state.classicLoadBalancers.find((b) => b.name === name);
    if (!found)
      throw Object.assign(new Error(`There is no ACTIVE Load Balancer named '${name}'`), {
        name: 'LoadBalancerNotFound',
        $metadata: { httpStatusCode: 400 },
      });
    return found;
  };
  const rules = (input: AuthorizeSecurityGroupIngressCommandInput, egress: boolean, add: boolean) => {
    const target = group(input.GroupId);
    const list = egress ? target.IpPermissionsEgress : target.IpPermissions;
    for (const rule of input.IpPermissions ?? []) {
      const index = list.findIndex((existing) => sameRule(existing, rule));
      if (add && index >= 0)
        throw ec2Error('InvalidPermission.Duplicate', 'the specified rule already exists');
      if (!add && index < 0)
        throw ec2Error('InvalidPermission.NotFound', 'the specified rule does not exist');
      if (add) list.push(structuredClone(rule));
      else list.splice(index, 1);
    }
    return { Return: true };
  };

  return {
    DescribeNetworkInterfaces: (input: DescribeNetworkInterfacesCommandInput) => {
      const byInstance = filterValues(input.Filters, 'attachment.instance-id');
      const byGroup = filterValues(input.Filters, 'group-id');
      return {
        NetworkInterfaces: interfaces()
          .filter(
            ({ eni, instanceId }) =>
              (!input.NetworkInterfaceIds?.length ||
                input.NetworkInterfaceIds.includes(eni.networkInterfaceId)) &&
              (!byInstance || byInstance.includes(instanceId)) &&
              (!byGroup || eni.groups.some((id) => byGroup.includes(id))),
          )
          .map(({ eni, instanceId }) => ({
            NetworkInterfaceId: eni.networkInterfaceId,
            VpcId: eni.vpcId,
            Attachment: { InstanceId: instanceId },
            Groups: eni.groups.map((id) => ({ GroupId: id, GroupName: group(id).GroupName })),
          })),
      };
    },
    ModifyNetworkInterfaceAttribute: (input: ModifyNetworkInterfaceAttributeCommandInput) => {
      const found = interfaces().find(({ eni }) => eni.networkInterfaceId === input.NetworkInterfaceId);
      if (!found)
        throw ec2Error(
          'InvalidNetworkInterfaceID.NotFound',
          `The networkInterface ID '${input.NetworkInterfaceId}' does not exist`,
        );
      for (const id of input.Groups ?? []) {
        if (group(id).VpcId !== found.eni.vpcId)
          throw ec2Error(
            'InvalidGroup.NotFound',
            `The security group '${id}' does not exist in VPC '${found.eni.vpcId}'`,
          );
      }
      if (input.Groups) found.eni.groups = [...input.Groups];
      return {};
    },
    DescribeSecurityGroups: (input: DescribeSecurityGroupsCommandInput) => {
      for (const id of input.GroupIds ?? []) group(id);
      const matches = (g: SimulatedSecurityGroup) =>
        (!input.GroupIds?.length || input.GroupIds.includes(g.GroupId)) &&
        (input.Filters ?? []).every((f: { Name?: string; Values?: string[] }) => {
          if (f.Name === 'vpc-id') return f.Values?.includes(g.VpcId);
          if (f.Name === 'group-name') return f.Values?.includes(g.GroupName);
          if (f.Name === 'group-id') return f.Values?.includes(g.GroupId);
          if (f.Name?.startsWith('tag:')) {
            const key = f.Name.slice(4);
            return g.Tags.some((t) => t.Key === key && f.Values?.includes(t.Value));
          }
          throw new Error(`filter ${f.Name} not simulated`);
        });
      return { SecurityGroups: structuredClone(state.securityGroups.filter(matches)) };
    },
    CreateSecurityGroup: (input: CreateSecurityGroupCommandInput) => {
      if (state.securityGroups.some((g) => g.VpcId === input.VpcId && g.GroupName === input.GroupName))
        throw ec2Error(
          'InvalidGroup.Duplicate',
          `The security group '${input.GroupName}' already exists for VPC '${input.VpcId}'`,
        );
      const GroupId = `sg-0${randomUUID().replace(/-/g, '').slice(0, 16)}`;
      state.securityGroups.push({
        GroupId,
        GroupName: input.GroupName ?? '',
        VpcId: input.VpcId ?? '',
        Description: input.Description ?? '',
        Tags: (input.TagSpecifications?.[0]?.Tags ?? []) as { Key: string; Value: string }[],
        IpPermissions: [],
        // EC2 gives a new group an outbound rule allowing everything (IPv4).
        IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      });
      return { GroupId };
    },
    DeleteSecurityGroup: (input: DeleteSecurityGroupCommandInput) => {
      group(input.GroupId);
      if (interfaces().some(({ eni }) => eni.groups.includes(input.GroupId ?? '')))
        throw ec2Error('DependencyViolation', `resource ${input.GroupId} has a dependent object`);
      state.securityGroups = state.securityGroups.filter((g) => g.GroupId !== input.GroupId);
      return {};
    },
    AuthorizeSecurityGroupIngress: (input: AuthorizeSecurityGroupIngressCommandInput) =>
      rules(input, false, true),
    AuthorizeSecurityGroupEgress: (input: AuthorizeSecurityGroupIngressCommandInput) =>
      rules(input, true, true),
    RevokeSecurityGroupIngress: (input: AuthorizeSecurityGroupIngressCommandInput) =>
      rules(input, false, false),
    RevokeSecurityGroupEgress: (input: AuthorizeSecurityGroupIngressCommandInput) =>
      rules(input, true, false),
    CreateTags: (input: CreateTagsCommandInput) => {
      for (const id of input.Resources ?? []) {
        for (const tag of input.Tags ?? []) {
          if (id.startsWith('sg-')) {
            const g = group(id);
            g.Tags = [
              ...g.Tags.filter((t) => t.Key !== tag.Key),
              { Key: tag.Key ?? '', Value: tag.Value ?? '' },
            ];
          } else {
            const target = instance(id);
            target.tags = { ...(target.tags ?? {}), [tag.Key ?? '']: tag.Value ?? '' };
          }
        }
      }
      return {};
    },
    DeleteTags: (input: DeleteTagsCommandInput) => {
      for (const id of input.Resources ?? []) {
        const target = instance(id);
        for (const tag of input.Tags ?? []) delete target.tags?.[tag.Key ?? ''];
      }
      return {};
    },
    DescribeAutoScalingGroups: (input: DescribeAutoScalingGroupsCommandInput) => ({
      AutoScalingGroups: (input.AutoScalingGroupNames ?? [])
        .filter((name: string) => state.autoScalingGroups[name])
        .map((name: string) => ({
          AutoScalingGroupName: name,
          DesiredCapacity: state.autoScalingGroups[name]?.desiredCapacity,
          Instances: instances
            .filter((i) => i.autoScalingGroup === name)
            .map((i) => ({ InstanceId: i.instanceId, LifecycleState: i.lifecycleState })),
        })),
    }),
    EnterStandby: (input: EnterStandbyCommandInput) => {
      const group = asg(input.AutoScalingGroupName);
      for (const id of input.InstanceIds ?? []) {
        const target = instance(id);
        if (target.autoScalingGroup !== input.AutoScalingGroupName || target.lifecycleState !== 'InService')
          throw validation(`The instance ${id} is not in InService.`);
        target.lifecycleState = 'Standby';
        if (input.ShouldDecrementDesiredCapacity) group.desiredCapacity--;
      }
      return { Activities: [] };
    },
    ExitStandby: (input: ExitStandbyCommandInput) => {
      const group = asg(input.AutoScalingGroupName);
      for (const id of input.InstanceIds ?? []) {
        const target = instance(id);
        if (target.lifecycleState !== 'Standby') throw validation(`The instance ${id} is not in Standby.`);
        target.lifecycleState = 'InService';
        // As Auto Scaling does: putting an instance back in service raises the desired capacity.
        group.desiredCapacity++;
      }
      return { Activities: [] };
    },
    DescribeTargetGroups: () => ({
      TargetGroups: state.targetGroups.map((g) => ({
        TargetGroupArn: g.arn,
        TargetGroupName: g.arn.split('/')[1],
        TargetType: 'instance',
      })),
    }),
    DescribeTargetHealth: (input: DescribeTargetHealthCommandInput) => ({
      TargetHealthDescriptions: targetGroup(input.TargetGroupArn).targets.map((t) => ({
        Target: { Id: t.id, Port: t.port },
        TargetHealth: { State: 'healthy' },
      })),
    }),
    DeregisterTargets: (input: DeregisterTargetsCommandInput) => {
      const target = targetGroup(input.TargetGroupArn);
      target.targets = target.targets.filter(
        (t) =>
          !(input.Targets ?? []).some(
            (d: { Id?: string; Port?: number }) =>
              d.Id === t.id && (d.Port === undefined || d.Port === t.port),
          ),
      );
      return {};
    },
    RegisterTargets: (input: RegisterTargetsCommandInput) => {
      const target = targetGroup(input.TargetGroupArn);
      for (const t of input.Targets ?? []) {
        if (!target.targets.some((e) => e.id === t.Id && e.port === t.Port))
          target.targets.push({ id: t.Id ?? '', port: t.Port ?? 80 });
      }
      return {};
    },
    DescribeLoadBalancers: () => ({
      LoadBalancerDescriptions: state.classicLoadBalancers.map((b) => ({
        LoadBalancerName: b.name,
        Instances: b.instances.map((InstanceId) => ({ InstanceId })),
      })),
    }),
    DeregisterInstancesFromLoadBalancer: (input: DeregisterInstancesFromLoadBalancerCommandInput) => {
      const balancer = classic(input.LoadBalancerName);
      const gone = (input.Instances ?? []).map((i: { InstanceId?: string }) => i.InstanceId);
      balancer.instances = balancer.instances.filter((id) => !gone.includes(id));
      return { Instances: balancer.instances.map((InstanceId) => ({ InstanceId })) };
    },
    RegisterInstancesWithLoadBalancer: (input: RegisterInstancesWithLoadBalancerCommandInput) => {
      const balancer = classic(input.LoadBalancerName);
      for (const i of input.Instances ?? [])
        if (i.InstanceId && !balancer.instances.includes(i.InstanceId)) balancer.instances.push(i.InstanceId);
      return { Instances: balancer.instances.map((InstanceId) => ({ InstanceId })) };
    },
  };
}
