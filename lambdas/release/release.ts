/**
 * Release: once the investigation is over, undoes an incident's containment from its record. Each
 * resource goes back to the state recorded before the first change (the undo of each action lives in the
 * action's own file); a resource that another open incident also holds stays contained and its original
 * state passes to that incident; snapshots are evidence and stay. Every release, dry runs included, is
 * appended to the record.
 *
 * The record is not trusted: an entry is undone only when its MAC verifies (signature.ts) and the state it
 * recorded names the entry's own target. Anything else is refused, reported, and leaves the incident open.
 */
import type { Entry, UndoPorts } from '../actions/action.js';
import { actionNamed } from '../actions/registry.js';
import type { Reach, Reached } from '../clients/reach.js';
import type { ActionItem } from '../core/action-result.js';
import { PausedBeforeSchema, resumeContainers } from '../evidence/hosts.js';
import {
  type HandedOver,
  type IncidentState,
  type PersonRequest,
  type RecordEntry,
  type ReleaseStep,
  type ReleaseStepRecord,
  releasePlan,
} from '../incident/record.js';
import { type Closures, UnknownIncidentError, verifiedIncident } from '../incident/seal.js';
import { type Seal, signedView } from '../incident/signature.js';
import type { IncidentStore } from '../incident/store.js';
import { messageOf } from '../shared/errors.js';

export type ReleasePorts = {
  store: IncidentStore;
  /** Where incidents are closed outside the table (seal.ts): an incident closed before is not undone again. */
  closures: Closures;
  /** The clients of the incident's account and region (the finding's), reached as the release function. */
  reach: Reach;
  /** Paces the polling of Run Command when paused containers are resumed. */
  sleep?: (ms: number) => Promise<void>;
  /** Actions whose undo needs a second person's countersignature (settings `secondPerson`). */
  secondPerson?: readonly string[];
};

/** What undoing one incident's entries calls: its account and region's clients, the store. */
type ReleaseAt = Reached & Pick<ReleasePorts, 'store' | 'sleep'>;

export type ReleaseReport = {
  findingId: string;
  dryRun: boolean;
  /** The incident's state after the release. */
  state: IncidentState;
  steps: ReleaseStepRecord[];
};

/** A release that cannot start: unknown finding, already released. */
export class ReleaseError extends Error {
  override readonly name = 'ReleaseError';
}

/**
 * How an entry is undone: by the registered action that made it (lambdas/actions/<name>/index.ts), or,
 * for the host capture's paused containers, by resuming them. Null: nothing undoes it.
 */
type Undoer = {
  before: { safeParse(value: unknown): { success: true; data: unknown } | { success: false; error: Error } };
  resourceOf(entry: Entry<unknown>): string | null;
  undo?(entry: Entry<unknown>, ports: UndoPorts): Promise<ActionItem>;
};

/** The host capture pauses containers (evidence/hosts.ts); release resumes them. */
const RESUME_CONTAINERS: Undoer = {
  before: PausedBeforeSchema,
  resourceOf: (entry) => `containers on ${(entry.before as { instanceId: string }).instanceId}`,
  undo: (entry, ports) => resumeContainers(PausedBeforeSchema.parse(entry.before), ports.ssm, ports.sleep),
};

const undoerOf = (action: string): Undoer | null =>
  action === 'collect-host-evidence' ? RESUME_CONTAINERS : (actionNamed(action) ?? null);

/** The entry with its recorded state parsed by its action's schema, or why it cannot be. */
function parsedEntry(entry: RecordEntry): { undoer: Undoer; entry: Entry<unknown> } | string {
  const undoer = undoerOf(entry.action);
  if (!undoer) return `no action named ${entry.action} is registered`;
  const before = undoer.before.safeParse(entry.before);
  if (!before.success)
    return `its recorded state is not one ${entry.action} records (${before.error.message.slice(0, 300)})`;
  return {
    undoer,
    entry: {
      target: entry.target,
      cluster: entry.cluster,
      status: entry.status,
      detail: entry.detail,
      before: before.data,
      after: entry.after,
    },
  };
}

/**
 * Why release may not act on an entry whatever its MAC says, or null: its recorded state must be one its
 * action records, and name the entry's own target, so policies go back only on the role the record shows
 * the responder stripped, and an instance profile only on the instance it was taken from.
 */
export function outOfScope(entry: RecordEntry): string | null {
  const parsed = parsedEntry(entry);
  if (typeof parsed === 'string') return parsed;
  const resource = parsed.undoer.resourceOf(parsed.entry);
  if (resource === null || resource === entry.target) return null;
  return `its recorded state is of ${resource}, not of ${entry.target}`;
}

/** The undo of one entry, by the action that made it. */
async function undo(seal: Seal, step: ReleaseStep, ports: ReleaseAt): Promise<ActionItem> {
  const parsed = parsedEntry(step.entry);
  if (typeof parsed === 'string') throw new Error(parsed);
  if (!parsed.undoer.undo) throw new Error(`${step.entry.action} is evidence: never undone`);
  return parsed.undoer.undo(parsed.entry, {
    ...ports,
    ownGroup: (vpcId, purpose) => ports.store.ownGroup(seal, vpcId, purpose),
  });
}

const stepRecord = (
  step: ReleaseStep,
  status: ReleaseStepRecord['status'],
  detail: string,
): ReleaseStepRecord => ({
  key: step.key,
  action: step.entry.action,
  target: step.entry.target,
  decision: step.decision,
  status,
  detail,
  before: step.entry.before,
});

/** Entries of evidence (snapshots) are kept. */
const isEvidence = (action: string) => actionNamed(action)?.spec.evidence === true;

const refusal = (why: string) => `record entry failed verification: not undone (${why})`;

/** The entry as signed where its original state was recorded, to pass on with that state. */
const originOf = (seal: Seal, entry: RecordEntry): HandedOver =>
  entry.handedOver ?? {
    view: signedView(seal, entry),
    mac: entry.mac ?? '',
    intendedAt: entry.intendedAt,
  };

async function carryOut(seal: Seal, step: ReleaseStep, ports: ReleaseAt): Promise<ReleaseStepRecord> {
  if (step.decision === 'evidence') {
    const snapshot = step.entry.after?.snapshotId;
    return stepRecord(step, 'skipped', `kept as evidence${snapshot ? `: ${snapshot}` : ''}`);
  }
  if (step.decision === 'keep') {
    const handedTo: string[] = [];
    for (const other of step.heldBy) {
      if (await ports.store.handOver(other, step.key, originOf(seal, step.entry))) handedTo.push(other);
    }
    const handed =
      handedTo.length > 0 ? `; its state before containment passed to ${handedTo.join(', ')}` : '';
    return stepRecord(step, 'skipped', `kept contained: ${step.reason}${handed}`);
  }
  try {
    const done = await undo(seal, step, ports);
    return stepRecord(step, done.status, done.detail);
  } catch (error) {
    return stepRecord(step, 'failed', messageOf(error));
  }
}

export async function releaseIncident(
  request: PersonRequest,
  ports: ReleasePorts,
  now: () => string = () => new Date().toISOString(),
): Promise<ReleaseReport> {
  const { findingId, dryRun } = request;
  const record = await ports.store.get(findingId);
  if (!record) throw new UnknownIncidentError(findingId);
  if (record.state === 'released') {
    const last = record.releases.filter((release) => !release.dryRun).at(-1);
    throw new ReleaseError(`finding ${findingId} was already released${last ? ` at ${last.at}` : ''}`);
  }
  if (record.state === 'recovered' || record.state === 'recovering') {
    throw new ReleaseError(
      `finding ${findingId} is ${record.state}: its pods and hosts were replaced, there is nothing to put back`,
    );
  }
  // The header is verified first (it names the account and region to act in), then every entry; the plan
  // is made of the verified entries (a handed-over state in place), each other entry is refused.
  const { seal, verified, refused } = await verifiedIncident(ports.store.key, ports.closures, record);
  const steps = releasePlan(
    { ...record, entries: Object.fromEntries(verified) },
    await ports.store.inState('open'),
    isEvidence,
  );
  const refusals = Object.entries(record.entries ?? {}).flatMap(([key, entry]) => {
    const why = refused.get(key) ?? outOfScope(entry);
    if (!why) return [];
    const step: ReleaseStep = { key, entry, decision: 'undo', heldBy: [], reason: refusal(why) };
    return [stepRecord(step, 'refused', step.reason)];
  });
  const refusedKeys = new Set(refusals.map((step) => step.key));
  const trusted = steps.filter((step) => !refusedKeys.has(step.key));
  if (dryRun) {
    const planned = [
      ...refusals,
      ...trusted.map((step) =>
        stepRecord(step, step.decision === 'undo' ? 'planned' : 'skipped', step.reason),
      ),
    ];
    await ports.store.recordRelease(
      findingId,
      { at: now(), requestedBy: request.requestedBy, dryRun: true, steps: planned },
      false,
    );
    return { findingId, dryRun, state: record.state, steps: planned };
  }
  const needsSecond = trusted.filter(
    (step) => step.decision === 'undo' && (ports.secondPerson ?? []).includes(step.entry.action),
  );
  if (needsSecond.length > 0 && !request.countersignedBy) {
    throw new ReleaseError(
      `releasing finding ${findingId} would undo ${needsSecond.map((step) => `${step.entry.action} ${step.entry.target}`).join(', ')}: that needs a second person (secondPerson). Another person runs the same npm run release with --countersign and gives you the token it prints; release again with --countersigned-by <token>. Nothing was changed`,
    );
  }
  if (!(await ports.store.startRelease(findingId, now()))) {
    throw new ReleaseError(`finding ${findingId} is not open; another release may have ended it`);
  }
  const done: ReleaseStepRecord[] = [...refusals];
  // Where the signed header says, never the record's unsigned copy of the finding.
  const at: ReleaseAt = { ...ports.reach(seal), store: ports.store, sleep: ports.sleep };
  for (const step of trusted) done.push(await carryOut(seal, step, at));
  const clean = done.every((step) => step.status !== 'failed' && step.status !== 'refused');
  const unclosed = clean ? await closeIncident(ports.closures, seal, 'released', now()) : null;
  if (unclosed) {
    done.push({
      key: 'incident',
      action: 'incident',
      target: `incident ${seal.incidentId}`,
      decision: 'undo',
      status: 'failed',
      detail: unclosed,
      before: {},
    });
  }
  const finished = clean && !unclosed;
  await ports.store.recordRelease(
    findingId,
    {
      at: now(),
      requestedBy: request.requestedBy,
      countersignedBy: request.countersignedBy ?? null,
      dryRun: false,
      steps: done,
    },
    finished,
  );
  return { findingId, dryRun, state: finished ? 'released' : 'open', steps: done };
}

/**
 * Closes the incident outside the table once a release (or recovery) ended it, so that its record cannot
 * be set back and ended again: null when closed, otherwise why the closure could not be written (the
 * incident then stays open, and a second release or recovery closes it).
 */
export async function closeIncident(
  closures: Closures,
  seal: Seal,
  how: 'released' | 'recovered',
  at: string,
): Promise<string | null> {
  try {
    await closures.close(seal, how, at);
    return null;
  } catch (error) {
    return `its closure could not be written (${messageOf(error)}): the incident stays open; ${how === 'released' ? 'release' : 'recover'} again`;
  }
}

/** What the first line of a release or recovery adds when entries failed verification. */
export const refusedWarning = (refused: number, dryRun: boolean, verb: 'undone' | 'recovered'): string =>
  refused === 0
    ? ''
    : ` ${refused} record entr${refused === 1 ? 'y' : 'ies'} failed verification and ${dryRun ? 'would not be' : refused === 1 ? 'was not' : 'were not'} ${verb}: the incident table was changed outside the responder.`;

/** The release as text, for the CLI and the notice. */
export function describeRelease(report: ReleaseReport): string[] {
  const verb = report.dryRun ? 'would' : 'did';
  const refused = report.steps.filter((step) => step.status === 'refused').length;
  const warning = refusedWarning(refused, report.dryRun, 'undone');
  const lines = [
    `${report.dryRun ? 'Dry run of the release' : 'Release'} of finding ${report.findingId}: the incident is ${report.state}.${warning}`,
  ];
  if (report.steps.length === 0) lines.push('  The record holds no change to undo.');
  for (const step of report.steps) {
    const what =
      step.status === 'planned' ? `${verb} undo (${step.detail})` : `${step.status}: ${step.detail}`;
    lines.push(`  ${step.action} ${step.target}: ${what}`);
  }
  if (!report.dryRun && report.state === 'open') {
    lines.push(
      refused > 0
        ? 'The incident stays open: restore what the refused entries name by hand, after checking who changed the table.'
        : 'Some steps failed: the incident stays open; fix the cause and release again.',
    );
  }
  return lines;
}
