/** Identify Lambda: parse the EventBridge event, plan the response, resolve its targets. */
import { type AwsClients, AwsReader, awsClients } from '../clients/aws.js';
import { eksKubernetes } from '../clients/kubernetes.js';
import { parseFindingEvent } from '../core/finding.js';
import { plannedActions, planResponse, type ResponderLocation } from '../core/plan.js';
import { EXECUTION_OPTIONS_KEY, type ResponderSettings } from '../core/settings.js';
import { type IdentifyOutput, type IdentifyPorts, identify } from '../identify/identify.js';
import { lazyHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';
import { settingsFromEnvironment } from '../shared/settings.js';

/**
 * An execution started by hand (replay against the deployed stack) may ask for a dry run in its input,
 * beside the event; the request can only make the response do less, never more.
 */
function requestsDryRun(event: unknown): boolean {
  const options = (event as Record<string, unknown> | null)?.[EXECUTION_OPTIONS_KEY];
  return typeof options === 'object' && options !== null && (options as { dryRun?: unknown }).dryRun === true;
}

export function identifyHandler(
  settings: ResponderSettings,
  location: ResponderLocation,
  clients: AwsClients,
  kubernetes: IdentifyPorts['kubernetes'] = eksKubernetes(clients.eks),
): (event: unknown) => Promise<IdentifyOutput> {
  const ports: IdentifyPorts = { kubernetes, aws: new AwsReader(clients) };
  return async (event) => {
    const { detail: finding } = parseFindingEvent(event);
    const dryRun = settings.dryRun || requestsDryRun(event);
    const plan = planResponse(finding, { ...settings, dryRun }, location);
    logger.info('planned', {
      findingId: finding.id,
      type: finding.type,
      rule: plan.rule,
      actions: plan.actions,
    });
    const identification = await identify(plan, settings, ports);
    logger.info('identified', { findingId: finding.id, identification });
    return { plan, planned: plannedActions(plan), identification };
  };
}

export const handler = lazyHandler(() => {
  const { settings, location } = settingsFromEnvironment();
  return identifyHandler(settings, location, awsClients());
});
