/** How every SDK client of the responder is configured. */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * Where the clients go when not to the region's AWS endpoints (the replay's simulation or local mode), in
 * which region, and as whom (a member account's assumed role, lambdas/clients/reach.ts).
 */
export type ClientOverrides = {
  endpoint?: string;
  region?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
};

/** The SDK client settings: adaptive retries, and the overrides given. */
export function clientConfig(overrides: ClientOverrides) {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { maxAttempts: 5, retryMode: 'adaptive', ...defined };
}
