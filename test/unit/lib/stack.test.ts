/** The synthesized stack: the named resources and policies, not resource counts. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ResponderSettingsSchema } from '../../../lambdas/settings.js';
import { only, synthesize } from '../../support/synth.js';

const { template, stack } = synthesize({
  clusters: ['prod-eks', 'staging-eks'],
  notificationEmail: 'soc@example.com',
  neverTouchRoles: ['BreakGlass*', 'security-audit'],
});

/** Roles no responder function may strip, deny or give policies to, besides its own (iam-scopes.ts). */
const UNTOUCHABLE = [
  ':role/cdk-*',
  ':role/OrganizationAccountAccessRole',
  ':role/aws-reserved/*',
  ':role/AWSReservedSSO_*',
  ':role/BreakGlass*',
  ':role/security-audit',
];
const logicalIds = (type: string, props: Record<string, unknown> = {}) =>
  Object.keys(template.findResources(type, props));

function functionId(descriptionStart: string): string {
  const [id] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, r]) =>
    String(r.Properties.Description).startsWith(descriptionStart),
  ) ?? [''];
  return id;
}
const identifyId = functionId('Plans the response');
const notifyId = functionId('Publishes what');
const isolateId = functionId('Isolates pods');
const cordonId = functionId('Cordons a node');
const protectId = functionId('Sets termination');
const revokeId = functionId('Detaches the policies');
const sessionsId = functionId('Denies a role');
const snapshotId = functionId('Snapshots the EBS');
const hostId = functionId('Puts an instance behind');
const claimId = functionId('Claims a finding');
const releaseId = functionId('Undoes the containment');
const ALL_FUNCTIONS = [
  claimId,
  identifyId,
  isolateId,
  cordonId,
  hostId,
  protectId,
  revokeId,
  sessionsId,
  snapshotId,
  notifyId,
  releaseId,
];
const tableId = only(template, 'AWS::DynamoDB::Table').id;
/** The key of a resource that names its key by `KmsMasterKeyId` or `SSESpecification.KMSMasterKeyId`. */
const topicKeyId = () =>
  (only(template, 'AWS::SNS::Topic').resource.Properties.KmsMasterKeyId as { 'Fn::GetAtt': string[] })[
    'Fn::GetAtt'
  ][0] as string;
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
/**
 * A role's statements as `Effect action on resources`, with tokens shown as their logical ids; logs,
 * tracing and the incident record (tested on their own) left out.
 */
const grants = (fnId: string) =>
  (statementsOf(roleOf(fnId)) as Statement[])
    .filter((st) => !/^(logs|xray|dynamodb|kms):/.test([st.Action].flat()[0] ?? ''))
    .flatMap((st) =>
      [st.Action]
        .flat()
        .map(
          (action) =>
            `${st.Effect} ${action} on ${JSON.stringify(st.Resource).replace(/"Fn::Join":\["",|\{"Ref":"AWS::Partition"\}/g, '')}${st.Condition ? ` if ${JSON.stringify(st.Condition)}` : ''}`,
        ),
    )
    .sort();
const roleOf = (fnId: string) =>
  (template.toJSON().Resources[fnId].Properties.Role['Fn::GetAtt'] as string[])[0] as string;
/** A role's statements, from its inline policies and the managed overflow policy CDK makes when they grow. */
const statementsOf = (roleId: string) =>
  [
    ...Object.values(template.findResources('AWS::IAM::Policy')),
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')),
  ]
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );

/** The response state machine (the other one is the RecoveryWatch). */
function responseMachine(): { id: string; resource: { Properties: Record<string, unknown> } } {
  const [id, resource] =
    Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).find(([key]) =>
      key.startsWith('Workflow'),
    ) ?? [];
  if (!id || !resource) throw new Error('no response state machine');
  return { id, resource: resource as { Properties: Record<string, unknown> } };
}

describe('finding intake', () => {
  it('matches GuardDuty findings by source, detail-type and a numeric severity range', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.guardduty'],
        'detail-type': ['GuardDuty Finding'],
        detail: { severity: [{ numeric: ['>=', 4, '<', 9] }] },
      },
      State: 'ENABLED',
    });
  });

  it('targets the state machine with a retry policy and a dead-letter queue', () => {
    const queue = only(template, 'AWS::SQS::Queue');
    const machine = responseMachine();
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        {
          Arn: { Ref: machine.id },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue.id, 'Arn'] } },
          RoleArn: Match.anyValue(),
        },
      ],
    });
    expect(queue.resource.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
          }),
        ]),
      },
    });
  });
});

describe('response workflow', () => {
  it('is a Standard state machine that logs every transition, never the data (task tokens), with X-Ray', () => {
    const logGroups = logicalIds('AWS::Logs::LogGroup');
    const machine = responseMachine().resource.Properties;
    expect(machine).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    const destination = (
      machine.LoggingConfiguration as {
        Destinations: { CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': string[] } } }[];
      }
    ).Destinations[0]?.CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(logGroups).toContain(destination);
  });
});

describe('functions', () => {
  it('run on the newest Node.js runtime on arm64 with tracing and their own log group', () => {
    for (const id of [identifyId, notifyId]) {
      expect(template.toJSON().Resources[id].Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) } },
      });
    }
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it('pass the deployer settings to identify in the shape the Lambda parses', () => {
    const env = template.toJSON().Resources[identifyId].Properties.Environment.Variables;
    const settings = ResponderSettingsSchema.parse(JSON.parse(env.RESPONDER_SETTINGS));
    expect(settings.clusters).toEqual(['prod-eks', 'staging-eks']);
    expect(settings.severity).toEqual({ atLeast: 4, below: 9 });
    expect(env.RESPONDER_ACCOUNT).toBe('111122223333');
  });

  it('grant identify only the reads it makes, scoped to the configured clusters', () => {
    const statements = statementsOf(roleOf(identifyId))
      .filter((s) => !/^(dynamodb|kms):/.test([s.Action].flat()[0] ?? ''))
      .map((s) => ({ actions: [s.Action].flat(), resource: s.Resource }));
    const actions = statements.flatMap((s) => s.actions).sort();
    expect(actions).toEqual([
      'autoscaling:DescribeAutoScalingInstances',
      'ec2:DescribeInstances',
      'eks:DescribeCluster',
      'eks:DescribePodIdentityAssociation',
      'eks:ListPodIdentityAssociations',
      // The finding read back from GuardDuty; the trust policy of an IRSA role.
      'guardduty:GetFindings',
      'iam:GetInstanceProfile',
      'iam:GetRole',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      // The pod and node objects as read go to the evidence bucket, under incidents/ only.
      's3:PutObject',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(JSON.stringify(statements.find((s) => s.actions.includes('s3:PutObject'))?.resource)).toMatch(
      /EvidenceBucket.*\/incidents\/\*/,
    );
    const onClusters = statements.find((s) => s.actions.includes('eks:DescribeCluster'));
    expect(JSON.stringify(onClusters?.resource)).toMatch(/:cluster\/prod-eks.*:cluster\/staging-eks/);
    const onDetectors = statements.find((s) => s.actions.includes('guardduty:GetFindings'));
    expect(JSON.stringify(onDetectors?.resource)).toMatch(/:guardduty:us-east-1:111122223333:detector\/\*/);
    const onAssociations = statements.find((s) => s.actions.includes('eks:DescribePodIdentityAssociation'));
    expect(JSON.stringify(onAssociations?.resource)).toContain(':podidentityassociation/prod-eks/*');
    const unscoped = statements
      .filter((s) => s.resource === '*')
      .flatMap((s) => s.actions)
      .sort();
    expect(unscoped).toEqual([
      'autoscaling:DescribeAutoScalingInstances',
      'ec2:DescribeInstances',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('grant notify publishing on the topic and use of its key, the outcome in the record, the Security Hub note and the incident report beside the evidence, nothing else', () => {
    const topic = only(template, 'AWS::SNS::Topic').id;
    const key = topicKeyId();
    const statements = statementsOf(roleOf(notifyId)).filter(
      (s) =>
        !/^(logs|xray|dynamodb):/.test([s.Action].flat()[0] ?? '') &&
        ![s.Resource].flat().some((r) => JSON.stringify(r).includes('IncidentsKey')),
    );
    expect(statements).toEqual([
      expect.objectContaining({ Action: 'securityhub:BatchUpdateFindings', Resource: '*' }),
      // The incident report, under the evidence prefix: s3:PutObject only (no read, no delete).
      expect.objectContaining({
        Action: 's3:PutObject',
        Resource: {
          'Fn::Join': [
            '',
            [{ 'Fn::GetAtt': [expect.stringMatching(/^EvidenceBucket/), 'Arn'] }, '/incidents/*'],
          ],
        },
      }),
      expect.objectContaining({ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] }),
      expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: topic } }),
      expect.objectContaining({
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: { 'Fn::GetAtt': [key, 'Arn'] },
      }),
    ]);
    expect(template.toJSON().Resources[notifyId].Properties.Environment.Variables.TOPIC_ARN).toEqual({
      Ref: topic,
    });
  });
});

describe('containment functions', () => {
  it('grant each action only its own calls, on named resource types', () => {
    expect(grants(isolateId)).toEqual([
      expect.stringMatching(/^Allow eks:DescribeCluster on .*cluster\/prod-eks.*cluster\/staging-eks/),
    ]);
    expect(grants(cordonId)).toEqual([
      expect.stringMatching(/^Allow eks:DescribeCluster on .*cluster\/prod-eks/),
    ]);
    expect(grants(protectId)).toEqual([
      'Allow autoscaling:DescribeAutoScalingInstances on "*"',
      expect.stringMatching(
        /^Allow autoscaling:SetInstanceProtection on .*:autoscaling:us-east-1:111122223333:autoScalingGroup:\*:autoScalingGroupName\/\*/,
      ),
      expect.stringMatching(
        /^Allow ec2:DescribeInstanceAttribute on .*:ec2:us-east-1:111122223333:instance\/\*/,
      ),
      // Termination protection on and delete-on-termination off, and no other attribute (instance type,
      // user data, security groups): ec2:Attribute names the attribute a request sets.
      expect.stringMatching(
        /^Allow ec2:ModifyInstanceAttribute on .*:instance\/\*.* if \{"StringEqualsIgnoreCase":\{"ec2:Attribute":"BlockDeviceMapping"\}\}$/,
      ),
      expect.stringMatching(
        /^Allow ec2:ModifyInstanceAttribute on .*:instance\/\*.* if \{"StringEqualsIgnoreCase":\{"ec2:Attribute\/DisableApiTermination":"true"\}\}$/,
      ),
      expect.stringMatching(/^Allow eks:DescribeCluster on /),
    ]);
    // IMDSv2 required, and nothing looser: the call is allowed only when it sets HttpTokens=required.
    expect(grants(functionId('Requires IMDSv2'))).toEqual([
      'Allow ec2:DescribeInstances on "*"',
      expect.stringMatching(
        /^Allow ec2:ModifyInstanceMetadataOptions on .*:ec2:us-east-1:111122223333:instance\/\*.* if \{"StringEquals":\{"ec2:Attribute\/HttpTokens":"required"\}\}$/,
      ),
    ]);
    expect(grants(snapshotId)).toEqual([
      expect.stringMatching(
        /^Allow ec2:CreateSnapshot on .*:ec2:us-east-1:111122223333:volume\/\*.*:ec2:us-east-1::snapshot\/\*/,
      ),
      expect.stringMatching(
        /^Allow ec2:CreateTags on .*:ec2:us-east-1::snapshot\/\*.* if \{"StringEquals":\{"ec2:CreateAction":"CreateSnapshot"\}\}$/,
      ),
      'Allow ec2:DescribeSnapshots on "*"',
    ]);
    // isolate-host: only the responder's own groups get rules; only tagged groups are created; the
    // instance gets the quarantine tag and no other.
    expect(grants(hostId)).toEqual([
      expect.stringMatching(/^Allow autoscaling:DescribeAutoScalingGroups on "\*"$/),
      expect.stringMatching(/^Allow autoscaling:DescribeAutoScalingInstances on "\*"$/),
      expect.stringMatching(/^Allow autoscaling:EnterStandby on .*autoScalingGroupName\/\*/),
      ...['AuthorizeSecurityGroupEgress', 'AuthorizeSecurityGroupIngress'].map((action) =>
        expect.stringMatching(
          new RegExp(
            `^Allow ec2:${action} on .*:security-group/\\*.* if \\{"StringEquals":\\{"aws:ResourceTag/guardduty-responder:purpose":\\["quarantine","untrack"\\]\\}\\}$`,
          ),
        ),
      ),
      expect.stringMatching(
        /^Allow ec2:CreateSecurityGroup on .*:security-group\/\*.* if \{"StringEquals":\{"aws:RequestTag\/guardduty-responder:purpose":\["quarantine","untrack"\]\}\}$/,
      ),
      expect.stringMatching(/^Allow ec2:CreateSecurityGroup on .*:vpc\/\*/),
      expect.stringMatching(
        /^Allow ec2:CreateTags on .*:instance\/\*.* if \{"ForAllValues:StringEquals":\{"aws:TagKeys":"guardduty-responder:quarantined"\}\}$/,
      ),
      expect.stringMatching(
        /^Allow ec2:CreateTags on .*:security-group\/\*.* if \{"StringEquals":\{"ec2:CreateAction":"CreateSecurityGroup"\}\}$/,
      ),
      expect.stringMatching(
        /^Allow ec2:DeleteSecurityGroup on .*:security-group\/\*.* if \{"StringEquals":\{"aws:ResourceTag\/guardduty-responder:purpose":\["quarantine","untrack"\]\}\}$/,
      ),
      'Allow ec2:DescribeInstances on "*"',
      'Allow ec2:DescribeNetworkInterfaces on "*"',
      'Allow ec2:DescribeSecurityGroups on "*"',
      expect.stringMatching(
        /^Allow ec2:ModifyNetworkInterfaceAttribute on .*:network-interface\/\*.*:security-group\/\*/,
      ),
      ...['RevokeSecurityGroupEgress', 'RevokeSecurityGroupIngress'].map((action) =>
        expect.stringMatching(
          new RegExp(`^Allow ec2:${action} on .*:security-group/\\*.* if .*guardduty-responder:purpose`),
        ),
      ),
      expect.stringMatching(
        /^Allow elasticloadbalancing:DeregisterInstancesFromLoadBalancer on .*:loadbalancer\/\*/,
      ),
      expect.stringMatching(/^Allow elasticloadbalancing:DeregisterTargets on .*:targetgroup\/\*/),
      'Allow elasticloadbalancing:DescribeLoadBalancers on "*"',
      'Allow elasticloadbalancing:DescribeTargetGroups on "*"',
      'Allow elasticloadbalancing:DescribeTargetHealth on "*"',
    ]);
    const revoke = grants(revokeId);
    expect(revoke.filter((g) => g.startsWith('Allow'))).toEqual([
      expect.stringMatching(/^Allow ec2:DescribeIamInstanceProfileAssociations on "\*"$/),
      expect.stringMatching(/^Allow ec2:DisassociateIamInstanceProfile on .*:instance\/\*/),
      ...[
        'DeleteRolePolicy',
        'DetachRolePolicy',
        'GetRolePolicy',
        'ListAttachedRolePolicies',
        'ListRolePolicies',
      ].map((action) =>
        expect.stringMatching(new RegExp(`^Allow iam:${action} on .*:iam::111122223333:role/\\*`)),
      ),
    ]);
  });

  it('never grant a service wildcard, nor a mutating call on every resource', () => {
    const all = ALL_FUNCTIONS.flatMap(grants);
    expect(all.filter((g) => /Allow \w+:\*/.test(g))).toEqual([]);
    // Besides reads, only the Security Hub note of notify, which annotates the finding the request names.
    expect(
      all.filter(
        (g) =>
          g.endsWith(' on "*"') &&
          !/:(Describe|List|Get)\w+ on/.test(g) &&
          g !== 'Allow securityhub:BatchUpdateFindings on "*"',
      ),
    ).toEqual([]);
  });

  it("forbid revoke-iam to strip the responder's own roles", () => {
    const denied = (statementsOf(roleOf(revokeId)) as Statement[]).find((st) => st.Effect === 'Deny');
    expect(denied?.Action).toEqual(['iam:DeleteRolePolicy', 'iam:DetachRolePolicy']);
    const roles = ALL_FUNCTIONS.map((fn) => ({ 'Fn::GetAtt': [roleOf(fn), 'Arn'] }));
    expect(denied?.Resource).toEqual(expect.arrayContaining(roles));
    // Nor the CDK bootstrap roles, the organization's access role, IAM Identity Center's, the configured.
    for (const role of UNTOUCHABLE) expect(JSON.stringify(denied?.Resource)).toContain(role);
  });

  it("let revoke-sessions read and put inline role policies only, never on the responder's own roles", () => {
    expect(grants(sessionsId).filter((g) => g.startsWith('Allow iam:'))).toEqual(
      ['GetRolePolicy', 'PutRolePolicy'].map((action) =>
        expect.stringMatching(new RegExp(`^Allow iam:${action} on .*:iam::111122223333:role/\\*`)),
      ),
    );
    const denied = (statementsOf(roleOf(sessionsId)) as Statement[]).find((st) => st.Effect === 'Deny');
    expect(denied?.Action).toBe('iam:PutRolePolicy');
    expect(denied?.Resource).toEqual(
      expect.arrayContaining(ALL_FUNCTIONS.map((fn) => ({ 'Fn::GetAtt': [roleOf(fn), 'Arn'] }))),
    );
    for (const role of UNTOUCHABLE) expect(JSON.stringify(denied?.Resource)).toContain(role);
    for (const role of UNTOUCHABLE) expect(JSON.stringify(denied?.Resource)).toContain(role);
  });
});

describe('incident table', () => {
  it('is on-demand, recoverable to a point in time, encrypted with a rotating key of its own, and kept', () => {
    const table = only(template, 'AWS::DynamoDB::Table');
    expect(table.resource.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'findingId', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      DeletionProtectionEnabled: true,
      GlobalSecondaryIndexes: [
        expect.objectContaining({
          IndexName: 'by-state',
          KeySchema: [
            { AttributeName: 'state', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
    expect(template.toJSON().Resources[tableId].DeletionPolicy).toBe('Retain');
    const keyId = (
      table.resource.Properties.SSESpecification as { KMSMasterKeyId: { 'Fn::GetAtt': string[] } }
    ).KMSMasterKeyId['Fn::GetAtt'][0] as string;
    expect(keyId).not.toBe(topicKeyId());
    expect(template.toJSON().Resources[keyId].Properties).toMatchObject({ EnableKeyRotation: true });
  });

  it('lets the workflow functions only update and read items, release also list by state', () => {
    const recordGrants = (fn: string) =>
      (statementsOf(roleOf(fn)) as Statement[])
        .filter((st) => /^dynamodb:/.test([st.Action].flat()[0] ?? ''))
        .map((st) => `${[st.Action].flat().join(',')} on ${JSON.stringify(st.Resource)}`);
    const onTable = `dynamodb:GetItem,dynamodb:UpdateItem on {"Fn::GetAtt":["${tableId}","Arn"]}`;
    for (const fn of [claimId, identifyId, isolateId, cordonId, protectId, revokeId, snapshotId, notifyId]) {
      expect(recordGrants(fn)).toEqual([onTable]);
      expect(template.toJSON().Resources[fn].Properties.Environment.Variables.INCIDENT_TABLE).toEqual({
        Ref: tableId,
      });
    }
    expect(recordGrants(releaseId)).toEqual([
      `dynamodb:GetItem,dynamodb:UpdateItem on {"Fn::GetAtt":["${tableId}","Arn"]}`,
      `dynamodb:Query on {"Fn::Join":["",[{"Fn::GetAtt":["${tableId}","Arn"]},"/index/by-state"]]}`,
    ]);
  });
});

describe('release function', () => {
  it('may only give back what containment took, passing roles to EC2 only, never to the responder itself', () => {
    const allowed = grants(releaseId).filter((g) => g.startsWith('Allow'));
    expect(allowed).toEqual([
      'Allow autoscaling:DescribeAutoScalingGroups on "*"',
      'Allow autoscaling:DescribeAutoScalingInstances on "*"',
      expect.stringMatching(/^Allow autoscaling:ExitStandby on .*autoScalingGroupName\/\*/),
      expect.stringMatching(/^Allow autoscaling:SetInstanceProtection on .*autoScalingGroupName\/\*/),
      expect.stringMatching(/^Allow ec2:AssociateIamInstanceProfile on .*:instance\/\*/),
      // Only the responder's own groups, and only the quarantine tag.
      expect.stringMatching(
        /^Allow ec2:DeleteSecurityGroup on .*:security-group\/\*.* if \{"StringEquals":\{"aws:ResourceTag\/guardduty-responder:purpose":\["quarantine","untrack"\]\}\}$/,
      ),
      expect.stringMatching(
        /^Allow ec2:DeleteTags on .*:instance\/\*.* if \{"ForAllValues:StringEquals":\{"aws:TagKeys":"guardduty-responder:quarantined"\}\}$/,
      ),
      'Allow ec2:DescribeIamInstanceProfileAssociations on "*"',
      expect.stringMatching(/^Allow ec2:DescribeInstanceAttribute on .*:instance\/\*/),
      'Allow ec2:DescribeInstances on "*"',
      'Allow ec2:DescribeNetworkInterfaces on "*"',
      'Allow ec2:DescribeSecurityGroups on "*"',
      // Only delete-on-termination and termination protection off: ec2:Attribute names what is set.
      expect.stringMatching(
        /^Allow ec2:ModifyInstanceAttribute on .*:instance\/\*.* if \{"StringEqualsIgnoreCase":\{"ec2:Attribute":"BlockDeviceMapping"\}\}$/,
      ),
      expect.stringMatching(
        /^Allow ec2:ModifyInstanceAttribute on .*:instance\/\*.* if \{"StringEqualsIgnoreCase":\{"ec2:Attribute\/DisableApiTermination":"false"\}\}$/,
      ),
      // harden-imds's undo: the options recorded, put back.
      expect.stringMatching(/^Allow ec2:ModifyInstanceMetadataOptions on .*:instance\/\*/),
      expect.stringMatching(
        /^Allow ec2:ModifyNetworkInterfaceAttribute on .*:network-interface\/\*.*:security-group\/\*/,
      ),
      expect.stringMatching(/^Allow eks:DescribeCluster on /),
      expect.stringMatching(
        /^Allow elasticloadbalancing:RegisterInstancesWithLoadBalancer on .*:loadbalancer\/\*/,
      ),
      expect.stringMatching(/^Allow elasticloadbalancing:RegisterTargets on .*:targetgroup\/\*/),
      ...[
        'AttachRolePolicy',
        'DeleteRolePolicy',
        'GetRolePolicy',
        'ListAttachedRolePolicies',
        'ListRolePolicies',
      ].map((action) => expect.stringMatching(new RegExp(`^Allow iam:${action} on .*:role/\\*`))),
      expect.stringMatching(
        /^Allow iam:PassRole on .*:role\/\*.* if \{"StringEquals":\{"iam:PassedToService":"ec2.amazonaws.com"\}\}$/,
      ),
      expect.stringMatching(/^Allow iam:PutRolePolicy on .*:role\/\*/),
      // The incident's closure, and every version of it read back (lambdas/incident/closures.ts).
      expect.stringMatching(
        /^Allow s3:ListBucketVersions on .*EvidenceBucket.* if \{"StringLike":\{"s3:prefix":"incidents\/\*"\}\}$/,
      ),
      expect.stringMatching(/^Allow s3:PutObject on .*EvidenceBucket.*\/incidents\/\*/),
      'Allow securityhub:BatchUpdateFindings on "*"',
      expect.stringMatching(/^Allow sns:Publish on /),
      // Resume the containers the host capture paused: AWS-RunShellScript only.
      'Allow ssm:GetCommandInvocation on "*"',
      expect.stringMatching(/^Allow ssm:SendCommand on .*:instance\/\*/),
      expect.stringMatching(/^Allow ssm:SendCommand on .*:ssm:us-east-1::document\/AWS-RunShellScript/),
    ]);
    const denied = (statementsOf(roleOf(releaseId)) as Statement[]).find((st) => st.Effect === 'Deny');
    expect(denied?.Action).toEqual([
      'iam:AttachRolePolicy',
      'iam:DeleteRolePolicy',
      'iam:PassRole',
      'iam:PutRolePolicy',
    ]);
    expect(denied?.Resource).toEqual(
      expect.arrayContaining(ALL_FUNCTIONS.map((fn) => ({ 'Fn::GetAtt': [roleOf(fn), 'Arn'] }))),
    );
    for (const role of UNTOUCHABLE) expect(JSON.stringify(denied?.Resource)).toContain(role);
  });
});

describe('notifications', () => {
  it('encrypt the topic with a rotating KMS key, refuse plain HTTP and subscribe the e-mail', () => {
    expect(template.toJSON().Resources[topicKeyId()].Properties).toMatchObject({ EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'soc@example.com',
    });
  });
});

describe('cluster access', () => {
  it('gives each function that calls Kubernetes an access entry per cluster, mapped to its RBAC group', () => {
    const groups: [string, string][] = [
      [identifyId, 'guardduty-responder-identify'],
      [isolateId, 'guardduty-responder-isolate'],
      [cordonId, 'guardduty-responder-cordon'],
      [protectId, 'guardduty-responder-protect'],
      [functionId('Keeps the owners'), 'guardduty-responder-evidence'],
      [releaseId, 'guardduty-responder-release'],
      [functionId('Replaces the compromised pods'), 'guardduty-responder-recover'],
      [functionId('Checks the pods a recovery deleted'), 'guardduty-responder-recovery-watch'],
    ];
    for (const [fn, group] of groups) {
      for (const clusterName of ['prod-eks', 'staging-eks']) {
        template.hasResourceProperties('AWS::EKS::AccessEntry', {
          ClusterName: clusterName,
          PrincipalArn: { 'Fn::GetAtt': [roleOf(fn), 'Arn'] },
          KubernetesGroups: [group],
          Type: 'STANDARD',
        });
      }
    }
    expect(logicalIds('AWS::EKS::AccessEntry')).toHaveLength(16);
  });

  it('creates no access entry and grants no cluster read when no cluster is configured', () => {
    const { template: bare } = synthesize({ clusters: [] });
    expect(bare.findResources('AWS::EKS::AccessEntry')).toEqual({});
    expect(JSON.stringify(bare.findResources('AWS::IAM::Policy'))).not.toContain('eks:DescribeCluster');
  });
});

describe('VPC placement', () => {
  it('puts the functions in the given subnets and lets them manage their network interfaces there', () => {
    const { template: placed } = synthesize({
      clusters: ['prod-eks'],
      vpc: {
        vpcId: 'vpc-0a1b2c3d',
        subnets: [{ subnetId: 'subnet-0a1b2c3d', availabilityZone: 'us-east-1a' }],
        securityGroupIds: ['sg-0a1b2c3d'],
      },
    });
    placed.allResourcesProperties('AWS::Lambda::Function', {
      VpcConfig: { SubnetIds: ['subnet-0a1b2c3d'], SecurityGroupIds: ['sg-0a1b2c3d'] },
    });
    const statements = JSON.stringify(placed.findResources('AWS::IAM::Policy'));
    expect(statements).toContain(':ec2:us-east-1:111122223333:subnet/subnet-0a1b2c3d');
    expect(statements).toContain(':ec2:us-east-1:111122223333:security-group/sg-0a1b2c3d');
    expect(statements).toContain('"Action":"ec2:DescribeNetworkInterfaces","Effect":"Allow","Resource":"*"');
  });
});

describe('alarms', () => {
  it('alarm on failed executions and on findings left in the dead-letter queue, to the topic', () => {
    const topic = only(template, 'AWS::SNS::Topic').id;
    const machine = responseMachine().id;
    const queue = only(template, 'AWS::SQS::Queue').id;
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machine } }],
      Threshold: 1,
      AlarmActions: [{ Ref: topic }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      AlarmActions: [{ Ref: topic }],
    });
  });

  it('alarm when the budget across findings held an action back, counted from the spending functions’ logs', () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'));
    expect(filters.map((f) => f.Properties.FilterPattern)).toEqual(
      Array(4).fill('{ $.message = "budget exhausted" }'),
    );
    expect(filters.map((f) => (f.Properties.LogGroupName as { Ref: string }).Ref).sort()).toEqual(
      ['Cordons a node', 'Puts an instance behind', 'Detaches the policies', 'Denies a role']
        .map((description) => {
          const fn = template.toJSON().Resources[functionId(description)];
          return (fn.Properties.LoggingConfig.LogGroup as { Ref: string }).Ref;
        })
        .sort(),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BudgetExhausted',
      Namespace: 'guardduty-responder',
      Threshold: 1,
      AlarmActions: [{ Ref: only(template, 'AWS::SNS::Topic').id }],
    });
  });

  it('let CloudWatch, from this account only, publish to the encrypted topic', () => {
    const fromThisAccount = { StringEquals: { 'aws:SourceAccount': '111122223333' } };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: fromThisAccount,
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Condition: fromThisAccount,
          }),
        ]),
      },
    });
  });
});

describe('evidence bucket', () => {
  const buckets = template.findResources('AWS::S3::Bucket');
  const [evidenceId, evidence] =
    Object.entries(buckets).find(
      ([, b]) =>
        b.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault
          ?.SSEAlgorithm === 'aws:kms',
    ) ?? [];
  const [hostOutputId, hostOutput] =
    Object.entries(buckets).find(([, b]) => b.Properties.LifecycleConfiguration) ?? [];
  const [logsId, logs] =
    Object.entries(buckets).find(([id]) => id !== evidenceId && id !== hostOutputId) ?? [];
  const policyOf = (bucketId: string | undefined) =>
    (Object.values(template.findResources('AWS::S3::BucketPolicy')).find(
      (p) => p.Properties.Bucket.Ref === bucketId,
    )?.Properties.PolicyDocument.Statement ?? []) as (Statement & { Sid?: string; Principal?: unknown })[];

  it('is KMS-encrypted with a rotating key, versioned, private, access-logged and retained', () => {
    expect(Object.keys(buckets)).toHaveLength(3);
    const kmsKey =
      evidence?.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault
        .KMSMasterKeyID['Fn::GetAtt'][0];
    expect(template.toJSON().Resources[kmsKey].Properties).toMatchObject({ EnableKeyRotation: true });
    for (const bucket of [evidence, logs]) {
      expect(bucket?.Properties).toMatchObject({
        VersioningConfiguration: { Status: 'Enabled' },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      });
      expect(bucket?.DeletionPolicy).toBe('Retain');
    }
    expect(evidence?.Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logsId },
      LogFilePrefix: 'evidence/',
    });
    // Object Lock unless the config turns it off: governance mode, the default retention.
    expect(evidence?.Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 90 } },
    });
  });

  it('refuses a write by anyone but the functions that write evidence', () => {
    // A host's credentials (or any other principal's) cannot add an object: the Deny holds whatever an
    // identity policy allows.
    const deny = policyOf(evidenceId).find((st) => st.Sid === 'OnlyTheResponderWrites');
    expect(deny).toMatchObject({ Effect: 'Deny', Action: 's3:PutObject', Principal: { AWS: '*' } });
    const writers = (
      (deny?.Condition as { ArnNotEquals?: { 'aws:PrincipalArn': { 'Fn::GetAtt': string[] }[] } } | undefined)
        ?.ArnNotEquals?.['aws:PrincipalArn'] ?? []
    )
      .map((arn) => arn['Fn::GetAtt'][0])
      .sort();
    const putters = Object.entries(template.findResources('AWS::Lambda::Function'))
      .map(([id]) => id)
      .filter((id) => grants(id).some((g) => /^Allow s3:PutObject on .*EvidenceBucket/.test(g)))
      .map(roleOf)
      .sort();
    expect(writers).toEqual(putters);
    expect(writers.length).toBeGreaterThanOrEqual(4);
  });

  it('lets each instance of the account write the host capture only under its own prefix of the host output bucket', () => {
    expect(hostOutput?.Properties.VersioningConfiguration).toBeUndefined();
    expect(hostOutput?.Properties.LifecycleConfiguration).toEqual({
      Rules: [{ ExpirationInDays: 1, Status: 'Enabled' }],
    });
    const put = policyOf(hostOutputId).find((st) => st.Sid === 'EachInstanceItsOwnPrefix');
    expect(put).toMatchObject({ Effect: 'Allow', Action: 's3:PutObject', Principal: { AWS: '*' } });
    // Only under hosts/<role id>:<instance id>/, the session its instance profile gives it.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the IAM policy variable, as the policy holds it
    expect(JSON.stringify(put?.Resource)).toContain('/hosts/${aws:userid}/*');
    expect(put?.Condition).toEqual({
      StringEquals: { 'aws:PrincipalAccount': { Ref: 'AWS::AccountId' } },
      Null: { 'ec2:SourceInstanceARN': 'false' },
    });
    // Only the host capture takes from it: read, list and delete, nothing else.
    const takers = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) =>
      grants(id).some((g) => g.includes(hostOutputId ?? '-')),
    );
    expect(takers).toEqual([functionId('Captures the volatile state')]);
    expect(grants(takers[0] ?? '').filter((g) => g.includes(hostOutputId ?? '-'))).toEqual([
      expect.stringMatching(/^Allow s3:DeleteObject on .*\/hosts\/\*/),
      expect.stringMatching(/^Allow s3:GetObject on .*\/hosts\/\*/),
      expect.stringMatching(/^Allow s3:ListBucket on .* if \{"StringLike":\{"s3:prefix":"hosts\/\*"\}\}$/),
    ]);
  });

  it('refuses any request that is not TLS', () => {
    for (const id of [evidenceId, logsId, hostOutputId]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 's3:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Principal: { AWS: '*' },
            }),
          ]),
        },
      });
    }
  });

  it('locks every object version for evidence.retentionDays, in governance mode, and not when told not to', () => {
    const { template: locked } = synthesize({ clusters: ['prod-eks'], evidence: { retentionDays: 365 } });
    const lockedBucket = Object.values(locked.findResources('AWS::S3::Bucket')).find(
      (b) => b.Properties.ObjectLockEnabled,
    );
    expect(lockedBucket?.Properties.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
    });
    const { template: unlocked } = synthesize({ clusters: ['prod-eks'], evidence: { retentionDays: null } });
    const buckets = Object.values(unlocked.findResources('AWS::S3::Bucket'));
    expect(buckets.filter((b) => b.Properties.ObjectLockEnabled)).toEqual([]);
  });
});

type KeyStatement = {
  Sid: string;
  Principal: { AWS: unknown };
  Action: string | string[];
  Condition?: unknown;
};

/** A KMS key of the template, its policy's statements, and the roles a statement gives an action to. */
function keyPolicy(which: (properties: Record<string, unknown>) => boolean) {
  const [keyId, key] = Object.entries(template.findResources('AWS::KMS::Key')).find(([, resource]) =>
    which(resource.Properties),
  ) ?? ['', { Properties: {} }];
  const statements = (key.Properties.KeyPolicy?.Statement ?? []) as KeyStatement[];
  const principalsOf = (action: string) =>
    statements
      .filter((st) => [st.Action].flat().includes(action))
      .map((st) => (st.Principal.AWS as { 'Fn::GetAtt': string[] })['Fn::GetAtt']?.[0])
      .sort();
  return { keyId, key, statements, principalsOf };
}

describe('record key', () => {
  const { keyId, key, statements, principalsOf } = keyPolicy((p) => p.KeySpec === 'HMAC_256');
  const roleOfFunction = (description: string) => roleOf(functionId(description));

  it('is an HMAC key for MACs only, kept with the table', () => {
    expect(key.Properties).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    expect(key.DeletionPolicy).toBe('Retain');
  });

  it('lets only the functions that write the record sign, and release, recover and notify only verify', () => {
    const writers = [
      'Claims a finding',
      'Plans the response',
      'Isolates pods',
      'Cordons a node',
      'Puts an instance behind',
      'Sets termination',
      'Requires IMDSv2',
      'Detaches the policies',
      'Denies a role',
      'Snapshots the EBS',
      'Keeps the owners',
      'Captures the volatile state',
      'Keeps what the credentials',
      'Answers an action',
    ];
    expect(principalsOf('kms:GenerateMac')).toEqual(writers.map(roleOfFunction).sort());
    // Whoever signs also verifies what it reads (an entry, the plan, an approval); release and recover only
    // verify, and notify checks the chain of custody before it lists any evidence.
    expect(principalsOf('kms:VerifyMac')).toEqual(
      [...writers, 'Undoes the containment', 'Replaces the compromised', 'Publishes what the response']
        .map(roleOfFunction)
        .sort(),
    );
    for (const st of statements.filter((s) => /^(Sign|Verify)/.test(s.Sid))) {
      expect([st.Action].flat()).toEqual(
        st.Sid.startsWith('Sign') ? ['kms:GenerateMac', 'kms:VerifyMac'] : ['kms:VerifyMac'],
      );
      expect(st.Condition).toEqual({ StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } });
    }
  });

  it('lets the account only administer the key, and only a deployment change its policy', () => {
    // The account may administer the key; no action it holds can be a MAC operation, a use of the key, or
    // a change of the key policy that would let a principal of the account add itself.
    const account = statements.filter((st) => !/^(Sign|Verify)/.test(st.Sid));
    expect(account.map((st) => st.Sid)).toEqual(['AdministerNotUse', 'ChangePolicyOnlyByDeployment']);
    const administration = [account[0]?.Action].flat() as string[];
    const matches = (pattern: string, action: string) =>
      new RegExp(`^${pattern.replace(/\*/g, '.*')}$`).test(action);
    for (const use of ['kms:GenerateMac', 'kms:VerifyMac', 'kms:CreateGrant', 'kms:PutKeyPolicy'])
      expect(administration.some((pattern) => matches(pattern, use))).toBe(false);
    // kms:PutKeyPolicy only for the CloudFormation execution role the stack is deployed with.
    const change = account[1];
    expect(change?.Action).toBe('kms:PutKeyPolicy');
    expect(JSON.stringify(change?.Condition)).toMatch(/"ArnEquals":\{"aws:PrincipalArn":.*cfn-exec-role/);
    expect(administration).not.toContain('kms:*');
    // No identity policy in the stack grants a MAC operation, or all of KMS, to anyone.
    const identityActions = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).flatMap((st) => [st.Action].flat()),
    );
    expect(identityActions.filter((a) => /Mac$|^kms:\*$|^\*$/.test(a))).toEqual([]);
  });

  it('is named to exactly the functions that use it', () => {
    const named = Object.entries(template.findResources('AWS::Lambda::Function'))
      .filter(([, fn]) => fn.Properties.Environment?.Variables?.RECORD_KEY_ID)
      .map(([id, fn]) => {
        expect(fn.Properties.Environment.Variables.RECORD_KEY_ID).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
        return roleOf(id);
      })
      .sort();
    expect(named).toEqual(principalsOf('kms:VerifyMac'));
  });
});

describe('logs', () => {
  it('encrypts every log group with the responder’s logs key, which only CloudWatch Logs of this account may use', () => {
    const [keyId, key] = Object.entries(template.findResources('AWS::KMS::Key')).find(([, resource]) =>
      String(resource.Properties.Description).includes('log groups'),
    ) ?? ['', { Properties: {} }];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThan(15);
    for (const group of groups) expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const service = (key.Properties.KeyPolicy.Statement as { Sid?: string; Condition?: unknown }[]).find(
      (st) => st.Sid === 'CloudWatchLogsOfThisAccount',
    );
    expect(JSON.stringify(service?.Condition)).toContain('kms:EncryptionContext:aws:logs:arn');
  });
});

describe('approval key', () => {
  const { statements, principalsOf } = keyPolicy((p) => String(p.Description).includes('task tokens'));

  it('lets Request-approval only encrypt and Approve alone decrypt task tokens, bound to their context', () => {
    expect(principalsOf('kms:Encrypt')).toEqual([roleOf(functionId('Records that an action waits'))]);
    expect(principalsOf('kms:Decrypt')).toEqual([roleOf(functionId('Answers an action'))]);
    for (const st of statements.filter((s) => /^(Seal|Open)/.test(s.Sid)))
      expect(st.Condition).toEqual({
        'ForAllValues:StringEquals': { 'kms:EncryptionContextKeys': ['findingId', 'action', 'executionArn'] },
      });
    // The account administers the key; no statement lets it, or anyone else, use it or grant its use.
    const account = statements.filter((st) => !/^(Seal|Open)/.test(st.Sid));
    expect(
      account
        .flatMap((st) => [st.Action].flat())
        .filter((a) => /^kms:(\*|Decrypt|Encrypt|ReEncrypt|GenerateDataKey|CreateGrant)/.test(a)),
    ).toEqual([]);
  });
});

describe('Security Hub custom actions', () => {
  it('makes "Contain" and "Dry run", and routes their events to the intake, which may only start executions', () => {
    const targets = Object.values(template.findResources('AWS::SecurityHub::ActionTarget')).map(
      (t) => t.Properties,
    );
    expect(targets.map((t) => [t.Id, t.Name])).toEqual([
      ['GdrContain', 'Contain'],
      ['GdrDryRun', 'Dry run'],
    ]);
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find(
      (r) => r.Properties.EventPattern?.source?.[0] === 'aws.securityhub',
    );
    expect(rule?.Properties.EventPattern['detail-type']).toEqual(['Security Hub Findings - Custom Action']);
    expect(rule?.Properties.EventPattern.resources).toHaveLength(2);
    const intake = functionId('Starts a response for each GuardDuty finding');
    expect(JSON.stringify(rule?.Properties.Targets)).toContain(intake);
    const allowed = grants(intake).filter((g) => g.startsWith('Allow'));
    expect(allowed).toEqual([
      expect.stringMatching(/^Allow guardduty:GetFindings on .*detector\/\*/),
      expect.stringMatching(/^Allow states:StartExecution on \{"Ref":"Workflow/),
    ]);
  });

  it('makes none when the config says so', () => {
    const { template: without } = synthesize({
      clusters: ['prod-eks'],
      securityHub: { suppressOnRelease: false, customActions: false },
    });
    expect(without.findResources('AWS::SecurityHub::ActionTarget')).toEqual({});
  });
});

describe('outputs', () => {
  it('name the state machine, the topic, the dead-letter queue, the release and recover functions, the table and the bucket', () => {
    expect(Object.keys(template.findOutputs('*')).sort()).toEqual([
      'ApproveFunctionName',
      'DeadLetterQueueUrl',
      'EvidenceBucketName',
      'HostOutputBucketName',
      'IncidentTableName',
      'RecordKeyId',
      'RecoverFunctionName',
      'ReleaseFunctionName',
      'StateMachineArn',
      'TopicArn',
    ]);
    expect(stack.stackName).toBe('GuardDutyResponder');
  });
});
