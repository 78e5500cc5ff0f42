/**
 * The registry: every action, in the order the state machine runs them within a branch. The plan,
 * approvals, release, recover, the permissions, the settings schema, the state machine, the local runner
 * and the stack read it; adding an action is a folder and a line here (docs/contributing/adding-an-action.md).
 */
import type { ActionSpec } from '../core/action-spec.js';
import type { AnyAction } from './action.js';
import { cordonNodes } from './cordon-nodes/index.js';
import { hardenImds } from './harden-imds/index.js';
import { isolateHost } from './isolate-host/index.js';
import { isolatePods } from './isolate-pods/index.js';
import { protectInstances } from './protect-instances/index.js';
import { revokeIam } from './revoke-iam/index.js';
import { revokeSessions } from './revoke-sessions/index.js';
import { snapshotVolumes } from './snapshot-volumes/index.js';

export const REGISTRY: readonly AnyAction[] = [
  isolatePods,
  cordonNodes,
  isolateHost,
  protectInstances,
  hardenImds,
  revokeIam,
  revokeSessions,
  snapshotVolumes,
] as AnyAction[];

/** The specs, in registry order. */
export const SPECS: readonly ActionSpec[] = REGISTRY.map((action) => action.spec);

/** The names, in registry order. */
export const ACTION_NAMES: readonly string[] = SPECS.map((spec) => spec.name);

/** The registered action of that name, or undefined. */
export const actionNamed = (name: string): AnyAction | undefined =>
  REGISTRY.find((action) => action.spec.name === name);
