/** The pure half of the source check (lambdas/core/provenance.ts): a finding against GuardDuty's copy. */
import { describe, expect, it } from 'vitest';
import { type Finding, parseFindingEvent } from '../../../../lambdas/core/finding.js';
import { detectorOf, differences } from '../../../../lambdas/core/provenance.js';
import { loadEvent } from '../../../support/events.js';

/** The event's detail as JSON, before it is parsed (loadEvent's own type). */
type Detail = ReturnType<typeof loadEvent>;

const finding = (change: (detail: Detail) => void = () => {}): Finding => {
  const raw = loadEvent('eks-audit-privileged-container.json');
  change(raw.detail);
  return parseFindingEvent(raw).detail;
};

describe('detectorOf', () => {
  it('reads the detector from a finding ARN, and nothing from another ARN', () => {
    expect(detectorOf('arn:aws:guardduty:us-east-1:111122223333:detector/abc123/finding/f00')).toBe('abc123');
    expect(detectorOf('arn:aws:guardduty:us-east-1:111122223333:detector/abc123')).toBeNull();
    expect(detectorOf('arn:aws:iam::111122223333:role/x')).toBeNull();
  });
});

describe('differences', () => {
  it('finds none between a finding and itself, nor when GuardDuty has updated it since', () => {
    expect(differences(finding(), finding())).toEqual([]);
    const later = finding((d) => {
      d.updatedAt = '2099-01-01T00:00:00.000Z';
      d.service.count = 7;
    });
    expect(differences(finding(), later)).toEqual([]);
  });

  it.each([
    ['type', (d: Detail) => (d.type = 'Policy:Kubernetes/AnonymousAccessGranted'), 'type:'],
    ['severity', (d: Detail) => (d.severity = 2), 'severity:'],
    ['account', (d: Detail) => (d.accountId = '999999999999'), 'account:'],
    ['region', (d: Detail) => (d.region = 'eu-west-1'), 'region:'],
    [
      'workload',
      (d: Detail) => (d.resource.kubernetesDetails.kubernetesWorkloadDetails.name = 'other'),
      'the resources it names',
    ],
    [
      'namespace',
      (d: Detail) => (d.resource.kubernetesDetails.kubernetesWorkloadDetails.namespace = 'kube-system'),
      'the resources it names',
    ],
    ['cluster', (d: Detail) => (d.resource.eksClusterDetails.name = 'other-eks'), 'the resources it names'],
  ])('names a different %s', (_, change, says) => {
    const found = differences(finding(change), finding());
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(says);
  });

  it('names an event later than GuardDuty’s copy', () => {
    const found = differences(
      finding((d) => (d.updatedAt = '2099-01-01T00:00:00.000Z')),
      finding(),
    );
    expect(found).toEqual([expect.stringMatching(/^updatedAt: the event says 2099/)]);
  });
});
