/** The finding model: published GuardDuty findings parse; bad input is named, never a TypeError. */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FindingValidationError,
  isSampleFinding,
  parseFindingEvent,
} from '../../../../lambdas/core/finding.js';
import { loadEvent, PUBLISHED_DIR } from '../../../support/events.js';

const publishedEvents = readdirSync(PUBLISHED_DIR).filter((file) => file.endsWith('.eventbridge.json'));

function problemsOf(input: unknown): readonly string[] {
  try {
    parseFindingEvent(input);
  } catch (error) {
    if (error instanceof FindingValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the input to be rejected');
}

describe('parseFindingEvent', () => {
  it.each(publishedEvents)('parses the published finding %s', (file) => {
    const raw = JSON.parse(readFileSync(`${PUBLISHED_DIR}${file}`, 'utf8'));
    const event = parseFindingEvent(raw);
    expect(event.detail.id).toBe(raw.detail.id);
    expect(event.detail.type).toBe(raw.detail.type);
    expect(event.detail.resource.resourceType).toBe(raw.detail.resource.resourceType);
  });

  it('keeps fields the schema does not name', () => {
    const raw = loadEvent('eks-runtime-new-binary-executed.json');
    raw.detail.service.runtimeDetails.process.futureField = { kept: true };
    raw.detail.associatedAttackSequenceArn = 'arn:aws:guardduty:us-east-1:111122223333:detector/x/finding/y';
    const event = parseFindingEvent(raw);
    expect(event.detail.service.runtimeDetails?.process).toMatchObject({ futureField: { kept: true } });
    expect(event.detail.associatedAttackSequenceArn).toBe(raw.detail.associatedAttackSequenceArn);
  });

  it('names a missing field', () => {
    const raw = loadEvent('eks-audit-privileged-container.json');
    delete raw.detail.resource.resourceType;
    expect(problemsOf(raw)).toEqual([
      'detail.resource.resourceType: Invalid input: expected string, received undefined',
    ]);
  });

  it('names a field of the wrong type', () => {
    const raw = loadEvent('eks-audit-privileged-container.json');
    raw.detail.severity = '5';
    raw.detail.resource.kubernetesDetails.kubernetesWorkloadDetails.containers[0].image = 42;
    expect([...problemsOf(raw)].sort()).toEqual([
      'detail.resource.kubernetesDetails.kubernetesWorkloadDetails.containers.0.image: Invalid input: expected string, received number',
      'detail.severity: Invalid input: expected number, received string',
    ]);
  });

  it('rejects an event that is not a GuardDuty finding', () => {
    const raw = loadEvent('eks-audit-privileged-container.json');
    raw.source = 'aws.securityhub';
    raw['detail-type'] = 'Security Hub Findings - Imported';
    expect(problemsOf(raw)).toEqual([
      'detail-type: Invalid input: expected "GuardDuty Finding"',
      'source: Invalid input: expected "aws.guardduty"',
    ]);
  });

  it('rejects a malformed finding type', () => {
    const raw = loadEvent('eks-audit-privileged-container.json');
    raw.detail.type = 'not a type';
    expect(problemsOf(raw)).toEqual([
      'detail.type: expected a GuardDuty finding type such as Execution:Kubernetes/ExecInKubeSystemPod',
    ]);
  });

  it('rejects the PascalCase output of the CLI, which EventBridge never delivers', () => {
    const cli = JSON.parse(
      readFileSync(`${PUBLISHED_DIR}eks-audit-privileged-container-cdk-blueprints.json`, 'utf8'),
    );
    const event = { ...loadEvent('eks-audit-privileged-container.json'), detail: cli.Findings[0] };
    expect(problemsOf(event)).toContain(
      'detail.accountId: Invalid input: expected string, received undefined',
    );
  });

  it.each([[null], [42], ['text'], [[]], [{}], [{ detail: null }]])(
    'answers %j with a validation error, not a TypeError',
    (input) => {
      expect(() => parseFindingEvent(input)).toThrow(FindingValidationError);
    },
  );
});

describe('isSampleFinding', () => {
  const detail = () => parseFindingEvent(loadEvent('eks-audit-privileged-container.json')).detail;

  it('is false for a real finding', () => {
    expect(isSampleFinding(detail())).toBe(false);
  });

  it('reads the flattened flag and the flag inside additionalInfo.value', () => {
    const flattened = detail();
    flattened.service.additionalInfo = { sample: true };
    const inValue = detail();
    inValue.service.additionalInfo = { value: '{"sample":true}', type: 'default' };
    expect([isSampleFinding(flattened), isSampleFinding(inValue)]).toEqual([true, true]);
  });

  it('treats an unreadable additionalInfo.value as not a sample', () => {
    const finding = detail();
    finding.service.additionalInfo = { value: '{not json', type: 'default' };
    expect(isSampleFinding(finding)).toBe(false);
  });
});
