/** Revoke-iam Lambda (lambdas/actions/revoke-iam.ts). */
import { type RevokePorts, revokeIam } from '../actions/revoke-iam.js';
import { awsClients } from '../clients/aws.js';
import { lazyHandler } from '../shared/handler.js';
import { settingsFromEnvironment } from '../shared/settings.js';

export const revokeIamHandler =
  (ports: RevokePorts, options: { revokeSharedRoles: boolean }) => (input: Parameters<typeof revokeIam>[0]) =>
    revokeIam(input, ports, options);

export const handler = lazyHandler(() => revokeIamHandler(awsClients(), settingsFromEnvironment().settings));
