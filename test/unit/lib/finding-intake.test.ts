/** The rule's event pattern, read from the synthesized template, evaluated as EventBridge does. */
import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../support/event-pattern.js';
import { eventFiles, loadEvent } from '../../support/events.js';
import { synthesize } from '../../support/synth.js';

function patternOf(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const rules = Object.values(synthesize(overrides).template.findResources('AWS::Events::Rule'));
  return rules[0]?.Properties.EventPattern;
}

const withSeverity = (severity: unknown) => {
  const event = loadEvent('eks-audit-privileged-container.json');
  event.detail.severity = severity;
  return event;
};

describe('finding rule', () => {
  const pattern = patternOf();

  it.each([4, 5.5, 8.9, 8.99])('matches severity %s', (severity) => {
    expect(matchesPattern(withSeverity(severity), pattern)).toBe(true);
  });

  it.each([3.9, 9, 9.0, 10, 0])('does not match severity %s', (severity) => {
    expect(matchesPattern(withSeverity(severity), pattern)).toBe(false);
  });

  it('does not match a severity sent as a string: numeric matching applies to numbers only', () => {
    expect(matchesPattern(withSeverity('5'), pattern)).toBe(false);
  });

  it('matches every sample event but the low-severity one and the Critical attack sequences', () => {
    const matched = eventFiles().filter((file) => matchesPattern(loadEvent(file), pattern));
    expect(eventFiles().filter((file) => !matched.includes(file))).toEqual([
      'attack-sequence-eks-compromised-cluster.json',
      'attack-sequence-iam-compromised-credentials.json',
      'ec2-ssh-brute-force-inbound-low-severity.json',
    ]);
    const critical = patternOf({ severity: { atLeast: 4, below: null } });
    expect(eventFiles().filter((file) => !matchesPattern(loadEvent(file), critical))).toEqual([
      'ec2-ssh-brute-force-inbound-low-severity.json',
    ]);
  });

  it('does not match other GuardDuty event types or sources', () => {
    const health = { ...withSeverity(5), 'detail-type': 'GuardDuty Runtime Protection Unhealthy' };
    const other = { ...withSeverity(5), source: 'aws.securityhub' };
    expect([matchesPattern(health, pattern), matchesPattern(other, pattern)]).toEqual([false, false]);
  });

  it('takes the Critical band when the range is widened', () => {
    const wide = patternOf({ severity: { atLeast: 7, below: null } });
    expect([6.9, 7, 9, 10].map((severity) => matchesPattern(withSeverity(severity), wide))).toEqual([
      false,
      true,
      true,
      true,
    ]);
  });
});
