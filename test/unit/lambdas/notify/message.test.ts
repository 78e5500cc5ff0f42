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

    const { subject, message, attributes, summary } = composeNotification(state);

    // Nothing ran: the workload the finding names is not cut off, and the subject says so first.
    expect(subject).toBe('[guardduty-responder] NOT CONTAINED (failed): Execution:Runtime/NewBinaryExecuted');
    expect(attributes).toEqual({
      severity: 5,
      findingType: 'Execution:Runtime/NewBinaryExecuted',
      outcome: 'not-contained',
      sample: false,
    });
    const lines = message.split('\n');
    expect(lines[0]).toBe(summary);
    expect(summary).toMatch(
      /^NOT CONTAINED \(failed\): Execution:Runtime\/NewBinaryExecuted \(Medium 5\) on Deployment payments\/payments-api\. failed: /,
    );
    expect(lines).toEqual(
      expect.arrayContaining([
        'What GuardDuty saw: A newly created or recently modified binary file has been executed.',
        // What happened, from the finding: the process, its parent, the file's writer, the hash, the image.
        '  Process:   xmrig-dl (/tmp/.cache/kworkerd)',
        '  Parent:    sh (/bin/sh); curl wrote the file',
        '  SHA-256:   0416d63c9866039678307309ef89541545afedd3bc0b978a329c09757cf30fc2',
        '  Image:     111122223333.dkr.ecr.us-east-1.amazonaws.com/payments-api:2.3.1',
        '  NOT cut off (failed): Deployment payments/payments-api: isolate-pods: the execution did not reach it',
        // The metadata door as found, whether or not harden-imds is in the playbook.
        'Found: cluster prod-eks (reached), Deployment payments/payments-api, 1 pod(s), 0 node(s), 2 instance(s), 0 role(s); IMDS: IMDSv1 allowed, hop limit 2 (pods can reach the instance role’s credentials) on 1 of 2 instance(s)',
        '  not found: service-account payments/payments-api: no such service account',
        'Actions (playbook rule workload-or-host-compromise):',
        '  isolate-pods       NOT RUN: the execution did not reach it',
        `  A false positive, undo the containment: npm run release -- ${state.detail.id}`,
      ]),
    );
    expect(lines.length).toBeLessThan(45);
  });

  it('names the deployed stack in the commands of the next steps, and the report', () => {
    const state = identified('eks-runtime-new-binary-executed.json');
    const { message, nextSteps } = composeNotification(state, null, {
      stackName: 'GuardDutyResponder',
      report: 'aws s3 cp s3://evidence/incidents/x/report.html .',
    });
    expect(nextSteps).toEqual([
      'The incident report: aws s3 cp s3://evidence/incidents/x/report.html .',
      `A false positive, undo the containment: npm run release -- ${state.detail.id} --deployed GuardDutyResponder`,
      `Confirmed, replace what is compromised (once the snapshots completed): npm run recover -- ${state.detail.id} --deployed GuardDutyResponder`,
      'The open incidents: npm run incidents -- --deployed GuardDutyResponder',
    ]);
    expect(message).not.toContain('<stack>');
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
    expect(subject).toBe(
      '[guardduty-responder] NOT CONTAINED (failed): PrivilegeEscalation:Kubernetes/PrivilegedContainer',
    );
    expect(attributes).toMatchObject({ outcome: 'not-contained', severity: 5 });
    expect(message).toContain(
      'identification failed: {"errorMessage":"detail.severity: expected number"}. Nothing was done.',
    );
  });

  it('still says something useful for input that is not an event at all', () => {
    const { subject, attributes, message } = composeNotification({ identify: { Error: 'X', Cause: null } });
    expect(subject).toBe('[guardduty-responder] NOT CONTAINED (failed): unknown');
    expect(attributes).toEqual({
      severity: null,
      findingType: 'unknown',
      outcome: 'not-contained',
      sample: false,
    });
    expect(message).toContain('identification failed');
  });

  it('cuts a message that would not fit in SNS, and says so', () => {
    const huge = `${'é'.repeat(200 * 1024)}`;
    const cut = withinSnsLimit(huge);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(cut.endsWith('(cut to fit an SNS message; the incident report has everything)')).toBe(true);
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

    // No pod found is the first reason; the failed lookup fails revoke-iam all the same.
    expect(attributes.outcome).toBe('not-contained');
    const lines = message.split('\n');
    expect(lines[0]).toContain('NOT CONTAINED (not found)');
    expect(lines).toContain(
      '  LOOKUP FAILED: pod identity associations: EKS ListPodIdentityAssociations: HTTP 404, the answer is not an AWS response (text/html): roles are treated as shared; a Pod Identity role of the pods may be missed',
    );
    expect(lines).toContain(
      '  revoke-iam         FAILED: the lookup of pod identity associations failed: EKS ListPodIdentityAssociations: HTTP 404, the answer is not an AWS response (text/html)',
    );
    expect(lines).toContain('  cordon-nodes       skipped: nothing identified to act on');
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
    expect(composeNotification(state).message).toContain(
      '  revoke-iam         skipped: no IAM role was identified',
    );
    expect(composeNotification(state).message).not.toContain('revoke-iam         FAILED');
  });

  it('names an unreachable cluster with its endpoint and cause', () => {
    const error =
      'API server https://10.0.0.1:443 not reached after 7 attempt(s) over 11.8 s: connect ECONNREFUSED';
    const state = identified('eks-runtime-new-binary-executed.json', {
      cluster: { name: 'prod-eks', managed: true, reachable: false, endpoint: 'https://10.0.0.1:443', error },
    });
    expect(composeNotification(state).message).toContain(`Found: cluster prod-eks (NOT reached: ${error})`);
  });
});
