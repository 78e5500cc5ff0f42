/** revoke-sessions behind the one shape every action has (lambdas/actions/action.ts). */
import { roleLeftAlone, rolesOfAccessKey } from '../../identify/identification.js';
import type { Action } from '../action.js';
import {
  revokeSessions as contain,
  REVOKE_SESSIONS_POLICY,
  type RevokeSessionsInput,
  restoreSessions,
  type SessionsBefore,
  SessionsBeforeSchema,
} from './revoke-sessions.js';
import { spec } from './spec.js';

export const revokeSessions: Action<RevokeSessionsInput, SessionsBefore> = {
  spec,
  targets: (identification) =>
    rolesOfAccessKey(identification)
      .filter((role) => roleLeftAlone(role) === null)
      .map((role) => `role ${role.name}`),
  contain: (input, { clients }, journal) => contain(input, clients, journal),
  before: SessionsBeforeSchema,
  resourceOf: ({ before }) => `role ${before.roleName}`,
  undo: (entry, clients) => restoreSessions(clients.iam, entry.before),
  // The deny stays: it is harmless to sessions issued after the response.
  recover: (entry) => (entry.status === 'ok' ? [{ kind: 'stays', target: entry.target }] : []),
  remains: (targets) =>
    `The sessions issued before the response stay denied on ${targets.join(', ')} (inline policy ${REVOKE_SESSIONS_POLICY}); it can be deleted once no session that old can be alive (36 hours at most).`,
};
