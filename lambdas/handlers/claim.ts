/** Claim Lambda, the first state: the finding id claimed in the incident table (lambdas/incident/claim.ts). */
import type { ResponderSettings } from '../core/settings.js';
import { type ClaimInput, claimFinding } from '../incident/claim.js';
import type { ClaimOutput } from '../incident/record.js';
import { IncidentStore } from '../incident/store.js';
import { settingsFromEnvironment } from '../settings.js';
import { lazyHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';

export function claimHandler(
  settings: Pick<ResponderSettings, 'dryRun' | 'requireApproval' | 'approvalTimeoutMinutes'>,
  store: IncidentStore,
): (input: ClaimInput) => Promise<ClaimOutput> {
  return async (input) => {
    const claim = await claimFinding(input, settings, store);
    logger.info(claim.claimed ? 'claimed' : 'seen again', { ...claim });
    return claim;
  };
}

export const handler = lazyHandler(() =>
  claimHandler(settingsFromEnvironment().settings, IncidentStore.fromEnvironment()),
);
