/**
 * Retries of calls that failed for a passing reason (throttling, a server error, a dropped connection),
 * within a stated bound: exponential backoff from `firstDelayMs`, doubling up to `maxDelayMs`, for as
 * long as the next attempt would start within `budgetMs` of the first.
 */
import { ApiException } from '@kubernetes/client-node';

export type RetryPolicy = {
  /** No attempt starts later than this after the first one. */
  budgetMs: number;
  firstDelayMs: number;
  maxDelayMs: number;
};

/**
 * Kubernetes API calls: attempts at 0, 0.25, 0.75, 1.75, 3.75, 7.75 and 11.75 s, so an API server that
 * refuses connections is given up on after about 12 s (each attempt bounded by KUBERNETES_REQUEST_TIMEOUT_MS).
 */
export const KUBERNETES_RETRY: RetryPolicy = { budgetMs: 15_000, firstDelayMs: 250, maxDelayMs: 4_000 };

/** No answer from the API server within this time is a failed attempt (a blackholed or hung server). */
export const KUBERNETES_REQUEST_TIMEOUT_MS = 10_000;

/** A failure below HTTP: refused, reset, timed out, DNS, TLS. The request never got an answer. */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return true;
  if (error instanceof TypeError) return true; // undici: "fetch failed", the socket error in `cause`
  const code = (error as { code?: unknown }).code;
  return (
    typeof code === 'string' && /^(E[A-Z]+|UND_ERR_|ERR_TLS|CERT_|DEPTH_|SELF_SIGNED|UNABLE_TO)/.test(code)
  );
}

/** A Kubernetes API answer worth another try: 429 Too Many Requests, a 5xx, or no answer at all. */
export function isTransientKubernetesError(error: unknown): boolean {
  if (error instanceof ApiException) return error.code === 429 || error.code >= 500;
  return error instanceof ClusterUnreachableError || isConnectionFailure(error);
}

/**
 * The cluster's API server could not be used within the retry bound: no connection, or only 429/5xx
 * answers. Transient for the state machine (it retries the action), and named with the endpoint.
 */
export class ClusterUnreachableError extends Error {
  override readonly name = 'ClusterUnreachableError';
}

/** The time a retry waits before attempt `attempt + 1`. */
export const backoff = (policy: RetryPolicy, attempt: number): number =>
  Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (attempt - 1));

/**
 * Runs `call` until it succeeds, fails for a reason that is not transient, or the policy's budget is
 * spent; `onGiveUp` turns the last transient error into the error thrown then.
 */
export async function retrying<T>(
  call: () => Promise<T>,
  isTransient: (error: unknown) => boolean,
  policy: RetryPolicy,
  onGiveUp: (error: unknown, attempts: number, elapsedMs: number) => unknown = (error) => error,
): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!isTransient(error)) throw error;
      const delay = backoff(policy, attempt);
      const elapsed = Date.now() - started;
      if (elapsed + delay > policy.budgetMs) throw onGiveUp(error, attempt, elapsed);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
