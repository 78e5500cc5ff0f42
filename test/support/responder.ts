/** The real handlers of every task state of the synthesized state machine, over the given clients. */
import { SNSClient } from '@aws-sdk/client-sns';
import { awsClients } from '../../lambdas/clients/aws.js';
import { eksKubernetes } from '../../lambdas/clients/kubernetes.js';
import { ResponderSettingsSchema } from '../../lambdas/core/settings.js';
import { cordonNodesHandler } from '../../lambdas/handlers/cordon-nodes.js';
import { identifyHandler } from '../../lambdas/handlers/identify.js';
import { isolatePodsHandler } from '../../lambdas/handlers/isolate-pods.js';
import { notifyHandler } from '../../lambdas/handlers/notify.js';
import { protectInstancesHandler } from '../../lambdas/handlers/protect-instances.js';
import { revokeIamHandler } from '../../lambdas/handlers/revoke-iam.js';
import { snapshotVolumesHandler } from '../../lambdas/handlers/snapshot-volumes.js';
import { RESPONDER } from './events.js';

export const TOPIC = 'arn:aws:sns:us-east-1:111122223333:responder';

// biome-ignore lint/suspicious/noExplicitAny: each handler takes its own input; the runner passes state JSON
type AnyHandler = (input: any) => Promise<unknown>;

export function responderHandlers(settingsInput: Record<string, unknown>): Record<string, AnyHandler> {
  const settings = ResponderSettingsSchema.parse(settingsInput);
  const clients = awsClients();
  const kubernetes = eksKubernetes(clients.eks);
  return {
    Identify: identifyHandler(settings, RESPONDER, clients),
    IsolatePods: isolatePodsHandler(kubernetes, settings),
    CordonNodesItem: cordonNodesHandler(kubernetes),
    ProtectInstancesItem: protectInstancesHandler({ ...clients, kubernetes }),
    RevokeIam: revokeIamHandler(clients, settings),
    SnapshotVolumesItem: snapshotVolumesHandler(clients),
    Notify: notifyHandler(new SNSClient({}), TOPIC),
  };
}
