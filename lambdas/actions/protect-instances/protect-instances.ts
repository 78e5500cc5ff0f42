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
import { z } from 'zod';
import type { Kubernetes } from '../../clients/kubernetes.js';
import {
  type ActionItem,
  type ActionResult,
  item,
  skippedResult,
  unlessPlanned,
} from '../../core/action-result.js';
import { KARPENTER_DO_NOT_DISRUPT } from '../../core/quarantine.js';
import type { Identification, IdentifiedInstance, TargetInput } from '../../identify/identify.js';
import { type Journal, journaled } from '../../incident/journal.js';
import { settle } from '../../shared/errors.js';

export type ProtectInput = TargetInput<IdentifiedInstance>;
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

/** An instance's protections before containment, as recorded. */
export const InstanceBeforeSchema = z.strictObject({
  instanceId: z.string().min(1),
  terminationProtection: z.boolean(),
  /** Devices whose volume was deleted on termination. */
  deleteOnTermination: z.array(z.string()),
  autoScalingGroup: z.string().nullable(),
  scaleInProtection: z.boolean().nullable(),
  /** The Karpenter node's do-not-disrupt annotation (null: absent). */
  karpenter: z
    .strictObject({ cluster: z.string().min(1), node: z.string().min(1), annotation: z.string().nullable() })
    .nullable(),
});
export type InstanceBefore = z.infer<typeof InstanceBeforeSchema>;

/** The instance's protections as they are now. */
async function readProtection(
  instance: IdentifiedInstance,
  cluster: Identification['cluster'],
  ports: ProtectPorts,
): Promise<InstanceBefore> {
  const karpenterNode =
    !instance.autoScalingGroup && instance.karpenter && cluster?.managed ? instance.nodeName : null;
  let karpenter: InstanceBefore['karpenter'] = null;
  if (karpenterNode && cluster) {
    const kube = await ports.kubernetes(cluster.name);
    const node = await kube.readNode(karpenterNode);
    if (!node) throw new Error(`node ${karpenterNode} no longer exists`);
    karpenter = {
      cluster: cluster.name,
      node: karpenterNode,
      annotation: node.metadata?.annotations?.[KARPENTER_DO_NOT_DISRUPT] ?? null,
    };
  }
  return {
    instanceId: instance.instanceId,
    terminationProtection: await terminationProtection(ports.ec2, instance.instanceId),
    deleteOnTermination: instance.volumes
      .filter((volume) => volume.deleteOnTermination && volume.deviceName)
      .map((volume) => volume.deviceName ?? ''),
    autoScalingGroup: instance.autoScalingGroup,
    scaleInProtection: instance.autoScalingGroup
      ? await scaleInProtection(ports.autoScaling, instance.instanceId)
      : null,
    karpenter,
  };
}

export async function protectInstance(
  input: ProtectInput,
  ports: ProtectPorts,
  journal: Journal,
): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'protect-instances');
  if (notPlanned) return notPlanned;
  const instance = input.target;
  const target = `instance ${instance.instanceId}`;
  if (GONE.has(instance.state)) return skippedResult('protect-instances', `${target} is ${instance.state}`);
  // Instance ids are unique in the account: the entry is the same whichever finding (EKS or EC2) names it.
  // The state read now decides what to change; the state first recorded (the same, unless this is a
  // retry after a crash) is what release puts back.
  const at = { action: 'protect-instances', cluster: null, target };
  const protectedNow = await settle(async () => {
    const current = await readProtection(instance, input.cluster, ports);
    return journaled(journal, at, current, async (before) => {
      const done: string[] = [];
      const failures: string[] = [];
      const checks: boolean[] = [];

      const termination = await settle(async () => {
        if (!current.terminationProtection) {
          await ports.ec2.send(
            new ModifyInstanceAttributeCommand({
              InstanceId: instance.instanceId,
              DisableApiTermination: { Value: true },
            }),
          );
        }
        checks.push(await terminationProtection(ports.ec2, instance.instanceId));
        done.push(
          before.terminationProtection ? 'termination protection already on' : 'termination protection on',
        );
      });
      if (!termination.ok) failures.push(`termination protection: ${termination.error}`);

      const kept = instance.volumes.filter(
        (volume) => volume.deviceName !== null && current.deleteOnTermination.includes(volume.deviceName),
      );
      if (kept.length > 0) {
        const keep = await settle(async () => {
          await ports.ec2.send(
            new ModifyInstanceAttributeCommand({
              InstanceId: instance.instanceId,
              BlockDeviceMappings: kept.map((volume) => ({
                DeviceName: volume.deviceName ?? '',
                Ebs: { VolumeId: volume.volumeId, DeleteOnTermination: false },
              })),
            }),
          );
          done.push(`volumes kept on termination: ${kept.map((volume) => volume.volumeId).join(', ')}`);
        });
        if (!keep.ok) failures.push(`keep volumes on termination: ${keep.error}`);
      }

      const group = before.autoScalingGroup;
      const karpenter = before.karpenter;
      if (group) {
        const scaleIn = await settle(async () => {
          if (!current.scaleInProtection) {
            await ports.autoScaling.send(
              new SetInstanceProtectionCommand({
                AutoScalingGroupName: group,
                InstanceIds: [instance.instanceId],
                ProtectedFromScaleIn: true,
              }),
            );
          }
          checks.push((await scaleInProtection(ports.autoScaling, instance.instanceId)) === true);
          done.push(
            before.scaleInProtection
              ? `scale-in protection already on in ${group}`
              : `scale-in protection on in ${group}`,
          );
        });
        if (!scaleIn.ok) failures.push(`scale-in protection: ${scaleIn.error}`);
      } else if (karpenter) {
        const annotated = await settle(async () => {
          const kube = await ports.kubernetes(karpenter.cluster);
          if (current.karpenter?.annotation !== 'true') {
            await kube.patchNode(karpenter.node, {
              metadata: { annotations: { [KARPENTER_DO_NOT_DISRUPT]: 'true' } },
            });
          }
          checks.push(
            (await kube.readNode(karpenter.node))?.metadata?.annotations?.[KARPENTER_DO_NOT_DISRUPT] ===
              'true',
          );
          done.push(`${KARPENTER_DO_NOT_DISRUPT}=true on node ${karpenter.node}`);
        });
        if (!annotated.ok) failures.push(`Karpenter annotation: ${annotated.error}`);
      } else {
        done.push('in no Auto Scaling group and not a Karpenter node: nothing would scale it in');
      }

      const verified = checks.length > 0 && checks.every(Boolean);
      const status = failures.length > 0 ? 'failed' : verified ? 'ok' : 'failed';
      const result = item(target, status, [...done, ...failures].join('; '), { verified, restore: before });
      return { item: result };
    });
  });
  const result = protectedNow.ok ? protectedNow.value : item(target, 'failed', protectedNow.error);
  return { action: 'protect-instances', skipped: null, items: [result] };
}

/** Release: every protection back to its recorded value; only what the responder turned on is turned off. */
export async function unprotectInstance(before: InstanceBefore, ports: ProtectPorts): Promise<ActionItem> {
  const target = `instance ${before.instanceId}`;
  const done: string[] = [];
  if (!before.terminationProtection) {
    await ports.ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: before.instanceId,
        DisableApiTermination: { Value: false },
      }),
    );
    done.push('termination protection off');
  }
  if (before.deleteOnTermination.length > 0) {
    await ports.ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: before.instanceId,
        BlockDeviceMappings: before.deleteOnTermination.map((DeviceName) => ({
          DeviceName,
          Ebs: { DeleteOnTermination: true },
        })),
      }),
    );
    done.push(`volumes deleted on termination again: ${before.deleteOnTermination.join(', ')}`);
  }
  if (before.autoScalingGroup && before.scaleInProtection === false) {
    await ports.autoScaling.send(
      new SetInstanceProtectionCommand({
        AutoScalingGroupName: before.autoScalingGroup,
        InstanceIds: [before.instanceId],
        ProtectedFromScaleIn: false,
      }),
    );
    done.push(`scale-in protection off in ${before.autoScalingGroup}`);
  }
  if (before.karpenter) {
    const kube = await ports.kubernetes(before.karpenter.cluster);
    await kube.patchNode(before.karpenter.node, {
      metadata: { annotations: { [KARPENTER_DO_NOT_DISRUPT]: before.karpenter.annotation } },
    });
    done.push(`${KARPENTER_DO_NOT_DISRUPT} on node ${before.karpenter.node} put back`);
  }
  const verified =
    (await terminationProtection(ports.ec2, before.instanceId)) === before.terminationProtection &&
    (!before.autoScalingGroup ||
      (await scaleInProtection(ports.autoScaling, before.instanceId)) === before.scaleInProtection);
  return item(
    target,
    verified ? 'ok' : 'failed',
    done.join('; ') || 'was protected before the incident; left so',
    {
      verified,
    },
  );
}
