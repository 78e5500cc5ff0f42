/** The cdk.json configuration: defaults, validation that names the field, playbook overrides. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PROTECTED_WORKLOADS } from '../../../lambdas/core/settings.js';
import { DEFAULT_PLAYBOOK } from '../../../lambdas/settings.js';
import { CONTEXT_KEY, parseConfig } from '../../../simulation/cdk-json.js';

describe('parseConfig', () => {
  it('takes role names for neverTouchRoles, not ARNs', () => {
    expect(parseConfig({ neverTouchRoles: ['BreakGlass*'] }).neverTouchRoles).toEqual(['BreakGlass*']);
    expect(() => parseConfig({ neverTouchRoles: ['arn:aws:iam::111122223333:role/x'] })).toThrow(
      /neverTouchRoles\.0: a role name, `\*` allowed/,
    );
  });

  it('gives safe defaults for an empty configuration', () => {
    expect(parseConfig(undefined)).toEqual({
      stackName: 'GuardDutyResponder',
      chatNotifications: false,
      neverTouchRoles: [],
      severity: { atLeast: 4, below: 9 },
      clusters: [],
      members: [],
      memberRoleName: 'GuardDutyResponderMemberAccess',
      externalId: null,
      regions: [],
      enabledActions: [
        'isolate-pods',
        'cordon-nodes',
        'isolate-host',
        'protect-instances',
        'harden-imds',
        'revoke-iam',
        'revoke-sessions',
        'snapshot-volumes',
      ],
      actOnSampleFindings: false,
      playbook: DEFAULT_PLAYBOOK,
      stripPodLabels: false,
      isolateClusterNodes: false,
      revokeSharedRoles: false,
      dryRun: false,
      protectedWorkloads: DEFAULT_PROTECTED_WORKLOADS,
      limits: { maxPodsIsolated: 20, maxNodesCordoned: 3, maxInstances: 20 },
      requireApproval: [],
      // A release that would give IAM back needs a second person.
      secondPerson: ['revoke-iam', 'revoke-sessions'],
      approvalTimeoutMinutes: 60,
      securityHub: { suppressOnRelease: false, customActions: true },
      budget: { nodesPerHour: 6, hostsPerHour: 5, rolesPerHour: 5 },
      evidence: {
        // Object Lock on, governance mode, for new deployments.
        retentionDays: 90,
        pauseContainers: false,
        memoryCaptureCommand: null,
        logBytesPerContainer: 10 * 1024 * 1024,
        hostCaptureSeconds: 120,
        credentialWindowHours: 24,
        credentialPages: 10,
      },
      logRetentionDays: 365,
    });
  });

  it('accepts the configuration shipped in cdk.json', () => {
    const cdkJson = JSON.parse(readFileSync(new URL('../../../cdk.json', import.meta.url), 'utf8'));
    expect(parseConfig(cdkJson.context[CONTEXT_KEY]).severity).toEqual({ atLeast: 4, below: 9 });
  });

  it.each([
    [
      { severity: { atLeast: 7, below: 5 } },
      'guardduty-responder.severity: severity.below must be greater than severity.atLeast',
    ],
    [{ enabledActions: ['delete-cluster'] }, 'guardduty-responder.enabledActions.0: Invalid option'],
    [{ clusters: 'prod' }, 'guardduty-responder.clusters: Invalid input: expected array, received string'],
    [{ notificationEmail: 'soc' }, 'guardduty-responder.notificationEmail: Invalid email address'],
    [{ logRetentionDays: 42 }, 'guardduty-responder.logRetentionDays: must be one of'],
    [{ severity: { min: 4 } }, 'guardduty-responder.severity: Unrecognized key: "min"'],
    [
      { members: [{ accountId: '444455556666' }] },
      'guardduty-responder.externalId: externalId is required with members',
    ],
    [
      { members: [{ accountId: '4444' }] },
      'guardduty-responder.members.0.accountId: an AWS account id is 12 digits',
    ],
    [{ regions: ['Frankfurt'] }, 'guardduty-responder.regions.0: not an AWS region name'],
    [
      { playbook: [{ name: 'only-exec', match: ['Execution:*'], actions: [] }] },
      'the playbook needs a last rule matching "*"',
    ],
  ])('rejects %j, naming the field', (context, message) => {
    expect(() => parseConfig(context)).toThrow(message);
  });

  it('takes a playbook override as data', () => {
    const playbook = [
      {
        name: 'crypto-only',
        match: ['CryptoCurrency:*'],
        actions: ['protect-instances', 'snapshot-volumes'],
      },
      { name: 'rest', match: ['*'], actions: [] },
    ];
    expect(parseConfig({ playbook }).playbook).toEqual(playbook);
  });
});
