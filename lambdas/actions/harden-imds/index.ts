/** harden-imds behind the one shape every action has (lambdas/actions/action.ts). */
import type { Action } from '../action.js';
import {
  hardenImds as contain,
  type HardenInput,
  type MetadataBefore,
  MetadataBeforeSchema,
  restoreImds,
} from './harden-imds.js';
import { spec } from './spec.js';

export const hardenImds: Action<HardenInput, MetadataBefore> = {
  spec,
  targets: (identification) => identification.instances.map((instance) => `instance ${instance.instanceId}`),
  contain: (input, { clients }, journal) => contain(input, clients, journal),
  before: MetadataBeforeSchema,
  resourceOf: ({ before }) => `instance ${before.instanceId}`,
  undo: (entry, clients) => restoreImds(clients.ec2, entry.before),
  // Recover keeps it: the instance is replaced (by the entries that protect or isolate it), not reopened.
};
