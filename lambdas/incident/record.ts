/**
 * The incident record: one DynamoDB item per finding id, written before every change the responder makes,
 * so that a crash in the middle leaves enough to finish or undo, a repeated finding is recognised, and a
 * release can put back exactly what was there. Pure types and decisions; the store (store.ts) writes it
 * through a table (table.ts: DynamoDB, or memory).
 */

import { z } from 'zod';
import type { ItemStatus } from '../core/action-result.js';
import type { ContainStep } from '../core/action-spec.js';
import type { ActionName } from '../core/plan.js';
import type { HandedOver } from './signature.js';

export type { HandedOver } from './signature.js';

/** The table's partition key, and the index that lists incidents by state. */
export const TABLE_KEY = 'findingId';
export const STATE_INDEX = 'by-state';
export const STATE_INDEX_SORT_KEY = 'createdAt';

/** What the execution that holds the finding ended with; `responding` until its Notify step. */
/** refused: GuardDuty does not hold the finding as the event described it (lambdas/identify/source.ts). */
export type ResponseOutcome =
  | 'responding'
  | 'contained'
  | 'partly-contained'
  | 'not-contained'
  | 'identified'
  | 'failed'
  | 'refused';

/** The attempt a retry took the finding over from. */
export type PreviousAttempt = { executionArn: string; at: string; outcome: string; dryRun: boolean };

/**
 * open: containment may be in place; releasing: a release is under way; released: undone (a false
 * positive); recovering: a recovery is under way; recovered: the compromised pods and hosts replaced.
 */
export type IncidentState = 'open' | 'releasing' | 'released' | 'recovering' | 'recovered';

/** What GuardDuty said about the finding when it was seen; an update changes count and updatedAt. */
export type Sighting = {
  at: string;
  executionArn: string;
  count: number;
  severity: number;
  updatedAt: string;
  /** Where a person asked for this execution (a Security Hub custom action), when one did. */
  requestedFrom?: string;
};

/**
 * One change the responder makes to one resource. `before` is written before the change and never
 * overwritten afterwards (the first write wins), so a retry after a crash keeps the true original state.
 */
export type RecordEntry = {
  action: ContainStep;
  target: string;
  cluster: string | null;
  status: 'intended' | ItemStatus;
  before: Record<string, unknown>;
  after: Record<string, unknown> | null;
  detail: string | null;
  intendedAt: string;
  settledAt: string | null;
  executionArn: string;
  /**
   * The action function's MAC of the entry's signed view (signature.ts), base64: written with the entry
   * and again when it settles. Release and recover act on no entry whose MAC does not verify.
   */
  mac?: string;
  /** The original state another incident's release handed over (that incident's signed entry). */
  handedOver?: HandedOver;
};

export type ReleaseStepRecord = {
  key: string;
  /** incident: the incident's closure (seal.ts), written once everything else was undone. */
  action: ContainStep | 'incident';
  target: string;
  decision: ReleaseDecision;
  /** refused: the entry failed verification (signature.ts) and was not undone. */
  status: 'ok' | 'failed' | 'skipped' | 'planned' | 'refused';
  detail: string;
  before: Record<string, unknown>;
};

export type ReleaseRecord = {
  at: string;
  requestedBy: string;
  /** The second person who countersigned the release (secondPerson), if anyone. */
  countersignedBy?: string | null;
  dryRun: boolean;
  steps: ReleaseStepRecord[];
};

/** A person's request to end an incident (release or recover), as the CLI sends it to the Lambda. */
/**
 * A person's request to release or recover, as it reaches the function: what is asked, and the proof of
 * who asks (lambdas/clients/caller.ts) made for exactly that; a countersignature is a second person's
 * proof for the same request. No field names a person: the function learns who from STS.
 */
export const PersonRequestSchema = z.strictObject({
  findingId: z.string().min(1),
  dryRun: z.boolean().default(false),
  caller: z.string().min(1),
  countersignedBy: z.string().min(1).optional(),
});

/** A person's request once STS authenticated who asked (and who countersigned, if anyone). */
export type PersonRequest = {
  findingId: string;
  dryRun: boolean;
  /** The ARN STS authenticated; in the local modes, the CLI's own identity. */
  requestedBy: string;
  /** A second, different person's ARN, authenticated the same way; absent or null when nobody did. */
  countersignedBy?: string | null;
};

/** One step of a recovery (lambdas/recover/recover.ts), written `started` before it is taken. */
export type RecoveryStepRecord = {
  /**
   * entry: a record entry that failed verification, and so is not recovered (status `refused`);
   * incident: the incident's closure (seal.ts), written once everything else was recovered.
   */
  kind: 'pod' | 'policy' | 'drain' | 'replace' | 'entry' | 'incident';
  target: string;
  /** manual: the responder cannot finish it (a bare pod, an instance in no group): left to a person. */
  status: 'planned' | 'started' | 'ok' | 'failed' | 'skipped' | 'manual' | 'refused';
  detail: string;
};

export type RecoveryRecord = {
  at: string;
  requestedBy: string;
  dryRun: boolean;
  steps: RecoveryStepRecord[];
};

/**
 * Which incident of the finding the record holds: a random id the claim makes for every new incident
 * (a first sighting, a rerun after a release or a recovery, a real response taking over a dry run), and
 * the account and region the responder acts in for it, signed by the claim (seal.ts). Every entry, the
 * plan and the approvals are signed for this seal; release and recover act only where it says.
 */
export type IncidentHeader = {
  incidentId: string;
  accountId: string;
  region: string;
  claimedAt: string;
  mac: string;
};

/** A record entry (or header) found in the table that did not verify: not adopted, kept here as found. */
export type Refusal = {
  key: string;
  reason: string;
  found: unknown;
  at: string;
  executionArn: string;
};

/** The plan Identify made, as signed for the incident (mandate.ts): what the actions may act on. */
export type SignedPlan = { view: { kind: 'plan' } & Record<string, unknown>; mac: string };

export type IncidentRecord = {
  findingId: string;
  /** Absent only on a record written before incidents were sealed: nothing in it is trusted. */
  incident?: IncidentHeader;
  state: IncidentState;
  dryRun: boolean;
  createdAt: string;
  updatedAt: string;
  /** The execution that claimed the finding last, and every execution that ran its actions. */
  executionArn: string;
  claimedAt: string;
  executions: { executionArn: string; at: string; rerun: boolean }[];
  /** How the last claiming execution ended (`responding` until its Notify), and every outcome so far. */
  outcome: ResponseOutcome;
  outcomes: { executionArn: string; outcome: string; at: string }[];
  finding: {
    type: string;
    accountId: string;
    region: string;
    resourceType: string;
    first: Sighting;
    /** The complete finding as received, JSON. */
    json: string;
  };
  plan: { rule: string; actions: unknown[] } | null;
  /** The plan of the execution that holds the finding, signed by Identify. */
  signedPlan?: SignedPlan;
  entries: Record<string, RecordEntry>;
  /** Entries (or a header) found in the table that failed verification, as found. */
  refusals?: Refusal[];
  /** The chain of custody: every evidence object written for the finding. */
  evidence?: EvidenceObject[];
  /** Targets an action left alone because the budget across findings was spent (budget.ts). */
  holds?: Hold[];
  /** The actions that waited for a person (lambdas/approval/approval.ts), by action, with every answer. */
  approvals?: Record<string, ApprovalRecord>;
  sightings: Sighting[];
  releases: ReleaseRecord[];
  /** The recovery under way (its steps settle one by one), and every recovery and dry run so far. */
  recovery?: RecoveryRecord;
  recoveries?: RecoveryRecord[];
};

/** One answer to an approval request, whether or not it changed anything, and who gave it. */
export type ApprovalDecision = { answer: 'approve' | 'deny'; by: string; at: string; effect: string };

/** An action waiting for a person, or answered: its task token, its deadline and every decision. */
export type ApprovalRecord = {
  action: ActionName;
  state: 'waiting' | 'approved' | 'denied';
  token: string;
  requestedAt: string;
  deadline: string;
  executionArn: string;
  answeredBy: string | null;
  answeredAt: string | null;
  decisions: ApprovalDecision[];
  /** The Approve function's MAC of an approval (mandate.ts): the action runs only when it verifies. */
  mac?: string | null;
};

/** A target an action held back, and why. */
export type Hold = { action: ContainStep; target: string; reason: string; at: string };

/** One evidence object as written: where, which version, how large, and its SHA-256 (hex). */
export type EvidenceObject = {
  bucket: string;
  key: string;
  versionId: string | null;
  size: number;
  sha256: string;
  /** What it is: `pod shop/web-1`, `logs shop/web-1 app (previous)`, `host i-0…`. */
  subject: string;
  /** Anything a reader must know: cut at the bound, no previous container, … */
  note: string | null;
  /** The MAC of the function that recorded it (custody.ts); absent until it is recorded. */
  mac?: string;
};

/** One entry per action, cluster and target: `cordon-nodes|prod-eks|node ip-10-0-1-10.ec2.internal`. */
export const entryKey = (action: ContainStep, cluster: string | null, target: string): string =>
  `${action}|${cluster ?? '-'}|${target}`;

/** What a release does with one entry. */
export type ReleaseDecision = 'undo' | 'keep' | 'evidence';

export type ReleaseStep = {
  key: string;
  entry: RecordEntry;
  decision: ReleaseDecision;
  /** Other open incidents that hold the same resource (a keep hands `before` over to them). */
  heldBy: string[];
  reason: string;
};

/**
 * Pods are released before their namespace's policy is considered, the rest in record order, and paused
 * containers last: their host must be reachable again (host isolation undone) to be told to resume.
 */
const RELEASE_ORDER: Partial<Record<string, number>> = { pod: 0, networkpolicy: 1, containers: 3 };
const kindOf = (entry: RecordEntry) => entry.target.split(' ')[0] ?? '';

/**
 * What releasing `record` does, entry by entry: snapshots are evidence and stay; a resource another open
 * incident also holds stays contained (its original state passes to that incident); the rest is undone.
 */
export function releasePlan(
  record: IncidentRecord,
  others: readonly IncidentRecord[],
  /** Whether an action's entries are evidence (the registry's specs say). */
  isEvidence: (action: string) => boolean,
): ReleaseStep[] {
  const open = others.filter((other) => other.findingId !== record.findingId && other.state === 'open');
  return Object.entries(record.entries)
    .sort(
      ([, a], [, b]) =>
        (RELEASE_ORDER[kindOf(a)] ?? 2) - (RELEASE_ORDER[kindOf(b)] ?? 2) ||
        a.intendedAt.localeCompare(b.intendedAt),
    )
    .map(([key, entry]): ReleaseStep => {
      if (isEvidence(entry.action)) {
        return {
          key,
          entry,
          decision: 'evidence',
          heldBy: [],
          reason: 'snapshots are evidence and are kept',
        };
      }
      const heldBy = open.filter((other) => key in other.entries).map((other) => other.findingId);
      if (heldBy.length > 0) {
        return {
          key,
          entry,
          decision: 'keep',
          heldBy,
          reason: `also held by open incident ${heldBy.join(', ')}`,
        };
      }
      return { key, entry, decision: 'undo', heldBy: [], reason: 'no other open incident holds it' };
    });
}

/**
 * Whether a claim may take the finding (the DynamoDB table says the same as one condition): a rerun
 * always; a dry run only a finding never seen; a real response also one a dry run holds, or an open
 * incident whose last response was not contained or only partly (a target not cut off, a step failed, the
 * budget held a target back), was refused, or
 * died without an outcome (claimed before
 * `staleBefore`).
 */
export function claimable(
  old: Partial<IncidentRecord> | undefined,
  write: { dryRun: boolean; rerun: boolean; staleBefore: string },
): boolean {
  if (write.rerun || !old) return true;
  if (write.dryRun) return false;
  if (old.dryRun === true) return true;
  if (old.state !== 'open') return false;
  return (
    old.outcome === 'failed' ||
    old.outcome === 'partly-contained' ||
    old.outcome === 'not-contained' ||
    old.outcome === 'refused' ||
    (old.outcome === 'responding' && (old.claimedAt ?? '') < write.staleBefore)
  );
}

/** What the Claim state returns: the finding is this execution's to handle, or it was seen before. */
export type ClaimOutput =
  | {
      claimed: true;
      findingId: string;
      executionArn: string;
      dryRun: boolean;
      rerun: boolean;
      /** The earlier attempt this execution takes over (failed, or a dry run), if any. */
      previous: PreviousAttempt | null;
    }
  | {
      claimed: false;
      findingId: string;
      /** A GuardDuty sample finding, as the notification's `sample` attribute says. */
      sample: boolean;
      dryRun: boolean;
      state: IncidentState;
      firstExecutionArn: string;
      firstSeenAt: string;
      previous: Sighting;
      now: Sighting;
      sightings: number;
      entries: number;
    };
