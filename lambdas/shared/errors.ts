/**
 * Errors worth a retry: throttling, server errors, dropped connections. An action rethrows them as
 * TransientError, which the state machine retries with backoff; every other error becomes a failed item
 * in the action's result, so the other actions still run.
 */
import { isTransientKubernetesError } from '../clients/retry.js';

export class TransientError extends Error {
  override readonly name = 'TransientError';
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
  'InternalFailure',
  'ServiceFailure',
]);

export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return THROTTLING.has(error.name) || status === 429 || (status !== undefined && status >= 500);
}

export function isTransient(error: unknown): boolean {
  return isTransientAwsError(error) || isTransientKubernetesError(error);
}

export const messageOf = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** Runs a step; a transient failure is thrown for the state machine to retry, any other is returned. */
export async function settle<T>(
  work: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (isTransient(error)) throw new TransientError(messageOf(error));
    return { ok: false, error: messageOf(error) };
  }
}
