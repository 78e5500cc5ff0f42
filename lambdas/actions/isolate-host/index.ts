/** isolate-host behind the one shape every action has (lambdas/actions/action.ts). */
import type { Action } from '../action.js';
import {
  isolateHost as contain,
  type HostBefore,
  HostBeforeSchema,
  type IsolateHostInput,
  releaseHost,
} from './isolate-host.js';
import { spec } from './spec.js';

export const isolateHost: Action<IsolateHostInput, HostBefore> = {
  spec,
  targets: (identification) => identification.hosts.map((host) => `instance ${host.instanceId}`),
  contain: (input, { clients, settings }, journal) => contain(input, clients, settings, journal),
  before: HostBeforeSchema,
  resourceOf: ({ before }) => `instance ${before.instanceId}`,
  undo: (entry, ports) => releaseHost(entry.before, ports, ports.ownGroup),
  // An isolated host is replaced; its group is what the record says.
  recover: ({ before }) => [
    { kind: 'instance', instanceId: before.instanceId, autoScalingGroup: before.autoScaling?.group ?? null },
  ],
};
