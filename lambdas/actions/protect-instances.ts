/**
 * aws:protect-instances. Keeps a compromised instance, and its disks, from going away before the
 * investigation: EC2 termination protection (`DisableApiTermination`), its EBS volumes kept on
 * termination, and scale-in protection in its Auto Scaling group. A node that Karpenter manages (no Auto
 * Scaling group) gets the `karpenter.sh/do-not-disrupt` annotation instead. Every previous value is
 * recorded for release.
 */
import {
  type AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstanceAttributeCommand,
  type EC2Client,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import type { Kubernetes } from '../clients/kubernetes.js';
import { type ActionResult, item, skippedResult, unlessPlanned } from '../core/action-result.js';
import type { ResponsePlan } from '../core/plan.js';
import { KARPENTER_DO_NOT_DISRUPT } from '../core/quarantine.js';
import type { Identification, IdentifiedInstance } from '../identify/identify.js';
import { settle } from '../shared/errors.js';

export type ProtectInput = {
  plan: ResponsePlan;
  cluster: Identification['cluster'];
  target: IdentifiedInstance;
};
export type ProtectPorts = {
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  kubernetes: (cluster: string) => Promise<Kubernetes>;
};

const GONE = new Set(['shutting-down', 'terminated']);

async function terminationProtection(ec2: EC2Client, instanceId: string): Promise<boolean> {
  const answer = await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
  );
  return answer.DisableApiTermination?.Value === true;
}

async function scaleInProtection(
  autoScaling: AutoScalingClient,
  instanceId: string,
): Promise<boolean | null> {
  const answer = await autoScaling.send(
    new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
  );
  return answer.AutoScalingInstances?.[0]?.ProtectedFromScaleIn ?? null;
}

export async function protectInstance(input: ProtectInput, ports: ProtectPorts): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'protect-instances');
  if (notPlanned) return notPlanned;
  const instance = input.target;
  const target = `instance ${instance.instanceId}`;
  if (GONE.has(instance.state)) return skippedResult('protect-instances', `${target} is ${instance.state}`);

  const done: string[] = [];
  const failures: string[] = [];
  const checks: boolean[] = [];
  const restore: Record<string, unknown> = { instanceId: instance.instanceId };

  const termination = await settle(async () => {
    const before = await terminationProtection(ports.ec2, instance.instanceId);
    restore.terminationProtection = before;
    if (!before) {
      await ports.ec2.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: instance.instanceId,
          DisableApiTermination: { Value: true },
        }),
      );
    }
    checks.push(await terminationProtection(ports.ec2, instance.instanceId));
    done.push(before ? 'termination protection already on' : 'termination protection on');
  });
  if (!termination.ok) failures.push(`termination protection: ${termination.error}`);

  const deleted = instance.volumes.filter((volume) => volume.deleteOnTermination && volume.deviceName);
  if (deleted.length > 0) {
    const keep = await settle(async () => {
      await ports.ec2.send(
        new ModifyInstanceAttributeCommand({
          InstanceId: instance.instanceId,
          BlockDeviceMappings: deleted.map((volume) => ({
            DeviceName: volume.deviceName ?? '',
            Ebs: { VolumeId: volume.volumeId, DeleteOnTermination: false },
          })),
        }),
      );
      restore.deleteOnTermination = deleted.map((volume) => volume.deviceName);
      done.push(`volumes kept on termination: ${deleted.map((volume) => volume.volumeId).join(', ')}`);
    });
    if (!keep.ok) failures.push(`keep volumes on termination: ${keep.error}`);
  }

  if (instance.autoScalingGroup) {
    const group = instance.autoScalingGroup;
    const scaleIn = await settle(async () => {
      const before = await scaleInProtection(ports.autoScaling, instance.instanceId);
      restore.autoScalingGroup = group;
      restore.scaleInProtection = before;
      if (!before) {
        await ports.autoScaling.send(
          new SetInstanceProtectionCommand({
            AutoScalingGroupName: group,
            InstanceIds: [instance.instanceId],
            ProtectedFromScaleIn: true,
          }),
        );
      }
      checks.push((await scaleInProtection(ports.autoScaling, instance.instanceId)) === true);
      done.push(before ? `scale-in protection already on in ${group}` : `scale-in protection on in ${group}`);
    });
    if (!scaleIn.ok) failures.push(`scale-in protection: ${scaleIn.error}`);
  } else if (instance.karpenter && instance.nodeName && input.cluster?.managed) {
    const nodeName = instance.nodeName;
    const karpenter = await settle(async () => {
      const kube = await ports.kubernetes(input.cluster?.name ?? '');
      const node = await kube.readNode(nodeName);
      if (!node) throw new Error(`node ${nodeName} no longer exists`);
      const before = node.metadata?.annotations?.[KARPENTER_DO_NOT_DISRUPT] ?? null;
      restore.karpenterDoNotDisrupt = { node: nodeName, before };
      if (before !== 'true')
        await kube.patchNode(nodeName, { metadata: { annotations: { [KARPENTER_DO_NOT_DISRUPT]: 'true' } } });
      checks.push(
        (await kube.readNode(nodeName))?.metadata?.annotations?.[KARPENTER_DO_NOT_DISRUPT] === 'true',
      );
      done.push(`${KARPENTER_DO_NOT_DISRUPT}=true on node ${nodeName}`);
    });
    if (!karpenter.ok) failures.push(`Karpenter annotation: ${karpenter.error}`);
  } else {
    done.push('in no Auto Scaling group and not a Karpenter node: nothing would scale it in');
  }

  const verified = checks.length > 0 && checks.every(Boolean);
  const status = failures.length > 0 ? 'failed' : verified ? 'ok' : 'failed';
  return {
    action: 'protect-instances',
    skipped: null,
    items: [item(target, status, [...done, ...failures].join('; '), { verified, restore })],
  };
}
