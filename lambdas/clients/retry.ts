/**
 * Retries of calls that failed for a passing reason (throttling, a server error, a dropped connection),
 * within a stated bound: exponential backoff from `firstDelayMs`, doubling up to `maxDelayMs`, for as
 * long as the next attempt would start within `budgetMs` of the first.
 */

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
