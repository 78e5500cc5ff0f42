/**
 * aws:revoke-sessions. Revokes the sessions of a role whose temporary credentials someone else holds (an
 * instance role's credentials used outside the instance, a role's access key in a finding): an inline
 * policy that denies everything to credentials issued before the response (`aws:TokenIssueTime`), as
 * the IAM console's "Revoke active sessions" does. Every other policy of the role stays, so the instances
 * and workloads that use the role go on once they hold fresh credentials; stripping the role
 * (revoke-iam) would break them for good. The policy has one name, so two incidents on one role share it; release deletes it, or
 * puts back the one another incident wrote first.
 */

import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  type IAMClient,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { z } from 'zod';
import { policyDocumentOf } from '../../clients/policy-document.js';
import {
  type ActionItem,
  type ActionResult,
  heldBack,
  item,
  skippedResult,
  unlessPlanned,
} from '../../core/action-result.js';
import type { ResponsePlan } from '../../core/plan.js';
import { REVOKE_SESSIONS_POLICY } from '../../core/quarantine.js';
import {
  type Identification,
  type IdentifiedRole,
  roleLeftAlone,
  rolesOfAccessKey,
} from '../../identify/identification.js';
import { type Journal, journaled } from '../../incident/journal.js';
import { settle } from '../../shared/errors.js';

export type RevokeSessionsInput = { plan: ResponsePlan; identification: Identification };
export type RevokeSessionsPorts = { iam: IAMClient };

export { REVOKE_SESSIONS_POLICY };

/** A role's revocation policy before the response: null when it had none. */
export const SessionsBeforeSchema = z.strictObject({
  roleName: z.string().min(1),
  policyName: z.string().min(1),
  previousDocument: z.string().nullable(),
});
export type SessionsBefore = z.infer<typeof SessionsBeforeSchema>;

/** Denies every action to the role's credentials issued before `issuedBefore` (ISO 8601, UTC). */
export function revokeSessionsDocument(issuedBefore: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'GuardDutyResponderRevokeOlderSessions',
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } },
      },
    ],
  });
}

const CAVEATS = [
  'every session of the role issued before then is denied, those of its legitimate users too: instances that use the role are denied until EC2 rotates their credentials (new ones come at least five minutes before the old ones expire, which can be hours away); other callers must assume the role again',
  'whoever can still obtain new credentials for the role (from the instance, or by assuming it) is not stopped: contain the source as well',
  'IAM applies the policy within seconds to a few minutes',
];

/** The role's revocation policy, its document decoded; null when there is none. */
async function readPolicy(iam: IAMClient, roleName: string): Promise<string | null> {
  try {
    const answer = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_SESSIONS_POLICY }),
    );
    return policyDocumentOf(answer.PolicyDocument);
  } catch (error) {
    if (error instanceof NoSuchEntityException) return null;
    throw error;
  }
}

const sameDocument = (a: string | null, b: string) => {
  try {
    return a !== null && JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
};

async function revokeRole(
  iam: IAMClient,
  role: IdentifiedRole,
  account: string,
  journal: Journal,
  now: () => Date,
): Promise<ActionItem> {
  const target = `role ${role.name}`;
  // IAM answers NoSuchEntity alike for a role without the policy and for a role that is gone: the put
  // below tells them apart.
  const previousDocument = await readPolicy(iam, role.name);
  const held = await journal.spend('revoke-sessions', 'roles', `account ${account}`, target);
  if (held) return heldBack(target, held);
  const recorded: SessionsBefore = {
    roleName: role.name,
    policyName: REVOKE_SESSIONS_POLICY,
    previousDocument,
  };
  return journaled(
    journal,
    { action: 'revoke-sessions', cluster: null, target },
    recorded,
    async (before) => {
      // Whole seconds, as the console writes it: a session issued earlier within this second stays valid.
      const issuedBefore = `${now().toISOString().slice(0, 19)}Z`;
      const document = revokeSessionsDocument(issuedBefore);
      try {
        await iam.send(
          new PutRolePolicyCommand({
            RoleName: role.name,
            PolicyName: REVOKE_SESSIONS_POLICY,
            PolicyDocument: document,
          }),
        );
      } catch (error) {
        if (!(error instanceof NoSuchEntityException)) throw error;
        return { item: item(target, 'skipped', 'the role no longer exists') };
      }
      const verified = sameDocument(await readPolicy(iam, role.name), document);
      const detail = `denied every session issued before ${issuedBefore} (inline policy ${REVOKE_SESSIONS_POLICY}${before.previousDocument ? ', replacing an earlier one' : ''}); its other policies stay`;
      return {
        item: item(target, verified ? 'ok' : 'failed', detail, {
          verified,
          caveats: CAVEATS,
          restore: before,
        }),
        after: { policyName: REVOKE_SESSIONS_POLICY, issuedBefore },
      };
    },
  );
}

export async function revokeSessions(
  input: RevokeSessionsInput,
  ports: RevokeSessionsPorts,
  journal: Journal,
  now: () => Date = () => new Date(),
): Promise<ActionResult> {
  const notPlanned = unlessPlanned(input.plan, 'revoke-sessions');
  if (notPlanned) return notPlanned;
  const roles = rolesOfAccessKey(input.identification);
  if (roles.length === 0) {
    return skippedResult('revoke-sessions', "the finding's access key names no IAM role");
  }
  const items: ActionItem[] = [];
  for (const role of roles) {
    const target = `role ${role.name}`;
    const leftAlone = roleLeftAlone(role);
    if (leftAlone) {
      items.push(item(target, 'skipped', leftAlone));
      continue;
    }
    const done = await settle(() => revokeRole(ports.iam, role, input.plan.finding.accountId, journal, now));
    items.push(done.ok ? done.value : item(target, 'failed', done.error));
  }
  return { action: 'revoke-sessions', skipped: null, items };
}

/** Release: the revocation policy deleted, or the one another incident wrote before put back. */
export async function restoreSessions(iam: IAMClient, before: SessionsBefore): Promise<ActionItem> {
  const target = `role ${before.roleName}`;
  // The responder deletes or writes no other policy, whatever a record says.
  if (before.policyName !== REVOKE_SESSIONS_POLICY) {
    return item(
      target,
      'failed',
      `the recorded policy ${before.policyName} is not the responder's: not changed`,
    );
  }
  if (before.previousDocument === null) {
    try {
      await iam.send(
        new DeleteRolePolicyCommand({ RoleName: before.roleName, PolicyName: before.policyName }),
      );
    } catch (error) {
      if (!(error instanceof NoSuchEntityException)) throw error;
    }
    const verified = (await readPolicy(iam, before.roleName)) === null;
    return item(target, verified ? 'ok' : 'failed', `deleted the inline policy ${before.policyName}`, {
      verified,
    });
  }
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: before.roleName,
      PolicyName: before.policyName,
      PolicyDocument: before.previousDocument,
    }),
  );
  const verified = sameDocument(await readPolicy(iam, before.roleName), before.previousDocument);
  return item(
    target,
    verified ? 'ok' : 'failed',
    `put back the inline policy ${before.policyName} as it was before the incident`,
    { verified },
  );
}
