import type { ResponderLocation } from '../core/plan.js';
import { type ResponderSettings, ResponderSettingsSchema } from '../core/settings.js';
import { requireEnv } from './env.js';

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
