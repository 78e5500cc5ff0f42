/** cdk-nag's AwsSolutions pack runs over the stack; every acknowledgement carries its reason. */
import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { synthesize } from '../../support/synth.js';

type Acknowledged = { id: string; reason: string };

function acknowledgements(root: IConstruct): Acknowledged[] {
  return root.node
    .findAll()
    .flatMap((construct) => construct.node.metadata)
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) =>
      Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({ id, reason })),
    );
}

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['no cluster', { clusters: [] }],
    [
      'two clusters, e-mail and VPC placement',
      {
        clusters: ['prod-eks', 'staging-eks'],
        notificationEmail: 'soc@example.com',
        vpc: {
          vpcId: 'vpc-0a1b2c3d',
          subnets: [{ subnetId: 'subnet-0a1b2c3d', availabilityZone: 'us-east-1a' }],
          securityGroupIds: ['sg-0a1b2c3d'],
        },
      },
    ],
  ])('passes with %s', (_name, overrides) => {
    expect(() => synthesize(overrides, { nag: true })).not.toThrow();
  });

  it('acknowledges each finding by its id, with a reason', () => {
    const { app } = synthesize({ clusters: ['prod-eks'] }, { nag: true });
    // CDK's S3 bucket construct acknowledges a cfn-lint warning of its own; every other one is ours.
    const acks = acknowledgements(app).filter((a) => a.id !== 'CloudFormation-Validate::W3045');
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/^AwsSolutions::AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.length).toBeGreaterThan(20);
    }
    expect(acks.map((a) => a.id)).not.toContain('AwsSolutions::AwsSolutions-IAM5');
    // The one S3 acknowledgement: the access log bucket does not log itself; the evidence bucket does.
    expect(acks.filter((a) => /^AwsSolutions::AwsSolutions-S\d/.test(a.id)).map((a) => a.id)).toEqual([
      'AwsSolutions::AwsSolutions-S1',
    ]);
  });

  it('fails the synth on a violation nobody acknowledged', () => {
    expect(() => synthesize({}, { nag: true, extend: (stack) => new s3.Bucket(stack, 'Unchecked') })).toThrow(
      /AwsSolutions-S1/,
    );
  });
});
