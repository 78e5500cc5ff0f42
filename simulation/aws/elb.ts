/** Elastic Load Balancing: target groups (v2) and Classic Load Balancers with their registrations. One signing name, two APIs told apart by their Version. */
import type {
  DeregisterInstancesFromLoadBalancerCommandInput,
  RegisterInstancesWithLoadBalancerCommandInput,
} from '@aws-sdk/client-elastic-load-balancing';
import type {
  DeregisterTargetsCommandInput,
  DescribeTargetHealthCommandInput,
  RegisterTargetsCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { el, memberList, members, num, type Out, type SimulatedService, text } from './wire.js';

const classicInstances = (p: Out) => ({
  LoadBalancerName: p.LoadBalancerName,
  Instances: memberList(p.Instances),
});

const elbTargets = (node: unknown) => memberList(node).map((t: Out) => ({ Id: t.Id, Port: num(t.Port) }));

export const elb: SimulatedService = {
  operations: (s) => {
    const state = s.network;
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
    return {
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
          if (i.InstanceId && !balancer.instances.includes(i.InstanceId))
            balancer.instances.push(i.InstanceId);
        return { Instances: balancer.instances.map((InstanceId) => ({ InstanceId })) };
      },
    };
  },
  xmlns: undefined,
  query: {
    DescribeTargetGroups: {
      input: (p) => ({ Marker: p.Marker }),
      output: (out) =>
        members(
          'TargetGroups',
          out.TargetGroups,
          (g: Out) =>
            text('TargetGroupArn', g.TargetGroupArn) +
            text('TargetGroupName', g.TargetGroupName) +
            text('TargetType', g.TargetType),
        ),
    },
    DescribeTargetHealth: {
      input: (p) => ({ TargetGroupArn: p.TargetGroupArn }),
      output: (out) =>
        members(
          'TargetHealthDescriptions',
          out.TargetHealthDescriptions,
          (t: Out) =>
            el('Target', text('Id', t.Target?.Id) + text('Port', t.Target?.Port)) +
            el('TargetHealth', text('State', t.TargetHealth?.State)),
        ),
    },
    DeregisterTargets: {
      input: (p) => ({ TargetGroupArn: p.TargetGroupArn, Targets: elbTargets(p.Targets) }),
      output: () => '',
    },
    RegisterTargets: {
      input: (p) => ({ TargetGroupArn: p.TargetGroupArn, Targets: elbTargets(p.Targets) }),
      output: () => '',
    },
    DescribeLoadBalancers: {
      input: (p) => ({ Marker: p.Marker }),
      output: (out) =>
        members(
          'LoadBalancerDescriptions',
          out.LoadBalancerDescriptions,
          (b: Out) =>
            text('LoadBalancerName', b.LoadBalancerName) +
            members('Instances', b.Instances, (i: Out) => text('InstanceId', i.InstanceId)),
        ),
    },
    DeregisterInstancesFromLoadBalancer: {
      input: classicInstances,
      output: (out) => members('Instances', out.Instances, (i: Out) => text('InstanceId', i.InstanceId)),
    },
    RegisterInstancesWithLoadBalancer: {
      input: classicInstances,
      output: (out) => members('Instances', out.Instances, (i: Out) => text('InstanceId', i.InstanceId)),
    },
  },
};
