/**
 * The settings schema bound to the registered actions (lambdas/actions/registry.ts): the one the CDK
 * config (lib/config.ts) validates cdk.json with, and the functions read back from RESPONDER_SETTINGS.
 */
import { REGISTRY, SPECS } from './actions/registry.js';
import { type Reach, reach } from './clients/reach.js';
import { type Phase, phasesFor } from './core/action-spec.js';
import type { Finding } from './core/finding.js';
import { planResponse, type ResponderLocation, type ResponsePlan } from './core/plan.js';
import { type ActionNames, defaultPlaybook, playbookSchema } from './core/playbook.js';
import { type ResponderSettings, responderSettingsSchema } from './core/settings.js';
import { requireEnv } from './shared/env.js';

export const ResponderSettingsSchema = responderSettingsSchema(SPECS);
export const PlaybookSchema = playbookSchema(SPECS.map((spec) => spec.name) as unknown as ActionNames);
export const DEFAULT_PLAYBOOK = defaultPlaybook(SPECS);

/** The plan for a finding, over the registered actions. */
export const plan = (
  finding: Finding,
  settings: ResponderSettings,
  location: ResponderLocation,
): ResponsePlan => planResponse(finding, settings, location, SPECS);

/** The phases of containment over the registered actions, some of them waiting for approval. */
export const phases = (gated: readonly string[]): Phase[] => phasesFor(SPECS, gated);

/** The registered actions whose budget a flood of findings can exhaust. */
export const BUDGETED = REGISTRY.filter((action) => action.spec.budget !== null).map(
  (action) => action.spec.name,
);

/** The deployer's settings and the responder's own account and region, as the stack passes them. */
export function settingsFromEnvironment(): { settings: ResponderSettings; location: ResponderLocation } {
  const raw = requireEnv('RESPONDER_SETTINGS');
  const parsed = ResponderSettingsSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`RESPONDER_SETTINGS is not valid: ${parsed.error.message}`);
  return {
    settings: parsed.data,
    location: { accountId: requireEnv('RESPONDER_ACCOUNT'), region: requireEnv('AWS_REGION') },
  };
}

/** A Lambda's reach: its settings and location from the environment, its own credentials. */
export function reachFromEnvironment(functionName: string): Reach {
  const { settings, location } = settingsFromEnvironment();
  return reach({ home: location, settings, sessionName: functionName });
}
