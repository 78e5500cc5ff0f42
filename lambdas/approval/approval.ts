/**
 * Approval of chosen actions (`requireApproval`): the action waits in the state machine on a task token
 * (`lambda:invoke.waitForTaskToken`) until a person answers, or its deadline (`approvalTimeoutMinutes`)
 * passes and it is held back; the other actions do not wait. The request is written to the incident
 * record and published with how to answer; the answer (`npm run approve`, or the Approve function of the
 * deployed stack) decides only a request still waiting, once, before its deadline, and every answer, with
 * who gave it and what it did, is appended to the record.
 */
import {
  InvalidToken,
  SendTaskSuccessCommand,
  type SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { ACTION_NAMES, actionNamed } from '../actions/registry.js';
import { requestDigest } from '../clients/caller.js';
import type { ActionName, ResponsePlan } from '../core/plan.js';
import type { Identification } from '../identify/identification.js';
import { approvalView, signedPlanOf } from '../incident/mandate.js';
import type { ApprovalDecision, ApprovalRecord } from '../incident/record.js';
import { sealOf } from '../incident/seal.js';
import type { IncidentStore } from '../incident/store.js';
import { messageOf } from '../shared/errors.js';
import type { TokenVault } from './tokens.js';

/** What the waiting task state passes: its task token, the action, and what the action would act on. */
export type ApprovalRequest = {
  token: string;
  action: ActionName;
  plan: ResponsePlan;
  identification: Identification;
  executionArn: string;
};

/** What the answer sends the waiting state: whether the action runs, and why (the notification's words). */
export type ApprovalOutput = { approved: boolean; reason: string };

/**
 * A person's answer, as it reaches the Approve function: what is answered, and the proof of who answers
 * (lambdas/clients/caller.ts) made for exactly that answer.
 */
export const ApproveRequestSchema = z.strictObject({
  findingId: z.string().min(1),
  /** The action to answer; without it, every action of the finding that waits. */
  action: z.enum(ACTION_NAMES as [string, ...string[]]).optional(),
  approve: z.boolean(),
  caller: z.string().min(1),
});
/** An answer once STS authenticated who gave it. */
export type ApproveRequest = Omit<z.infer<typeof ApproveRequestSchema>, 'caller'> & { requestedBy: string };

/** The digest a proof for this answer is made for. */
export const answerDigest = (answer: Omit<ApproveRequest, 'requestedBy'>): string =>
  requestDigest('approve', { findingId: answer.findingId, action: answer.action, approve: answer.approve });

/** The targets an action would act on, named, for the person who decides. */
export const targetsOfAction = (
  action: ActionName,
  identification: Identification,
  plan: ResponsePlan,
): string[] => actionNamed(action)?.targets(identification, plan) ?? [];

/** Writes the request, with its token and deadline, to the record. */
export async function requestApproval(
  request: ApprovalRequest,
  ports: { store: IncidentStore; timeoutMinutes: number; tokens: TokenVault; now?: () => Date },
): Promise<ApprovalRecord> {
  const now = (ports.now ?? (() => new Date()))();
  const deadline = new Date(now.getTime() + ports.timeoutMinutes * 60_000);
  const approval: ApprovalRecord = {
    action: request.action,
    state: 'waiting',
    // Only encrypted: the table never holds a token that answers the execution without Approve.
    token: await ports.tokens.seal(request.token, {
      findingId: request.plan.finding.id,
      action: request.action,
      executionArn: request.executionArn,
    }),
    requestedAt: now.toISOString(),
    deadline: deadline.toISOString(),
    executionArn: request.executionArn,
    answeredBy: null,
    answeredAt: null,
    decisions: [],
  };
  await ports.store.requestApproval(request.plan.finding.id, approval);
  return approval;
}

/** The notice of a request: what waits, until when, and how to answer. */
export function approvalNotice(
  request: ApprovalRequest,
  approval: ApprovalRecord,
  approveFunction: string,
): { subject: string; message: string } {
  const { finding } = request.plan;
  const targets = targetsOfAction(request.action, request.identification, request.plan);
  const answer = `npm run approve -- ${finding.id} --action ${request.action}`;
  return {
    subject: `[guardduty-responder] approval needed: ${request.action}: ${finding.type}`.slice(0, 100),
    message: [
      `${request.action} waits for a person's approval before it acts on finding ${finding.id} (${finding.type}, severity ${finding.severity}, account ${finding.accountId}, ${finding.region}).`,
      `It would act on ${targets.length} target(s): ${targets.slice(0, 50).join(', ') || 'none identified'}${targets.length > 50 ? `, … and ${targets.length - 50} more` : ''}.`,
      'The other actions do not wait.',
      `Answer before ${approval.deadline}; then the action is held back.`,
      `Approve: ${answer} --deployed <stack>`,
      `Deny:    ${answer} --deny --deployed <stack>`,
      `Or invoke the function ${approveFunction} with {"findingId": "${finding.id}", "action": "${request.action}", "approve": true|false}.`,
    ].join('\n'),
  };
}

/** How one answer ended. */
export type ApprovalAnswer = { action: ActionName; decided: boolean; effect: string };
export type ApprovalReport = { findingId: string; answers: ApprovalAnswer[] };

/** An answer that cannot be given at all: no such finding, nothing waits. */
export class ApprovalError extends Error {
  override readonly name = 'ApprovalError';
}

const gone = (error: unknown) =>
  error instanceof TaskTimedOut || error instanceof TaskDoesNotExist || error instanceof InvalidToken;

/**
 * Answers the finding's waiting actions (or the one named): a request still waiting, before its deadline,
 * is decided by the first answer and its execution told; anything else changes nothing and says so.
 */
export async function answerApproval(
  request: ApproveRequest,
  ports: { store: IncidentStore; sfn: SFNClient; tokens: TokenVault; now?: () => Date },
): Promise<ApprovalReport> {
  const now = (ports.now ?? (() => new Date()))();
  const record = await ports.store.get(request.findingId);
  if (!record) throw new ApprovalError(`no incident record for finding ${request.findingId}`);
  // An approval is signed for the incident the record's verified header names, and for the execution
  // whose signed plan waits for it (mandate.ts): never for what the request in the table says.
  const seal = await sealOf(ports.store.key, record);
  const plan = await signedPlanOf(ports.store, record, seal);
  const approvals = Object.values(record.approvals ?? {}).filter(
    (approval) => !request.action || approval.action === request.action,
  );
  if (approvals.length === 0)
    throw new ApprovalError(
      `no action of finding ${request.findingId} ${request.action ? `named ${request.action} ` : ''}was waiting for approval`,
    );
  const answer = request.approve ? 'approve' : 'deny';
  const answers: ApprovalAnswer[] = [];
  for (const approval of approvals) {
    const decision = (effect: string): ApprovalDecision => ({
      answer,
      by: request.requestedBy,
      at: now.toISOString(),
      effect,
    });
    const unchanged = async (why: string) => {
      const effect = `nothing changed: ${why}`;
      await ports.store.noteApproval(request.findingId, approval.action, decision(effect));
      answers.push({ action: approval.action, decided: false, effect });
    };
    if (approval.state !== 'waiting') {
      await unchanged(`already ${approval.state} by ${approval.answeredBy} at ${approval.answeredAt}`);
      continue;
    }
    if (Date.parse(approval.deadline) <= now.getTime()) {
      await unchanged(`the deadline passed at ${approval.deadline}; the action was held back`);
      continue;
    }
    const planned =
      typeof plan !== 'string' &&
      plan.approvals.includes(approval.action) &&
      plan.executionArn === approval.executionArn;
    if (request.approve && !planned) {
      await unchanged(
        `the request is not one the signed plan of the execution that holds the finding waits for (${typeof plan === 'string' ? plan : `it waits in ${plan.executionArn} for ${plan.approvals.join(', ') || 'nothing'}`}): not approved`,
      );
      continue;
    }
    const effect = request.approve ? 'approved: the action runs' : 'denied: the action is held back';
    if (
      !(await ports.store.decideApproval(
        request.findingId,
        approval.action,
        approval.token,
        decision(effect),
        request.approve && typeof plan !== 'string'
          ? await ports.store.key.sign(
              approvalView(
                seal,
                { action: approval.action, executionArn: plan.executionArn },
                request.requestedBy,
              ),
            )
          : null,
      ))
    ) {
      await unchanged('another answer came first');
      continue;
    }
    const output: ApprovalOutput = request.approve
      ? { approved: true, reason: `approved by ${request.requestedBy} at ${now.toISOString()}` }
      : { approved: false, reason: `held back: denied by ${request.requestedBy} at ${now.toISOString()}` };
    try {
      await ports.sfn.send(
        new SendTaskSuccessCommand({
          taskToken: await ports.tokens.open(approval.token, {
            findingId: request.findingId,
            action: approval.action,
            executionArn: approval.executionArn,
          }),
          output: JSON.stringify(output),
        }),
      );
      answers.push({ action: approval.action, decided: true, effect });
    } catch (error) {
      if (gone(error)) {
        await unchanged(`the execution no longer waits (${(error as Error).name}): the action was held back`);
        continue;
      }
      // Step Functions did not take the answer (throttled, unreachable): the request waits again, so that
      // the same or another answer can still decide it before the deadline.
      const why = `the execution could not be told (${messageOf(error)}): the request waits again, answer again`;
      await ports.store.reopenApproval(
        request.findingId,
        approval.action,
        decision(`nothing changed: ${why}`),
      );
      answers.push({ action: approval.action, decided: false, effect: `nothing changed: ${why}` });
    }
  }
  return { findingId: request.findingId, answers };
}

export const describeApproval = (report: ApprovalReport): string[] =>
  report.answers.map((answer) => `${answer.action} of finding ${report.findingId}: ${answer.effect}`);
