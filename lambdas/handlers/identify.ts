/** Identify Lambda: parse the EventBridge event, plan the response, resolve its targets. */
import { type AwsClients, AwsReader, awsClients } from '../clients/aws.js';
import { eksKubernetes } from '../clients/kubernetes.js';
import { parseFindingEvent } from '../core/finding.js';
import { plannedActions, planResponse, type ResponderLocation } from '../core/plan.js';
import { executionOptions, type ResponderSettings } from '../core/settings.js';
import { type IdentifyOutput, type IdentifyPorts, identify } from '../identify/identify.js';
import { IncidentStore } from '../incident/store.js';
import { lazyHandler } from '../shared/handler.js';
import { logger } from '../shared/logger.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export function identifyHandler(
  settings: ResponderSettings,
  location: ResponderLocation,
  clients: AwsClients,
  store: IncidentStore,
  kubernetes: IdentifyPorts['kubernetes'] = eksKubernetes(clients.eks),
): (event: unknown) => Promise<IdentifyOutput> {
  const ports: IdentifyPorts = { kubernetes, aws: new AwsReader(clients) };
  return async (event) => {
    const { detail: finding } = parseFindingEvent(event);
    const dryRun = settings.dryRun || executionOptions(event).dryRun;
    const plan = planResponse(finding, { ...settings, dryRun }, location);
    logger.info('planned', {
      findingId: finding.id,
      type: finding.type,
      rule: plan.rule,
      actions: plan.actions,
    });
    // The plan goes to the incident record while identification runs: neither waits for the other.
    const [identification] = await Promise.all([
      identify(plan, settings, ports),
      store.recordPlan(finding.id, { rule: plan.rule, actions: plan.actions }, new Date().toISOString()),
    ]);
    logger.info('identified', { findingId: finding.id, identification });
    return { plan, planned: plannedActions(plan), identification };
  };
}

export const handler = lazyHandler(() => {
  const { settings, location } = settingsFromEnvironment();
  return identifyHandler(settings, location, awsClients(), IncidentStore.fromEnvironment());
});
