/** How every SDK client of the responder is configured. */

/** Where the clients go when not to the region's AWS endpoints: the replay's simulation or local mode. */
export type ClientOverrides = {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
};

/** The SDK client settings: adaptive retries, and the overrides given. */
export function clientConfig(overrides: ClientOverrides) {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  return { maxAttempts: 5, retryMode: 'adaptive', ...defined };
}
