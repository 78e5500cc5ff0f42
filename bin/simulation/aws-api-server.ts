/**
 * The simulated account served over HTTP the way AWS serves it, for the operations the responder calls,
 * so the responder's own SDK clients run unchanged with only their endpoint pointed here: EC2's query
 * protocol (XML with `…Set/item` lists), the AWS query protocol of Auto Scaling, IAM, SNS and Elastic
 * Load Balancing (XML with `member` lists; the two ELB APIs share a signing name and differ by Version),
 * the REST-JSON of EKS, Security Hub and GuardDuty, the JSON of Systems Manager, KMS (blobs as base64) and Step Functions,
 * and S3's REST (path-style). The service is read from the SigV4 credential scope; errors come
 * back in each protocol's error format, so the SDK raises its own exception classes. DynamoDB requests
 * go on to the local incident table (incident-table.ts), as one AWS-compatible endpoint serves them all.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SimulatedAccount } from './account.js';
import { close, listenOnLoopback, readBody } from './loopback.js';

/** Every request the server answered, for call counts, with the region it was signed for. */
export type AwsRequest = { service: string; operation: string; status: number; region: string };

/** Who called and where: from the request's SigV4 credential scope. */
export type Caller = { accessKeyId: string; region: string; service: string };

/**
 * Which simulated account answers a request. One account by default; a simulation of an organization
 * answers each call in the caller's own account and region (simulation.ts).
 */
export type AccountRouter = (caller: Caller, operation: string, input: unknown) => SimulatedAccount;

// ---------------------------------------------------------------- XML

const escapeXml = (text: unknown) =>
  String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

type Xml = string;
const el = (name: string, content: Xml | string | number | boolean | undefined | null): Xml =>
  content === undefined || content === null
    ? ''
    : `<${name}>${typeof content === 'string' ? content : escapeXml(content)}</${name}>`;
const text = (name: string, value: unknown): Xml =>
  value === undefined || value === null ? '' : `<${name}>${escapeXml(value)}</${name}>`;
const items = <T>(name: string, list: readonly T[] | undefined, item: (value: T) => Xml, tag = 'item'): Xml =>
  `<${name}>${(list ?? []).map((value) => `<${tag}>${item(value)}</${tag}>`).join('')}</${name}>`;

// biome-ignore lint/suspicious/noExplicitAny: outputs are the SDK's output shapes, read field by field
type Out = any;

const ec2Tags = (tags: { Key?: string; Value?: string }[] | undefined) =>
  items('tagSet', tags, (tag) => text('key', tag.Key) + text('value', tag.Value));
const ec2Association = (a: Out) =>
  text('associationId', a.AssociationId) +
  text('instanceId', a.InstanceId) +
  el('iamInstanceProfile', text('arn', a.IamInstanceProfile?.Arn) + text('id', 'AIPASIMULATED')) +
  text('state', a.State);
const ec2Snapshot = (s: Out) =>
  text('snapshotId', s.SnapshotId) + text('volumeId', s.VolumeId) + text('status', s.State) + ec2Tags(s.Tags);

const ec2Permission = (rule: Out) =>
  text('ipProtocol', rule.IpProtocol) +
  text('fromPort', rule.FromPort) +
  text('toPort', rule.ToPort) +
  items('ipRanges', rule.IpRanges, (r: Out) => text('cidrIp', r.CidrIp)) +
  items('ipv6Ranges', rule.Ipv6Ranges, (r: Out) => text('cidrIpv6', r.CidrIpv6));

/** EC2 responses, element names as the EC2 API spells them. */
const EC2_OUTPUT: Record<string, (out: Out) => Xml> = {
  DescribeInstances: (out) =>
    items(
      'reservationSet',
      out.Reservations,
      (reservation: Out) =>
        text('reservationId', `r-${randomUUID().slice(0, 17).replace(/-/g, '')}`) +
        items(
          'instancesSet',
          reservation.Instances,
          (i: Out) =>
            text('instanceId', i.InstanceId) +
            el(
              'instanceState',
              text('code', i.State?.Name === 'running' ? 16 : 48) + text('name', i.State?.Name),
            ) +
            text('privateDnsName', i.PrivateDnsName ?? '') +
            (i.IamInstanceProfile
              ? el('iamInstanceProfile', text('arn', i.IamInstanceProfile.Arn) + text('id', 'AIPASIMULATED'))
              : '') +
            items(
              'blockDeviceMapping',
              i.BlockDeviceMappings,
              (m: Out) =>
                text('deviceName', m.DeviceName) +
                el(
                  'ebs',
                  text('volumeId', m.Ebs?.VolumeId) +
                    text('status', 'attached') +
                    text('deleteOnTermination', m.Ebs?.DeleteOnTermination),
                ),
            ) +
            ec2Tags(i.Tags),
        ),
    ),
  DescribeInstanceAttribute: (out) =>
    text('instanceId', out.InstanceId) +
    el('disableApiTermination', text('value', out.DisableApiTermination?.Value)),
  ModifyInstanceAttribute: () => text('return', true),
  DescribeIamInstanceProfileAssociations: (out) =>
    items('iamInstanceProfileAssociationSet', out.IamInstanceProfileAssociations, ec2Association),
  DisassociateIamInstanceProfile: (out) =>
    el('iamInstanceProfileAssociation', ec2Association(out.IamInstanceProfileAssociation)),
  AssociateIamInstanceProfile: (out) =>
    el('iamInstanceProfileAssociation', ec2Association(out.IamInstanceProfileAssociation)),
  DescribeSnapshots: (out) => items('snapshotSet', out.Snapshots, ec2Snapshot),
  CreateSnapshot: (out) => ec2Snapshot(out),
  DescribeNetworkInterfaces: (out) =>
    items(
      'networkInterfaceSet',
      out.NetworkInterfaces,
      (eni: Out) =>
        text('networkInterfaceId', eni.NetworkInterfaceId) +
        text('vpcId', eni.VpcId) +
        el('attachment', text('instanceId', eni.Attachment?.InstanceId)) +
        items(
          'groupSet',
          eni.Groups,
          (g: Out) => text('groupId', g.GroupId) + text('groupName', g.GroupName),
        ),
    ),
  ModifyNetworkInterfaceAttribute: () => text('return', true),
  DescribeSecurityGroups: (out) =>
    items(
      'securityGroupInfo',
      out.SecurityGroups,
      (g: Out) =>
        text('groupId', g.GroupId) +
        text('groupName', g.GroupName) +
        text('groupDescription', g.Description) +
        text('vpcId', g.VpcId) +
        items('ipPermissions', g.IpPermissions, ec2Permission) +
        items('ipPermissionsEgress', g.IpPermissionsEgress, ec2Permission) +
        ec2Tags(g.Tags),
    ),
  CreateSecurityGroup: (out) => text('return', true) + text('groupId', out.GroupId),
  DeleteSecurityGroup: () => text('return', true),
  AuthorizeSecurityGroupIngress: () => text('return', true),
  AuthorizeSecurityGroupEgress: () => text('return', true),
  RevokeSecurityGroupIngress: () => text('return', true),
  RevokeSecurityGroupEgress: () => text('return', true),
  CreateTags: () => text('return', true),
  DeleteTags: () => text('return', true),
};

const members = <T>(name: string, list: readonly T[] | undefined, item: (value: T) => Xml) =>
  items(name, list, item, 'member');

/** AWS query responses (Auto Scaling, IAM, SNS): the `<Operation>Result` element's content. */
const QUERY_OUTPUT: Record<string, (out: Out) => Xml> = {
  DescribeAutoScalingInstances: (out) =>
    members(
      'AutoScalingInstances',
      out.AutoScalingInstances,
      (i: Out) =>
        text('InstanceId', i.InstanceId) +
        text('AutoScalingGroupName', i.AutoScalingGroupName) +
        text('AvailabilityZone', 'us-east-1a') +
        text('LifecycleState', i.LifecycleState ?? 'InService') +
        text('HealthStatus', 'HEALTHY') +
        text('ProtectedFromScaleIn', i.ProtectedFromScaleIn),
    ),
  SetInstanceProtection: () => '',
  DescribeAutoScalingGroups: (out) =>
    members(
      'AutoScalingGroups',
      out.AutoScalingGroups,
      (g: Out) =>
        text('AutoScalingGroupName', g.AutoScalingGroupName) +
        text('DesiredCapacity', g.DesiredCapacity) +
        members(
          'Instances',
          g.Instances,
          (i: Out) => text('InstanceId', i.InstanceId) + text('LifecycleState', i.LifecycleState),
        ),
    ),
  EnterStandby: () => members('Activities', [], () => ''),
  ExitStandby: () => members('Activities', [], () => ''),
  TerminateInstanceInAutoScalingGroup: (out) =>
    `<Activity>${text('ActivityId', out.Activity?.ActivityId)}${text('StatusCode', out.Activity?.StatusCode)}</Activity>`,
  DescribeTargetGroups: (out) =>
    members(
      'TargetGroups',
      out.TargetGroups,
      (g: Out) =>
        text('TargetGroupArn', g.TargetGroupArn) +
        text('TargetGroupName', g.TargetGroupName) +
        text('TargetType', g.TargetType),
    ),
  DescribeTargetHealth: (out) =>
    members(
      'TargetHealthDescriptions',
      out.TargetHealthDescriptions,
      (t: Out) =>
        el('Target', text('Id', t.Target?.Id) + text('Port', t.Target?.Port)) +
        el('TargetHealth', text('State', t.TargetHealth?.State)),
    ),
  DeregisterTargets: () => '',
  RegisterTargets: () => '',
  DescribeLoadBalancers: (out) =>
    members(
      'LoadBalancerDescriptions',
      out.LoadBalancerDescriptions,
      (b: Out) =>
        text('LoadBalancerName', b.LoadBalancerName) +
        members('Instances', b.Instances, (i: Out) => text('InstanceId', i.InstanceId)),
    ),
  DeregisterInstancesFromLoadBalancer: (out) =>
    members('Instances', out.Instances, (i: Out) => text('InstanceId', i.InstanceId)),
  RegisterInstancesWithLoadBalancer: (out) =>
    members('Instances', out.Instances, (i: Out) => text('InstanceId', i.InstanceId)),
  GetInstanceProfile: (out) =>
    el(
      'InstanceProfile',
      text('InstanceProfileName', out.InstanceProfile.InstanceProfileName) +
        text('Arn', out.InstanceProfile.Arn) +
        text('InstanceProfileId', 'AIPASIMULATED') +
        text('Path', '/') +
        text('CreateDate', '2026-01-01T00:00:00Z') +
        members(
          'Roles',
          out.InstanceProfile.Roles,
          (role: Out) =>
            text('RoleName', role.RoleName) +
            text('Arn', role.Arn) +
            text('RoleId', 'AROASIMULATED') +
            text('Path', '/') +
            text('CreateDate', '2026-01-01T00:00:00Z'),
        ),
    ),
  ListAttachedRolePolicies: (out) =>
    members(
      'AttachedPolicies',
      out.AttachedPolicies,
      (p: Out) => text('PolicyName', p.PolicyName) + text('PolicyArn', p.PolicyArn),
    ) + text('IsTruncated', false),
  ListRolePolicies: (out) =>
    members('PolicyNames', out.PolicyNames, (name: string) => escapeXml(name)) + text('IsTruncated', false),
  GetRole: (out) =>
    el(
      'Role',
      text('RoleName', out.Role.RoleName) +
        text('Arn', out.Role.Arn) +
        text('RoleId', 'AROASIMULATED') +
        text('Path', '/') +
        text('CreateDate', '2026-01-01T00:00:00Z') +
        text('AssumeRolePolicyDocument', out.Role.AssumeRolePolicyDocument),
    ),
  GetRolePolicy: (out) =>
    text('RoleName', out.RoleName) +
    text('PolicyName', out.PolicyName) +
    text('PolicyDocument', out.PolicyDocument),
  DetachRolePolicy: () => '',
  DeleteRolePolicy: () => '',
  AttachRolePolicy: () => '',
  PutRolePolicy: () => '',
  Publish: (out) => text('MessageId', out.MessageId),
  GetCallerIdentity: (out) =>
    text('UserId', out.UserId) + text('Account', out.Account) + text('Arn', out.Arn),
  AssumeRole: (out) =>
    el(
      'Credentials',
      text('AccessKeyId', out.Credentials.AccessKeyId) +
        text('SecretAccessKey', out.Credentials.SecretAccessKey) +
        text('SessionToken', out.Credentials.SessionToken) +
        text('Expiration', out.Credentials.Expiration.toISOString()),
    ) +
    el(
      'AssumedRoleUser',
      text('Arn', out.AssumedRoleUser.Arn) + text('AssumedRoleId', out.AssumedRoleUser.AssumedRoleId),
    ),
};

const XMLNS: Record<string, string> = {
  ec2: 'http://ec2.amazonaws.com/doc/2016-11-15/',
  autoscaling: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
  // Elastic Load Balancing: one signing name, two APIs told apart by their Version.
  'elasticloadbalancing:2015-12-01': 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/',
  'elasticloadbalancing:2012-06-01': 'http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/',
};

// ---------------------------------------------------------------- query input

/** `a.b.1.c=x` form fields as nested objects; numeric segments become (1-based) array positions. */
function unflatten(form: URLSearchParams): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of form) {
    const parts = key.split('.');
    let node: Record<string, unknown> = root;
    parts.forEach((part, index) => {
      if (index === parts.length - 1) {
        node[part] = value;
        return;
      }
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    });
  }
  return root;
}

const list = (node: unknown): unknown[] =>
  node && typeof node === 'object'
    ? Object.entries(node as Record<string, unknown>)
        .filter(([key]) => /^\d+$/.test(key))
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([, value]) => value)
    : [];
const members_ = (node: unknown) => list((node as { member?: unknown } | undefined)?.member);
const bool = (value: unknown) => (value === undefined ? undefined : value === 'true');
const num = (value: unknown) => (value === undefined ? undefined : Number(value));
const ec2Filters = (node: unknown) =>
  list(node).map((f) => ({ Name: (f as Out).Name, Values: list((f as Out).Value) as string[] }));

const ec2Permissions = (node: unknown) =>
  list(node).map((rule: Out) => ({
    IpProtocol: rule.IpProtocol,
    FromPort: num(rule.FromPort),
    ToPort: num(rule.ToPort),
    IpRanges: list(rule.IpRanges),
    Ipv6Ranges: list(rule.Ipv6Ranges),
  }));
const groupRules = (p: Out) => ({ GroupId: p.GroupId, IpPermissions: ec2Permissions(p.IpPermissions) });
const classicInstances = (p: Out) => ({
  LoadBalancerName: p.LoadBalancerName,
  Instances: members_(p.Instances),
});
const elbTargets = (node: unknown) => members_(node).map((t: Out) => ({ Id: t.Id, Port: num(t.Port) }));

/** The SDK input shape of each operation, from its form fields. */
const QUERY_INPUT: Record<string, (p: Out) => unknown> = {
  DescribeInstances: (p) => ({
    InstanceIds: list(p.InstanceId),
    Filters: ec2Filters(p.Filter),
    NextToken: p.NextToken,
  }),
  DescribeInstanceAttribute: (p) => ({ InstanceId: p.InstanceId, Attribute: p.Attribute }),
  ModifyInstanceAttribute: (p) => ({
    InstanceId: p.InstanceId,
    DisableApiTermination: p.DisableApiTermination
      ? { Value: bool(p.DisableApiTermination.Value) }
      : undefined,
    BlockDeviceMappings: list(p.BlockDeviceMapping).map((m: Out) => ({
      DeviceName: m.DeviceName,
      Ebs: m.Ebs
        ? { VolumeId: m.Ebs.VolumeId, DeleteOnTermination: bool(m.Ebs.DeleteOnTermination) }
        : undefined,
    })),
  }),
  DescribeIamInstanceProfileAssociations: (p) => ({
    AssociationIds: list(p.AssociationId),
    Filters: ec2Filters(p.Filter),
  }),
  DisassociateIamInstanceProfile: (p) => ({ AssociationId: p.AssociationId }),
  AssociateIamInstanceProfile: (p) => ({
    InstanceId: p.InstanceId,
    IamInstanceProfile: { Arn: p.IamInstanceProfile?.Arn },
  }),
  DescribeSnapshots: (p) => ({
    OwnerIds: list(p.Owner),
    SnapshotIds: p.SnapshotId ? list(p.SnapshotId) : undefined,
    Filters: ec2Filters(p.Filter),
  }),
  CreateSnapshot: (p) => ({
    VolumeId: p.VolumeId,
    Description: p.Description,
    TagSpecifications: list(p.TagSpecification).map((spec: Out) => ({
      ResourceType: spec.ResourceType,
      Tags: list(spec.Tag),
    })),
  }),
  DescribeAutoScalingInstances: (p) => ({
    InstanceIds: members_(p.InstanceIds),
    MaxRecords: num(p.MaxRecords),
  }),
  SetInstanceProtection: (p) => ({
    AutoScalingGroupName: p.AutoScalingGroupName,
    InstanceIds: members_(p.InstanceIds),
    ProtectedFromScaleIn: bool(p.ProtectedFromScaleIn),
  }),
  GetInstanceProfile: (p) => ({ InstanceProfileName: p.InstanceProfileName }),
  ListAttachedRolePolicies: (p) => ({ RoleName: p.RoleName, Marker: p.Marker }),
  ListRolePolicies: (p) => ({ RoleName: p.RoleName, Marker: p.Marker }),
  GetRolePolicy: (p) => ({ RoleName: p.RoleName, PolicyName: p.PolicyName }),
  GetRole: (p) => ({ RoleName: p.RoleName }),
  DetachRolePolicy: (p) => ({ RoleName: p.RoleName, PolicyArn: p.PolicyArn }),
  DeleteRolePolicy: (p) => ({ RoleName: p.RoleName, PolicyName: p.PolicyName }),
  AttachRolePolicy: (p) => ({ RoleName: p.RoleName, PolicyArn: p.PolicyArn }),
  PutRolePolicy: (p) => ({
    RoleName: p.RoleName,
    PolicyName: p.PolicyName,
    PolicyDocument: p.PolicyDocument,
  }),
  DescribeNetworkInterfaces: (p) => ({
    NetworkInterfaceIds: list(p.NetworkInterfaceId),
    Filters: ec2Filters(p.Filter),
  }),
  ModifyNetworkInterfaceAttribute: (p) => ({
    NetworkInterfaceId: p.NetworkInterfaceId,
    Groups: p.SecurityGroupId ? list(p.SecurityGroupId) : undefined,
  }),
  DescribeSecurityGroups: (p) => ({ GroupIds: list(p.GroupId), Filters: ec2Filters(p.Filter) }),
  CreateSecurityGroup: (p) => ({
    GroupName: p.GroupName,
    Description: p.GroupDescription,
    VpcId: p.VpcId,
    TagSpecifications: list(p.TagSpecification).map((spec: Out) => ({
      ResourceType: spec.ResourceType,
      Tags: list(spec.Tag),
    })),
  }),
  DeleteSecurityGroup: (p) => ({ GroupId: p.GroupId }),
  AuthorizeSecurityGroupIngress: groupRules,
  AuthorizeSecurityGroupEgress: groupRules,
  RevokeSecurityGroupIngress: groupRules,
  RevokeSecurityGroupEgress: groupRules,
  CreateTags: (p) => ({ Resources: list(p.ResourceId), Tags: list(p.Tag) }),
  DeleteTags: (p) => ({ Resources: list(p.ResourceId), Tags: list(p.Tag) }),
  DescribeAutoScalingGroups: (p) => ({ AutoScalingGroupNames: members_(p.AutoScalingGroupNames) }),
  EnterStandby: (p) => ({
    AutoScalingGroupName: p.AutoScalingGroupName,
    InstanceIds: members_(p.InstanceIds),
    ShouldDecrementDesiredCapacity: bool(p.ShouldDecrementDesiredCapacity),
  }),
  ExitStandby: (p) => ({
    AutoScalingGroupName: p.AutoScalingGroupName,
    InstanceIds: members_(p.InstanceIds),
  }),
  TerminateInstanceInAutoScalingGroup: (p) => ({
    InstanceId: p.InstanceId,
    ShouldDecrementDesiredCapacity: bool(p.ShouldDecrementDesiredCapacity),
  }),
  DescribeTargetGroups: (p) => ({ Marker: p.Marker }),
  DescribeTargetHealth: (p) => ({ TargetGroupArn: p.TargetGroupArn }),
  DeregisterTargets: (p) => ({ TargetGroupArn: p.TargetGroupArn, Targets: elbTargets(p.Targets) }),
  RegisterTargets: (p) => ({ TargetGroupArn: p.TargetGroupArn, Targets: elbTargets(p.Targets) }),
  DescribeLoadBalancers: (p) => ({ Marker: p.Marker }),
  DeregisterInstancesFromLoadBalancer: classicInstances,
  RegisterInstancesWithLoadBalancer: classicInstances,
  GetCallerIdentity: () => ({}),
  AssumeRole: (p) => ({
    RoleArn: p.RoleArn,
    RoleSessionName: p.RoleSessionName,
    ExternalId: p.ExternalId,
    DurationSeconds: p.DurationSeconds ? Number(p.DurationSeconds) : undefined,
  }),
  Publish: (p) => ({
    TopicArn: p.TopicArn,
    Subject: p.Subject,
    Message: p.Message,
    MessageAttributes: Object.fromEntries(
      list(p.MessageAttributes?.entry).map((entry: Out) => [
        entry.Name,
        { DataType: entry.Value?.DataType, StringValue: entry.Value?.StringValue },
      ]),
    ),
  }),
};

// ---------------------------------------------------------------- EKS (REST-JSON)

/** Security Hub's REST-JSON: the one operation the responder calls. */
function securityHubOperation(method: string, url: URL, body: string): { operation: string; input: unknown } {
  if (method === 'PATCH' && url.pathname === '/findings/batchupdate')
    return { operation: 'BatchUpdateFindings', input: JSON.parse(body || '{}') };
  throw Object.assign(new Error(`no Security Hub operation at ${method} ${url.pathname}`), {
    name: 'InvalidInputException',
  });
}

/** GuardDuty's REST-JSON: the one operation the responder calls. */
function guardDutyOperation(method: string, url: URL, body: string): { operation: string; input: unknown } {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (method === 'POST' && parts[0] === 'detector' && parts[2] === 'findings' && parts[3] === 'get')
    return { operation: 'GetFindings', input: { detectorId: parts[1], ...JSON.parse(body || '{}') } };
  throw Object.assign(new Error(`no GuardDuty operation at ${method} ${url.pathname}`), {
    name: 'BadRequestException',
  });
}

function eksOperation(method: string, url: URL): { operation: string; input: unknown } {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (method === 'GET' && parts[0] === 'clusters' && parts.length === 2) {
    return { operation: 'DescribeCluster', input: { name: parts[1] } };
  }
  if (method === 'GET' && parts[0] === 'clusters' && parts[2] === 'pod-identity-associations') {
    if (parts.length === 4)
      return {
        operation: 'DescribePodIdentityAssociation',
        input: { clusterName: parts[1], associationId: parts[3] },
      };
    return {
      operation: 'ListPodIdentityAssociations',
      input: {
        clusterName: parts[1],
        namespace: url.searchParams.get('namespace') ?? undefined,
        serviceAccount: url.searchParams.get('serviceAccount') ?? undefined,
      },
    };
  }
  throw Object.assign(new Error(`no EKS operation at ${method} ${url.pathname}`), {
    name: 'NotFoundException',
  });
}

// ---------------------------------------------------------------- server

function errorCode(service: string, error: Error): string {
  // The query protocols name errors by code (IAM's NoSuchEntityException is "NoSuchEntity" on the wire).
  return service === 'iam' || service === 'sns' ? error.name.replace(/Exception$/, '') : error.name;
}

export class AwsApiServer {
  readonly requests: AwsRequest[] = [];
  private server: Server | undefined;
  url = '';

  /** DynamoDB requests are passed to this DynamoDB-compatible endpoint (the local incident table). */
  constructor(
    account: SimulatedAccount,
    private readonly dynamodbUrl?: string,
    private readonly route: AccountRouter = () => account,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain' });
        response.end(String(error));
      });
    });
    this.url = `http://127.0.0.1:${await listenOnLoopback(this.server)}`;
    return this.url;
  }

  stop(): Promise<void> {
    return close(this.server);
  }

  /** S3's REST protocol, path-style (`/bucket/key`), for the operations the evidence functions use. */
  private s3(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    body: string,
    caller: Caller,
  ): void {
    const [bucket = '', ...rest] = url.pathname.split('/').filter(Boolean);
    const key = rest.map(decodeURIComponent).join('/');
    const method = request.method ?? 'GET';
    const operation =
      method === 'PUT'
        ? 'PutObject'
        : method === 'HEAD'
          ? 'HeadObject'
          : method === 'DELETE'
            ? 'DeleteObject'
            : url.searchParams.has('versions')
              ? 'ListObjectVersions'
              : url.searchParams.get('list-type') === '2'
                ? 'ListObjectsV2'
                : 'GetObject';
    const header = (name: string) => {
      const value = request.headers[name];
      return value === undefined ? undefined : String(value);
    };
    try {
      const input: Record<string, unknown> = { Bucket: bucket, Key: key };
      if (operation === 'PutObject')
        Object.assign(input, {
          Body: Buffer.from(body, 'utf8'),
          ContentType: header('content-type'),
          ChecksumSHA256: header('x-amz-checksum-sha256'),
          IfNoneMatch: header('if-none-match'),
        });
      if (operation === 'ListObjectsV2' || operation === 'ListObjectVersions')
        input.Prefix = url.searchParams.get('prefix') ?? '';
      const out = this.route(caller, operation, input).call(operation, input) as Out;
      this.requests.push({ service: 's3', operation, region: caller.region, status: 200 });
      if (operation === 'ListObjectsV2') {
        const xml = `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${text('Name', bucket)}${text('Prefix', input.Prefix)}${text('KeyCount', out.KeyCount)}${text('IsTruncated', false)}${(out.Contents ?? []).map((o: Out) => `<Contents>${text('Key', o.Key)}${text('Size', o.Size)}</Contents>`).join('')}</ListBucketResult>`;
        response.writeHead(200, { 'content-type': 'application/xml' });
        response.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
        return;
      }
      if (operation === 'ListObjectVersions') {
        const version = (tag: string, o: Out) =>
          `<${tag}>${text('Key', o.Key)}${text('VersionId', o.VersionId)}${text('IsLatest', o.IsLatest)}${text('LastModified', o.LastModified)}${tag === 'Version' ? text('Size', o.Size) : ''}</${tag}>`;
        const xml = `<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${text('Name', bucket)}${text('Prefix', input.Prefix)}${text('IsTruncated', false)}${(out.Versions ?? []).map((o: Out) => version('Version', o)).join('')}${(out.DeleteMarkers ?? []).map((o: Out) => version('DeleteMarker', o)).join('')}</ListVersionsResult>`;
        response.writeHead(200, { 'content-type': 'application/xml' });
        response.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
        return;
      }
      if (operation === 'DeleteObject') {
        response.writeHead(204, { 'x-amz-version-id': out.VersionId, 'x-amz-delete-marker': 'true' });
        response.end();
        return;
      }
      const headers: Record<string, string> = { 'x-amz-version-id': out.VersionId ?? 'null' };
      if (out.ETag) headers.etag = out.ETag;
      if (out.ChecksumSHA256) headers['x-amz-checksum-sha256'] = out.ChecksumSHA256;
      if (operation === 'HeadObject') headers['content-length'] = String(out.ContentLength);
      if (operation === 'GetObject') headers['content-type'] = out.ContentType;
      response.writeHead(200, headers);
      response.end(operation === 'GetObject' ? out.Body : undefined);
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode ?? 400;
      this.requests.push({ service: 's3', operation, region: caller.region, status });
      response.writeHead(status, { 'content-type': 'application/xml' });
      response.end(
        method === 'HEAD'
          ? undefined
          : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${escapeXml(e.name)}</Code><Message>${escapeXml(e.message)}</Message></Error>`,
      );
    }
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const url = new URL(request.url ?? '/', 'http://localhost');
    const scope = /Credential=([^/]+)\/[^/]+\/([^/]+)\/([^/]+)\//.exec(request.headers.authorization ?? '');
    const service = scope?.[3] ?? 'unknown';
    const caller: Caller = { accessKeyId: scope?.[1] ?? '', region: scope?.[2] ?? '', service };
    const call = (operation: string, input: unknown) =>
      this.route(caller, operation, input).call(operation, input);
    const requestId = randomUUID();

    if (service === 'dynamodb' && this.dynamodbUrl) {
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
      const answer = await fetch(`${this.dynamodbUrl}${request.url ?? '/'}`, {
        method: request.method,
        headers: {
          'content-type': String(request.headers['content-type'] ?? 'application/x-amz-json-1.0'),
          'x-amz-target': String(request.headers['x-amz-target'] ?? ''),
          authorization: String(request.headers.authorization ?? ''),
          'x-amz-date': String(request.headers['x-amz-date'] ?? ''),
        },
        body,
      });
      this.requests.push({ service, operation, region: caller.region, status: answer.status });
      response.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/x-amz-json-1.0',
        'x-amzn-requestid': answer.headers.get('x-amzn-requestid') ?? requestId,
      });
      response.end(await answer.text());
      return;
    }

    if (service === 's3') {
      this.s3(request, response, url, body, caller);
      return;
    }

    if (service === 'ssm' || service === 'kms' || service === 'states') {
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
      try {
        const output = call(operation, JSON.parse(body || '{}'));
        this.requests.push({ service, operation, region: caller.region, status: 200 });
        response.writeHead(200, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': requestId,
        });
        // JSON protocols carry blobs (KMS's Mac) as base64.
        response.end(
          JSON.stringify(output, (_key, value) =>
            value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
          ),
        );
      } catch (error) {
        const e = error as Error & { $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode ?? 400;
        this.requests.push({ service, operation, region: caller.region, status });
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': requestId,
        });
        response.end(JSON.stringify({ __type: e.name, message: e.message }));
      }
      return;
    }

    if (service === 'eks' || service === 'securityhub' || service === 'guardduty') {
      let operation = 'unknown';
      try {
        const method = request.method ?? 'GET';
        const parsed =
          service === 'eks'
            ? eksOperation(method, url)
            : service === 'guardduty'
              ? guardDutyOperation(method, url, body)
              : securityHubOperation(method, url, body);
        operation = parsed.operation;
        const output = call(operation, parsed.input);
        this.requests.push({ service, operation, region: caller.region, status: 200 });
        response.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': requestId });
        response.end(JSON.stringify(output));
      } catch (error) {
        const e = error as Error & { $metadata?: { httpStatusCode?: number } };
        const status = e.$metadata?.httpStatusCode ?? (e.name === 'ResourceNotFoundException' ? 404 : 400);
        this.requests.push({ service, operation, region: caller.region, status });
        response.writeHead(status, {
          'content-type': 'application/json',
          'x-amzn-errortype': e.name,
          'x-amzn-requestid': requestId,
        });
        response.end(JSON.stringify({ message: e.message }));
      }
      return;
    }

    const form = new URLSearchParams(body);
    const operation = form.get('Action') ?? 'unknown';
    const decode = QUERY_INPUT[operation];
    const encode = service === 'ec2' ? EC2_OUTPUT[operation] : QUERY_OUTPUT[operation];
    const xmlns = XMLNS[service] ?? XMLNS[`${service}:${form.get('Version')}`] ?? '';
    try {
      if (!decode || !encode)
        throw Object.assign(new Error(`${operation} is not simulated`), { name: 'InvalidAction' });
      const output = call(operation, decode(unflatten(form)));
      const xml =
        service === 'ec2'
          ? `<${operation}Response xmlns="${xmlns}"><requestId>${requestId}</requestId>${encode(output)}</${operation}Response>`
          : `<${operation}Response xmlns="${xmlns}"><${operation}Result>${encode(output)}</${operation}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
      this.requests.push({ service, operation, region: caller.region, status: 200 });
      response.writeHead(200, { 'content-type': 'text/xml' });
      response.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode ?? (e.name.startsWith('NoSuchEntity') ? 404 : 400);
      const code = escapeXml(errorCode(service, e));
      const message = escapeXml(e.message);
      const xml =
        service === 'ec2'
          ? `<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
          : `<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      this.requests.push({ service, operation, region: caller.region, status });
      response.writeHead(status, { 'content-type': 'text/xml' });
      response.end(`<?xml version="1.0" encoding="UTF-8"?>${xml}`);
    }
  }
}
