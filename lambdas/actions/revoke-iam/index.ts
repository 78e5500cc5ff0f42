/** revoke-iam behind the one shape every action has (lambdas/actions/action.ts). */
import { z } from 'zod';
import type { Action } from '../action.js';
import {
  revokeIam as contain,
  decideRole,
  type ProfileBefore,
  ProfileBeforeSchema,
  type RevokeInput,
  type RoleRecord,
  RoleRecordSchema,
  reassociateProfile,
  restoreRole,
} from './revoke-iam.js';
import { spec } from './spec.js';

/** A role's policies, or an instance's profile. */
type Before = RoleRecord | ProfileBefore;
const isRole = (before: Before): before is RoleRecord => 'roleName' in before;

export const revokeIam: Action<RevokeInput, Before> = {
  spec,
  targets: (identification, plan) =>
    identification.roles
      .filter((role) => !('leftAlone' in decideRole(role, plan, identification.instances)))
      .map((role) => `role ${role.name}`),
  contain: (input, { clients, settings }, journal) => contain(input, clients, settings, journal),
  before: z.union([RoleRecordSchema, ProfileBeforeSchema]),
  resourceOf: ({ before }) =>
    isRole(before) ? `role ${before.roleName}` : `instance profile of ${before.instanceId}`,
  undo: (entry, clients) =>
    isRole(entry.before)
      ? restoreRole(clients.iam, entry.before)
      : reassociateProfile(clients.ec2, entry.before),
  // Revoked IAM stays revoked: its credentials are rotated and its policies reviewed first.
  recover: (entry) => (entry.status === 'ok' ? [{ kind: 'stays', target: entry.target }] : []),
  remains: (targets) =>
    `IAM stays revoked. Rotate the credentials of ${targets.join(', ')} and review their policies before re-attaching any (the record keeps what was detached).`,
};
