/**
 * A deployed stack as the CLI reaches it, behind aws-sdk-client-mock: its outputs (DescribeStacks), the
 * caller's identity, and the Lambda functions it invokes, whose answers the test sets.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';

/** A Lambda answer's payload, as the SDK types it. */
export const payloadOf = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)) as never;

export function mockDeployedStack(outputs: Record<string, string>, callerArn: string) {
  const cloudFormation = mockClient(CloudFormationClient);
  const lambda = mockClient(LambdaClient);
  const sts = mockClient(STSClient);
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'GuardDutyResponder',
        CreationTime: new Date(0),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: callerArn });
  return {
    lambda,
    restore: () => {
      cloudFormation.restore();
      lambda.restore();
      sts.restore();
    },
  };
}
