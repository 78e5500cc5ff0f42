/** Retries of calls that failed for a passing reason (throttling, a server error, a dropped connection). */
import { ApiException } from '@kubernetes/client-node';

/** A Kubernetes API answer worth another try: 429 Too Many Requests, a 5xx, or no answer at all. */
export function isTransientKubernetesError(error: unknown): boolean {
  if (error instanceof ApiException) return error.code === 429 || error.code >= 500;
  return (
    error instanceof TypeError ||
    (error instanceof Error && 'code' in error && /^E[A-Z]+/.test(String(error.code)))
  );
}

export async function retrying<T>(
  call: () => Promise<T>,
  isTransient: (error: unknown) => boolean,
  { attempts = 3, baseDelayMs = 200 }: { attempts?: number; baseDelayMs?: number } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= attempts || !isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, baseDelayMs * 2 ** (attempt - 1)));
    }
  }
}
