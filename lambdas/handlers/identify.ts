/** Identify Lambda: parse the EventBridge event, plan the response, resolve its targets. */
import { type AwsClients, AwsReader, awsClients } from '../clients/aws.js';
import { EksClusters, Kubernetes } from '../clients/kubernetes.js';
import { parseFindingEvent } from '../core/finding.js';
import { planResponse, type ResponderLocation } from '../core/plan.js';
import type { ResponderSettings } from '../core/settings.js';
import { type IdentifyOutput, type IdentifyPorts, identify } from '../identify/identify.js';
import { logger } from '../shared/logger.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export function identifyHandler(
  settings: ResponderSettings,
  location: ResponderLocation,
  clients: AwsClients,
): (event: unknown) => Promise<IdentifyOutput> {
  const clusters = new EksClusters(clients.eks);
  const ports: IdentifyPorts = {
    kubernetes: async (name) => new Kubernetes(await clusters.apis(name)),
    aws: new AwsReader(clients),
  };
  return async (event) => {
    const { detail: finding } = parseFindingEvent(event);
    const plan = planResponse(finding, settings, location);
    logger.info('planned', {
      findingId: finding.id,
      type: finding.type,
      rule: plan.rule,
      actions: plan.actions,
    });
    const identification = await identify(plan, settings.clusters, ports);
    logger.info('identified', { findingId: finding.id, identification });
    return { plan, identification };
  };
}

let fromEnvironment: ReturnType<typeof identifyHandler> | undefined;

export const handler = (event: unknown): Promise<IdentifyOutput> => {
  if (!fromEnvironment) {
    const { settings, location } = settingsFromEnvironment();
    fromEnvironment = identifyHandler(settings, location, awsClients());
  }
  return fromEnvironment(event);
};
