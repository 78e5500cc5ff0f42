/**
 * The EC2 side of identification, for the instances the response acts on: their state, Auto Scaling
 * group, instance-profile role (and who else runs with that profile) and EBS volumes.
 */
import type { AwsReader, InstanceDescription, RoleRef } from '../clients/aws.js';
import { clusterFromInstanceTags } from '../core/targets.js';
import { type Findings, type IdentifiedNode, isKarpenterKey } from './identification.js';

/** An instance to act on, with the node it backs (null for a standalone instance). */
export type WantedInstance = { instanceId: string; node: IdentifiedNode | null };

export async function resolveInstances(
  aws: AwsReader,
  wanted: readonly WantedInstance[],
  described: Map<string, InstanceDescription>,
  found: Findings,
): Promise<void> {
  const ids = wanted.map((w) => w.instanceId);
  const toDescribe = ids.filter((id) => !described.has(id));
  for (const instance of await aws.describeInstances(toDescribe))
    described.set(instance.instanceId, instance);

  const live = ids.filter((id) => described.get(id) && described.get(id)?.state !== 'terminated');
  let groups = new Map<string, string>();
  await found.attempt(
    'auto scaling groups',
    ['instances'],
    async () => {
      groups = await aws.autoScalingGroups(live);
    },
    'scale-in protection cannot be set',
  );

  const profileRoles = new Map<string, RoleRef | null>();
  for (const { instanceId, node } of wanted) {
    const instance = described.get(instanceId);
    if (!instance) {
      found.missing(
        'instance',
        instanceId,
        'no such instance (terminated and gone, or never in this account)',
      );
      continue;
    }
    const profile = instance.instanceProfileArn;
    if (profile && !profileRoles.has(profile)) {
      await found.attempt(`instance profile ${profile}`, ['roles'], async () => {
        const role = await aws.instanceProfileRole(profile);
        profileRoles.set(profile, role);
        if (!role)
          found.missing('instance-profile', profile, 'no such instance profile, or it holds no role');
      });
    }
    const role = profile ? (profileRoles.get(profile) ?? null) : null;
    if (role) found.addRole(role, 'instance-profile', `instance ${instanceId}`);
    found.result.instances.push({
      instanceId,
      state: instance.state,
      nodeName: node?.name ?? null,
      cluster: clusterFromInstanceTags(instance.tags),
      autoScalingGroup: groups.get(instanceId) ?? null,
      karpenter: (node?.karpenter ?? false) || instance.tags.some((tag) => isKarpenterKey(tag.key)),
      instanceProfileArn: profile,
      role,
      volumes: instance.volumes,
      metadata: instance.metadata,
    });
  }
  for (const [profile, role] of profileRoles) {
    if (!role) continue;
    const told = await found.attempt(
      `instances sharing ${profile}`,
      [],
      async () => {
        const others = await aws.otherInstancesWithProfile(profile, ids);
        found.sharedWith(
          role.arn,
          others.map((id) => `instance ${id}`),
        );
      },
      'the role is treated as shared',
    );
    if (!told) found.sharedWith(role.arn, null);
  }
}
