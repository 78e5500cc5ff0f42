/** Auto Scaling: group membership, scale-in protection, Standby with the desired capacity, termination in a group. The AWS query protocol (`member` lists). */
import type {
  DescribeAutoScalingGroupsCommandInput,
  DescribeAutoScalingInstancesCommandInput,
  EnterStandbyCommandInput,
  ExitStandbyCommandInput,
  SetInstanceProtectionCommandInput,
  TerminateInstanceInAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import { validation } from './state.js';
import { bool, memberList, members, num, type Out, type SimulatedService, text } from './wire.js';
export const autoscaling: SimulatedService = {
  operations: (s) => {
    const { instances, instance } = s;
    const state = s.network;
    const asg = (name: string | undefined) => {
      const found = state.autoScalingGroups[name ?? ''];
      if (!found) throw validation(`AutoScalingGroup name not found - ${name}`);
      return found;
    };
    return {
      DescribeAutoScalingInstances: (input: DescribeAutoScalingInstancesCommandInput) => ({
        AutoScalingInstances: instances
          .filter((i) => i.autoScalingGroup && input.InstanceIds?.includes(i.instanceId))
          .map((i) => ({
            InstanceId: i.instanceId,
            AutoScalingGroupName: i.autoScalingGroup,
            ProtectedFromScaleIn: i.scaleInProtected === true,
            LifecycleState: i.lifecycleState ?? 'InService',
          })),
      }),
      SetInstanceProtection: (input: SetInstanceProtectionCommandInput) => {
        for (const id of input.InstanceIds ?? []) {
          const target = instance(id);
          if (target.autoScalingGroup !== input.AutoScalingGroupName) {
            throw new Error(
              `The instance ${id} is not part of Auto Scaling group ${input.AutoScalingGroupName}.`,
            );
          }
          target.scaleInProtected = input.ProtectedFromScaleIn === true;
        }
        return {};
      },
      TerminateInstanceInAutoScalingGroup: (input: TerminateInstanceInAutoScalingGroupCommandInput) => {
        const target = instance(input.InstanceId);
        if (!target.autoScalingGroup || target.state === 'terminated')
          throw validation(`The instance ${input.InstanceId} is not part of any Auto Scaling group.`);
        if (target.lifecycleState === 'Standby')
          throw validation(`The instance ${input.InstanceId} is in Standby.`);
        if (target.terminationProtection)
          throw validation(
            `The instance ${input.InstanceId} may not be terminated: termination protection is on.`,
          );
        target.state = 'terminated';
        target.lifecycleState = 'Terminating';
        return { Activity: { ActivityId: `terminate-${target.instanceId}`, StatusCode: 'InProgress' } };
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
    };
  },
  xmlns: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
  query: {
    DescribeAutoScalingInstances: {
      input: (p) => ({
        InstanceIds: memberList(p.InstanceIds),
        MaxRecords: num(p.MaxRecords),
      }),
      output: (out) =>
        members(
          'AutoScalingInstances',
          out.AutoScalingInstances,
          (i: Out) =>
            text('InstanceId', i.InstanceId) +
            text('AutoScalingGroupName', i.AutoScalingGroupName) +
            text('AvailabilityZone', 'us-east-1a') +
            text('LifecycleState', i.LifecycleState ?? 'InService') +
            text('HealthStatus', 'HEALTHY') +
            text('ProtectedFromScaleIn', i.ProtectedFromScaleIn),
        ),
    },
    SetInstanceProtection: {
      input: (p) => ({
        AutoScalingGroupName: p.AutoScalingGroupName,
        InstanceIds: memberList(p.InstanceIds),
        ProtectedFromScaleIn: bool(p.ProtectedFromScaleIn),
      }),
      output: () => '',
    },
    TerminateInstanceInAutoScalingGroup: {
      input: (p) => ({
        InstanceId: p.InstanceId,
        ShouldDecrementDesiredCapacity: bool(p.ShouldDecrementDesiredCapacity),
      }),
      output: (out) =>
        `<Activity>${text('ActivityId', out.Activity?.ActivityId)}${text('StatusCode', out.Activity?.StatusCode)}</Activity>`,
    },
    DescribeAutoScalingGroups: {
      input: (p) => ({ AutoScalingGroupNames: memberList(p.AutoScalingGroupNames) }),
      output: (out) =>
        members(
          'AutoScalingGroups',
          out.AutoScalingGroups,
          (g: Out) =>
            text('AutoScalingGroupName', g.AutoScalingGroupName) +
            text('DesiredCapacity', g.DesiredCapacity) +
            members(
              'Instances',
              g.Instances,
              (i: Out) => text('InstanceId', i.InstanceId) + text('LifecycleState', i.LifecycleState),
            ),
        ),
    },
    EnterStandby: {
      input: (p) => ({
        AutoScalingGroupName: p.AutoScalingGroupName,
        InstanceIds: memberList(p.InstanceIds),
        ShouldDecrementDesiredCapacity: bool(p.ShouldDecrementDesiredCapacity),
      }),
      output: () => members('Activities', [], () => ''),
    },
    ExitStandby: {
      input: (p) => ({
        AutoScalingGroupName: p.AutoScalingGroupName,
        InstanceIds: memberList(p.InstanceIds),
      }),
      output: () => members('Activities', [], () => ''),
    },
  },
};
