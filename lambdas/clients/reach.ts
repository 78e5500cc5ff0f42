/**
 * Reaching the account and region of a finding: the responder's own account with the function's own
 * credentials, a member account through its MemberAccess role (sts:AssumeRole with the external id, the
 * credentials kept per account until shortly before they expire), and in either case the finding's
 * region. Clients are made once per account and region for the life of the Lambda container.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { ResponderLocation } from '../core/plan.js';
import type { ResponderSettings } from '../core/settings.js';
import { evidenceClients } from '../evidence/clients.js';
import { type AwsClients, awsClients } from './aws.js';
import { type ClientOverrides, clientConfig } from './config.js';
import { eksKubernetes, type Kubernetes } from './kubernetes.js';
import { namedCalls } from './named-calls.js';
import type { RetryPolicy } from './retry.js';

/** Everything an action may call in one account and region. */
export type Reached = AwsClients & {
  ssm: ReturnType<typeof evidenceClients>['ssm'];
  kubernetes: (cluster: string) => Promise<Kubernetes>;
};

/** The clients for the account and region of a finding (or of an incident record). */
export type Reach = (location: ResponderLocation) => Reached;

/** Renewed this long before they expire. */
const RENEW_BEFORE_MS = 5 * 60 * 1000;

export const partitionOf = (region: string): string =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';

/** The MemberAccess role of one function in a member account: `<memberRoleName>-<function>`. */
export const memberRoleNameOf = (base: string, functionName: string): string => `${base}-${functionName}`;

/** The MemberAccess role of a member account. */
export const memberRoleArn = (accountId: string, region: string, roleName: string): string =>
  `arn:${partitionOf(region)}:iam::${accountId}:role/${roleName}`;

/** Credentials of a member's MemberAccess role, assumed when first needed and again before they expire. */
export function assumedRole(
  sts: STSClient,
  request: { roleArn: string; externalId: string; sessionName: string },
): AwsCredentialIdentityProvider {
  let current: AwsCredentialIdentity | undefined;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const assume = async (): Promise<AwsCredentialIdentity> => {
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: request.roleArn,
        RoleSessionName: request.sessionName,
        ExternalId: request.externalId,
        DurationSeconds: 3600,
      }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey)
      throw new Error(`sts:AssumeRole of ${request.roleArn} returned no credentials`);
    return {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
      expiration: Credentials.Expiration,
    };
  };
  return async () => {
    const fresh = current?.expiration && current.expiration.getTime() - Date.now() > RENEW_BEFORE_MS;
    if (current && fresh) return current;
    pending ??= assume().finally(() => {
      pending = undefined;
    });
    current = await pending;
    return current;
  };
}

/**
 * How a function reaches findings' accounts and regions. `overrides` point every client elsewhere (the
 * simulation, an AWS-compatible endpoint) and may give the function's own credentials.
 */
export function reach(options: {
  home: ResponderLocation;
  settings: Pick<ResponderSettings, 'members' | 'memberRoleName' | 'externalId'>;
  /** Names the session in the member account's CloudTrail: the function that assumed the role. */
  sessionName: string;
  overrides?: ClientOverrides;
  retry?: RetryPolicy;
  /** One Kubernetes API for every cluster: a kubeconfig's, in the local mode. */
  kubernetes?: (cluster: string) => Promise<Kubernetes>;
}): Reach {
  const { home, settings, overrides = {} } = options;
  const sts = namedCalls(new STSClient(clientConfig({ ...overrides, region: home.region })));
  const credentials = new Map<string, AwsCredentialIdentityProvider>();
  const reached = new Map<string, Reached>();
  const credentialsOf = (accountId: string): ClientOverrides['credentials'] => {
    const member = settings.members.some((m) => m.accountId === accountId) && accountId !== home.accountId;
    if (!member) return overrides.credentials;
    let provider = credentials.get(accountId);
    if (!provider) {
      provider = assumedRole(sts, {
        // The function's own role there: it holds that function's part, and only that function's role may
        // assume it.
        roleArn: memberRoleArn(
          accountId,
          home.region,
          memberRoleNameOf(settings.memberRoleName, options.sessionName),
        ),
        externalId: settings.externalId ?? '',
        sessionName: `guardduty-responder-${options.sessionName}`.slice(0, 64),
      });
      credentials.set(accountId, provider);
    }
    return provider;
  };
  return (location) => {
    const key = `${location.accountId}/${location.region}`;
    const known = reached.get(key);
    if (known) return known;
    const at: ClientOverrides = {
      ...overrides,
      region: location.region,
      credentials: credentialsOf(location.accountId),
    };
    const clients = awsClients(at);
    const made: Reached = {
      ...clients,
      ssm: evidenceClients(at).ssm,
      kubernetes:
        options.kubernetes ??
        (options.retry ? eksKubernetes(clients.eks, options.retry) : eksKubernetes(clients.eks)),
    };
    reached.set(key, made);
    return made;
  };
}
