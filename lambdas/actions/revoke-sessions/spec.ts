/** revoke-sessions, as data: where it runs, when it applies, what it needs to contain and to undo. */
import type { ActionSpec } from '../../core/action-spec.js';
import { RECORDS, SIGNS } from '../../core/needs.js';

export const spec = {
  name: 'revoke-sessions',
  resultKey: 'revokeSessions',
  functionId: 'RevokeSessions',
  state: 'RevokeSessions',
  description: "Denies a role's sessions issued before the response, recording it",
  comment: "Deny the sessions of the finding's role issued before now",
  timeoutSeconds: 60,
  phase: 'cut',
  branch: 'Sessions',
  targetKind: 'roles',
  items: null,
  heldBack: null,
  budget: 'roles',
  appliesTo: ['role'],
  changesCluster: false,
  cutsClusterNodes: false,
  defaultRules: ['role-credentials-used-elsewhere'],
  evidence: false,
  secondPerson: true,
  contain: {
    incidentTable: RECORDS,
    recordKey: SIGNS,
    iam: [
      {
        actions: ['iam:GetRolePolicy', 'iam:PutRolePolicy'],
        scope: 'roles',
        why: "read, then put the inline policy that denies a role's sessions issued before the response",
      },
    ],
    rbac: [],
  },
  undo: {
    iam: [
      {
        actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:GetRolePolicy'],
        scope: 'roles',
        why: "delete (or put back) a role's session revocation, and read it back",
      },
    ],
    rbac: [],
  },
} as const satisfies ActionSpec;
