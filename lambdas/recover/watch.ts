/**
 * The watch of a recovery (lambdas/handlers/recovery-watch.ts, the RecoveryWatch state machine): a pod
 * recover deleted stays, terminating, until its kubelet confirms. The state machine waits and calls this
 * check again until every pod is gone, or held past its grace period (a finalizer, or a kubelet that does
 * not answer), or the bound passed; no Lambda waits. What it finds is said in one notice.
 */
import type { Kubernetes } from '../clients/kubernetes.js';
import type { ResponderLocation } from '../core/plan.js';

/** How long after its deletion time a pod may still be there before it counts as held. */
export const WATCH_MARGIN_SECONDS = 15;

export type WatchedPod = { cluster: string; namespace: string; pod: string };

/** What the state machine carries from one check to the next. */
export type WatchInput = {
  findingId: string;
  location: ResponderLocation;
  pods: WatchedPod[];
  /** When the watch ends whatever it finds (the last deletion time and the margin). */
  until: string;
};

export type PodFate = { target: string; fate: 'gone' | 'terminating' | 'held'; detail: string };

export type WatchResult = WatchInput & { done: boolean; fates: PodFate[] };

/** The fate of each watched pod now; done when none is still within its grace period, or at the bound. */
export async function checkPods(
  input: WatchInput,
  kubernetes: (cluster: string) => Promise<Kubernetes>,
  now: Date,
): Promise<WatchResult> {
  const fates: PodFate[] = [];
  for (const watched of input.pods) {
    const target = `pod ${watched.namespace}/${watched.pod}`;
    try {
      const pod = await (await kubernetes(watched.cluster)).readPod(watched.namespace, watched.pod);
      if (!pod) {
        fates.push({ target, fate: 'gone', detail: 'gone' });
        continue;
      }
      const until = Date.parse(String(pod.metadata?.deletionTimestamp ?? '')) || 0;
      const finalizers = pod.metadata?.finalizers ?? [];
      const past = now.getTime() > until + WATCH_MARGIN_SECONDS * 1000;
      fates.push(
        !past
          ? { target, fate: 'terminating', detail: `terminating until ${new Date(until).toISOString()}` }
          : {
              target,
              fate: 'held',
              detail:
                finalizers.length > 0
                  ? `still there past its grace period: held by finalizer(s) ${finalizers.join(', ')}; a person removes them once their owner is done`
                  : 'still there past its grace period: its kubelet has not confirmed (is its node cut off?); it goes with its node',
            },
      );
    } catch (error) {
      fates.push({ target, fate: 'terminating', detail: `not read: ${(error as Error).message}` });
    }
  }
  const done = fates.every((fate) => fate.fate !== 'terminating') || now.getTime() >= Date.parse(input.until);
  return { ...input, done, fates };
}

/** The watch's notice, once done. */
export function describeWatch(result: WatchResult): string[] {
  const gone = result.fates.filter((fate) => fate.fate === 'gone').length;
  const lines = [
    `The recovery of finding ${result.findingId} watched ${result.fates.length} deleted pod(s): ${gone} gone.`,
  ];
  for (const fate of result.fates.filter((f) => f.fate !== 'gone'))
    lines.push(`  ${fate.target}: ${fate.detail}`);
  return lines;
}
