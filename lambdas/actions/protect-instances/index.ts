/** protect-instances behind the one shape every action has (lambdas/actions/action.ts). */
import type { Action } from '../action.js';
import {
  type InstanceBefore,
  InstanceBeforeSchema,
  type ProtectInput,
  protectInstance,
  unprotectInstance,
} from './protect-instances.js';
import { spec } from './spec.js';

export const protectInstances: Action<ProtectInput, InstanceBefore> = {
  spec,
  targets: (identification) => identification.instances.map((instance) => `instance ${instance.instanceId}`),
  contain: (input, { clients }, journal) => protectInstance(input, clients, journal),
  before: InstanceBeforeSchema,
  resourceOf: ({ before }) => `instance ${before.instanceId}`,
  undo: (entry, clients) => unprotectInstance(entry.before, clients),
  // A protected instance is replaced (its protections lifted first) through its Auto Scaling group, or
  // through its Karpenter NodeClaim.
  recover: ({ before }) => [
    {
      kind: 'instance',
      instanceId: before.instanceId,
      autoScalingGroup: before.autoScalingGroup,
      karpenter: before.karpenter && { cluster: before.karpenter.cluster, node: before.karpenter.node },
    },
  ],
};
