/** The notification text and attributes, from identification output or from a failed execution. */
import { describe, expect, it } from 'vitest';
import type { Identification } from '../../../../lambdas/identify/identify.js';
import {
  clean,
  composeNotification,
  MAX_MESSAGE_BYTES,
  withinSnsLimit,
} from '../../../../lambdas/notify/message.js';
import { loadEvent } from '../../../support/events.js';
import { identification, identifiedInstance, identifiedPod, planFor } from '../../../support/incident.js';

function identified(file: string, partial: Partial<Identification> = {}) {
  const event = loadEvent(file);
  const plan = planFor(file);
  const found = identification({
    workload: { kind: 'Deployment', name: 'payments-api', namespace: 'payments', uid: 'u1' },
    ...partial,
  });
  return { ...event, identify: { plan, planned: [], identification: found } };
}

describe('composeNotification', () => {
  it('says what the finding is, what was found and what the plan holds', () => {
    const state = identified('eks-runtime-new-binary-executed.json', {
      pods: [identifiedPod('payments-api-1', 'payments', { nodeName: 'ip-10-0-12-34.ec2.internal' })],
      instances: [
        identifiedInstance('i-0f1e2d3c4b5a69788', {
          nodeName: 'ip-10-0-12-34.ec2.internal',
          cluster: 'prod-eks',
          autoScalingGroup: 'eks-general',
          role: { name: 'eks-node-role', arn: 'arn:aws:iam::111122223333:role/eks-node-role' },
          volumes: [{ volumeId: 'vol-1', deviceName: '/dev/xvda', deleteOnTermination: true }],
          metadata: { endpoint: 'enabled', imdsv1: true, hopLimit: 2 },
        }),
        identifiedInstance('i-0aaaaaaaaaaaaaaa2', {
          metadata: { endpoint: 'enabled', imdsv1: false, hopLimit: 1 },
        }),
      ],
      notFound: [
        { kind: 'service-account', name: 'payments/payments-api', detail: 'no such service account' },
      ],
    });

    const { subject, message, attributes } = composeNotification(state);

    expect(subject).toBe('[guardduty-responder] identified: Medium Execution:Runtime/NewBinaryExecuted');
    expect(attributes).toEqual({
      severity: 5,
      findingType: 'Execution:Runtime/NewBinaryExecuted',
      outcome: 'identified',
      sample: false,
    });
    const lines = message.split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'GuardDuty finding Execution:Runtime/NewBinaryExecuted',
      'Severity: Medium (5)',
    ]);
    expect(lines).toEqual(
      expect.arrayContaining([
        'Account 111122223333, region us-east-1',
        `Console: https://console.aws.amazon.com/guardduty/home?region=us-east-1#/findings?macros=current&fId=${state.detail.id}`,
        'Cluster: prod-eks (managed by the responder)',
        'Workload: Deployment payments/payments-api',
        'Pods (1): payments/payments-api-1 on ip-10-0-12-34.ec2.internal',
        // The metadata door as found, whether or not harden-imds is in the playbook.
        'Instances (2): i-0f1e2d3c4b5a69788 (running; Auto Scaling group eks-general; role eks-node-role; IMDS: IMDSv1 allowed, hop limit 2 (pods can reach the instance role’s credentials); volumes vol-1 (/dev/xvda)), i-0aaaaaaaaaaaaaaa2 (running; no Auto Scaling group; IMDS: IMDSv2 required, hop limit 1; volumes none)',
        'Not found: service-account payments/payments-api: no such service account',
        'What was done (playbook rule workload-or-host-compromise):',
        '  isolate-pods: not run',
      ]),
    );
  });

  it('reports a failed identification with the error, from the raw event', () => {
    const event = loadEvent('eks-audit-privileged-container.json');
    const { subject, message, attributes } = composeNotification({
      ...event,
      identify: {
        Error: 'FindingValidationError',
        Cause: '{"errorMessage":"detail.severity: expected number"}',
      },
    });
    expect(subject).toBe('[guardduty-responder] failed: PrivilegeEscalation:Kubernetes/PrivilegedContainer');
    expect(attributes).toMatchObject({ outcome: 'failed', severity: 5 });
    expect(message).toContain(
      'Identification failed: FindingValidationError: {"errorMessage":"detail.severity: expected number"}',
    );
  });

  it('still says something useful for input that is not an event at all', () => {
    const { subject, attributes, message } = composeNotification({ identify: { Error: 'X', Cause: null } });
    expect(subject).toBe('[guardduty-responder] failed: unknown');
    expect(attributes).toEqual({ severity: null, findingType: 'unknown', outcome: 'failed', sample: false });
    expect(message).toContain('Identification failed: X');
  });

  it('cuts a message that would not fit in SNS, and says so', () => {
    const huge = `${'é'.repeat(200 * 1024)}`;
    const cut = withinSnsLimit(huge);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(cut.endsWith('(cut to fit an SNS message; the full results are in the execution history)')).toBe(
      true,
    );
    expect(withinSnsLimit('short')).toBe('short');
  });

  it('strips control characters from attacker-controlled text and bounds its length', () => {
    expect(clean('evil\u001b[31m\nname\u0000')).toBe('evil [31m name');
    expect(clean('x'.repeat(500), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

describe('a lookup that failed', () => {
  // The two phases' outputs, as the state machine leaves them (lambdas/core/action-spec.ts phasesOf).
  const contained = {
    contain: {
      isolatePods: { action: 'isolate-pods', skipped: null, items: [] },
      cordonNodes: [],
      protectInstances: [],
    },
    cut: {
      isolateHost: [],
      revokeIam: { action: 'revoke-iam', skipped: 'no IAM role was identified', items: [] },
      snapshotVolumes: [],
    },
  };

  it('fails the actions whose targets it would have found, and says so first', () => {
    const state = {
      ...identified('eks-runtime-new-binary-executed.json', {
        errors: [
          {
            step: 'pod identity associations',
            message:
              'EKS ListPodIdentityAssociations: HTTP 404, the answer is not an AWS response (text/html)',
            affects: ['roles'],
            consequence: 'roles are treated as shared; a Pod Identity role of the pods may be missed',
          },
        ],
      }),
      ...contained,
    };

    const { message, attributes } = composeNotification(state);

    expect(attributes.outcome).toBe('failed');
    const lines = message.split('\n');
    expect(lines).toContain('Outcome: FAILED: revoke-iam did not complete (below)');
    expect(lines).toContain(
      'Lookup failed: pod identity associations: EKS ListPodIdentityAssociations: HTTP 404, the answer is not an AWS response (text/html): roles are treated as shared; a Pod Identity role of the pods may be missed',
    );
    expect(lines).toContain('  revoke-iam: failed (no IAM role was identified)');
    expect(lines).toContain('    incomplete: the lookup of pod identity associations failed (above)');
    expect(lines).toContain('  cordon-nodes: skipped (nothing identified to act on)');
  });

  it('does not fail the response when it only tells whether a role is shared', () => {
    const state = {
      ...identified('eks-runtime-new-binary-executed.json', {
        errors: [
          {
            step: 'service accounts sharing the roles',
            message: 'Kubernetes API: HTTP 403: forbidden',
            affects: [],
            consequence: 'roles are treated as shared',
          },
        ],
      }),
      ...contained,
    };
    expect(composeNotification(state).attributes.outcome).toBe('identified');
  });

  it('names an unreachable cluster with its endpoint and cause', () => {
    const error =
      'API server https://10.0.0.1:443 not reached after 7 attempt(s) over 11.8 s: connect ECONNREFUSED';
    const state = identified('eks-runtime-new-binary-executed.json', {
      cluster: { name: 'prod-eks', managed: true, reachable: false, endpoint: 'https://10.0.0.1:443', error },
    });
    expect(composeNotification(state).message).toContain(
      `Cluster: prod-eks (managed by the responder; NOT reached: ${error})`,
    );
  });
});
