/** cdk.json as `cdk synth` reads it, for the commands and the local runner; the schema is lib/config.ts. */
import { readFileSync } from 'node:fs';

export * from '../lib/config.js';

/** The context of cdk.json, as `cdk synth` reads it (feature flags and the responder's configuration). */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8'));
  return cdkJson.context ?? {};
}
