/**
 * What an action is: one folder `lambdas/actions/<name>/` behind this interface, listed in the registry
 * (registry.ts). Its spec is data (spec.ts); its contain and its undo sit side by side in one file; its
 * `index.ts` binds them to this shape, and its `handler.ts` is its Lambda. The plan, approvals, release,
 * recover, permissions, the state machine, the local runner and the stack read the registry.
 */
import type { z } from 'zod';
import type { Reached } from '../clients/reach.js';
import type { ActionItem, ActionResult } from '../core/action-result.js';
import type { ActionSpec } from '../core/action-spec.js';
import type { ResponsePlan } from '../core/plan.js';
import type { ResponderSettings } from '../core/settings.js';
import type { Identification } from '../identify/identification.js';
import type { GroupPurpose, OwnGroup } from '../incident/groups.js';
import type { Journal } from '../incident/journal.js';

/** What every action is given besides its input and its journal. */
export type ActionPorts = {
  /** The clients of the finding's account and region, reached as the action's own function. */
  clients: Reached;
  settings: ResponderSettings;
};

/** What every undo is given: the incident's account and region's clients, and the responder's own groups. */
export type UndoPorts = Reached & {
  /** The responder's own security group of a purpose in a VPC, from the signed registry. */
  ownGroup: (vpcId: string, purpose: GroupPurpose) => Promise<OwnGroup>;
  /** Paces polling (Run Command); a test passes one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
};

/** One verified entry of the record, as undo and recover read it: `before` parsed by the action's schema. */
export type Entry<B> = {
  target: string;
  cluster: string | null;
  status: string;
  detail: string | null;
  before: B;
  after: Record<string, unknown> | null;
};

/** What recover does with one entry (lambdas/recover/recover.ts carries each out, in this order of kinds). */
export type Recovery =
  /** A quarantined pod: deleted so that its controller starts a clean one. */
  | { kind: 'pod'; target: string; cluster: string; namespace: string; pod: string }
  /** Undone as release would undo it (the quarantine NetworkPolicy, once its pods are gone). */
  | { kind: 'undo' }
  /** A cordoned node: drained before its instance is replaced. */
  | { kind: 'drain'; target: string; cluster: string; node: string }
  /**
   * A compromised instance: replaced through its Auto Scaling group, or through its Karpenter NodeClaim
   * (the cluster and node it backs), after its snapshots completed.
   */
  | {
      kind: 'instance';
      instanceId: string;
      autoScalingGroup: string | null;
      karpenter?: { cluster: string; node: string } | null;
    }
  /** Evidence of an instance: a snapshot that must complete before the instance goes (null: missing, why). */
  | { kind: 'snapshot'; instanceId: string; snapshotId: string | null; missing: string }
  /** Stays as contained, and the person must be told what to do (`Action.remains`). */
  | { kind: 'stays'; target: string };

/**
 * One action. `I` is the input its Task state gives it (the whole identification, or one target of its
 * list); `B` what it records before each change.
 */
export type Action<I = never, B = unknown> = {
  spec: ActionSpec;
  /**
   * What it would act on, named, as it decides before changing anything: for the person who approves
   * it, and for a dry run's notification.
   */
  targets(identification: Identification, plan: ResponsePlan): string[];
  contain(input: I, ports: ActionPorts, journal: Journal): Promise<ActionResult>;
  /** The schema of what it records before each change: release and recover parse each entry with it. */
  before: z.ZodType<B>;
  /**
   * The resource an entry's undo would change, read from its recorded state; release refuses an entry
   * whose recorded state names another than its target. Null: the action is never undone (evidence).
   */
  resourceOf(entry: Entry<B>): string | null;
  /** Puts back what an entry recorded; absent for evidence, which is kept. */
  undo?(entry: Entry<B>, ports: UndoPorts): Promise<ActionItem>;
  /** What recover does with an entry; nothing when absent (the entry stays as it is). */
  recover?(entry: Entry<B>): Recovery[];
  /** The line recover's report gives the targets that stay contained (`stays`). */
  remains?(targets: readonly string[]): string;
};

/**
 * Any registered action, whatever its input and record: the state machine gives it its input (checked
 * against the signed plan first), and its entries are parsed by its own `before` schema.
 */
export type AnyAction = Action<never, unknown>;
