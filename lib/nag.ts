/** cdk-nag (v3) acknowledgements: one finding, one reason, on the construct that causes it. */
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledge one AwsSolutions finding, e.g. `IAM5[Resource::*]` or `SQS3`. */
export function acknowledge(scope: IConstruct, finding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${finding}`, reason });
}
