/**
 * Errors worth a retry: throttling, server errors, dropped connections. An action rethrows them as
 * TransientError, which the state machine retries with backoff; every other error becomes a failed item
 * in the action's result, so the other actions still run. And errors for people: one line that says
 * which call failed, with what status, and why.
 */
import { ApiException } from '@kubernetes/client-node';

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

/** What the SDK (and the call-naming middleware of lambdas/clients/aws.ts) hang on an AWS error. */
type AwsErrorFields = {
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string> };
  $service?: string;
  $operation?: string;
};

const awsFields = (error: Error): AwsErrorFields => error as Error & AwsErrorFields;

const httpStatusOf = (error: Error): number | undefined =>
  awsFields(error).$metadata?.httpStatusCode ?? awsFields(error).$response?.statusCode;

export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = httpStatusOf(error);
  return THROTTLING.has(error.name) || status === 429 || (status !== undefined && status >= 500);
}

export function isTransient(error: unknown): boolean {
  // An inner step already said so: a transient error stays transient through every settle around it.
  if (error instanceof TransientError) return true;
  return isTransientAwsError(error) || isTransientKubernetesError(error);
}

/** The causes under an error (undici's "fetch failed" keeps the socket error there), most specific last. */
function causesOf(error: Error): string[] {
  const causes: string[] = [];
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    causes.push(
      typeof code === 'string' && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message,
    );
    cause = cause.cause;
  }
  return causes;
}

/** The `message` of a Kubernetes Status body, however the client handed the body over. */
function statusMessage(body: unknown): string {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body ? `: ${body.slice(0, 300)}` : '';
    }
  }
  const message = (parsed as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? `: ${message}` : '';
}

/**
 * One line for a person: `EKS ListPodIdentityAssociations: HTTP 404, the answer is not an AWS response
 * (text/html)` rather than a parser's complaint; `TypeError: fetch failed: connect ECONNREFUSED …`.
 */
export function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error instanceof ApiException) return `Kubernetes API: HTTP ${error.code}${statusMessage(error.body)}`;
  const { $service, $operation, $response } = awsFields(error);
  const call = $service && $operation ? `${$service} ${$operation}: ` : '';
  const status = httpStatusOf(error);
  const type = $response?.headers?.['content-type'] ?? '';
  const foreign =
    /html|text\/plain/i.test(type) || /Deserialization error|Unexpected token/i.test(error.message);
  if ($response && foreign) {
    return `${call}HTTP ${status ?? '?'}, the answer is not an AWS response (${type || 'no content type'})`;
  }
  const causes = causesOf(error);
  const text = `${error.name}: ${error.message}${causes.length > 0 ? `: ${causes.join(': ')}` : ''}`;
  return call ? `${call}${text}${status ? ` (HTTP ${status})` : ''}` : text;
}

/** Runs a step; a transient failure is thrown for the state machine to retry, any other is returned. */
/**
 * Runs `work`; a failure that passes (throttling, a 5xx, no connection) becomes a TransientError, which
 * the state machine retries with backoff; any other failure is thrown as it is.
 */
export async function retriedWhenTransient<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isTransient(error)) throw new TransientError(messageOf(error));
    throw error;
  }
}

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
