/**
 * The house Lambda construct: runtime, architecture, bundling, logging, tracing and role set once.
 * Each function gets its own role holding only what its declaration in lambdas/permissions.ts names.
 */
import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionName, type IamNeed, type IamScope, needsOf } from '../lambdas/permissions.js';
import type { VpcPlacement } from './config.js';
import { scopeArns } from './iam-scopes.js';
import { acknowledge, nagRendering } from './nag.js';

export type ResponseFunctionProps = {
  /** The key of its declared needs (lambdas/permissions.ts). */
  name: FunctionName;
  /** Its entry point, under lambdas/: `handlers/<name>.ts`, or an action's `actions/<name>/handler.ts`. */
  entry: string;
  description: string;
  environment?: Record<string, string>;
  clusters: readonly string[];
  /** The regions it acts in: the stack's own, and those the configuration adds. */
  regions?: readonly string[];
  /** A fixed role name, for roles a member account's MemberAccess role trusts by ARN. */
  roleName?: string;
  vpc: VpcPlacement | undefined;
  logRetentionDays: number;
  /** The key its log group is encrypted with (logs-key.ts). */
  logsKey?: kms.IKey;
  timeout?: Duration;
};

const LAMBDAS_DIR = fileURLToPath(new URL('../lambdas/', import.meta.url));
const PROJECT_ROOT = fileURLToPath(new URL('../', import.meta.url));

export class ResponseFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ResponseFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.logsKey,
    });
    this.logGroup = logGroup;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      roleName: props.roleName,
      description: `guardduty-responder ${props.name} function`,
    });
    logGroup.grantWrite(this.role);

    const vpcPlacement = props.vpc ? this.placement(props.vpc) : {};
    this.function = new NodejsFunction(this, 'Function', {
      entry: `${LAMBDAS_DIR}${props.entry}`,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: props.timeout ?? Duration.minutes(1),
      role: this.role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: { POWERTOOLS_SERVICE_NAME: 'guardduty-responder', ...props.environment },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: true,
        forceDockerBundling: false,
        // The pinned SDK goes into the bundle rather than whatever version the runtime ships.
        externalModules: [],
        // Bundled CommonJS dependencies (the AWS SDK) still call require().
        banner: "import{createRequire}from'module';const require=createRequire(import.meta.url);",
      },
      ...vpcPlacement,
    });

    if (props.vpc) this.grantNetworkInterfaces(props.vpc);
    const needs: readonly IamNeed[] = needsOf(props.name).iam;
    for (const need of needs) {
      const resources = this.resources(need.scope, props);
      if (resources.length === 0) continue; // no cluster configured: nothing to grant
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: [...need.actions], resources, conditions: need.conditions }),
      );
    }

    acknowledge(
      this,
      'IAM5[Resource::*]',
      [
        'xray:PutTraceSegments and xray:PutTelemetryRecords (tracing) take no resource',
        ...(props.vpc
          ? ['ec2:DescribeNetworkInterfaces (VPC placement) supports no resource-level permissions']
          : []),
        ...needs
          .filter((need) => need.scope === 'any')
          .map((need) => `${need.actions.join(', ')}: ${need.why}`),
      ].join('; '),
    );
    for (const need of needs.filter((n) => n.scope !== 'any' && n.scope !== 'clusters')) {
      for (const wildcard of this.resources(need.scope, props).map((arn) => nagRendering(this, arn))) {
        acknowledge(
          this,
          `IAM5[Resource::${wildcard}]`,
          `${need.actions.join(', ')}: ${need.why}; the ids are only known during an incident`,
        );
      }
    }
  }

  /** What Lambda needs to attach the function to the VPC: its network interfaces in these subnets only. */
  private grantNetworkInterfaces(vpc: VpcPlacement): void {
    const stack = Stack.of(this);
    const ec2Arn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'ec2', resource, resourceName });
    const interfaces = ec2Arn('network-interface', '*');
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          interfaces,
          ...vpc.subnets.map((subnet) => ec2Arn('subnet', subnet.subnetId)),
          ...vpc.securityGroupIds.map((id) => ec2Arn('security-group', id)),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: [interfaces],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['ec2:DescribeNetworkInterfaces'], resources: ['*'] }),
    );
    acknowledge(
      this,
      `IAM5[Resource::${nagRendering(this, interfaces)}]`,
      'Lambda creates and deletes its own VPC network interfaces, whose ids are generated.',
    );
  }

  private placement(vpc: VpcPlacement) {
    return {
      vpc: ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: vpc.vpcId,
        availabilityZones: vpc.subnets.map((subnet) => subnet.availabilityZone),
      }),
      vpcSubnets: {
        subnets: vpc.subnets.map((subnet, index) =>
          ec2.Subnet.fromSubnetAttributes(this, `Subnet${index}`, subnet),
        ),
      },
      securityGroups: vpc.securityGroupIds.map((id, index) =>
        ec2.SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${index}`, id),
      ),
    };
  }

  private resources(scope: IamScope, props: ResponseFunctionProps): string[] {
    const regions = props.regions?.length ? [undefined, ...props.regions] : [undefined];
    return scopeArns(Stack.of(this), scope, props.clusters, regions);
  }
}
