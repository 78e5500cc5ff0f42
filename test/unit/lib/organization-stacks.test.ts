/** The stacks an organization's configuration deploys: the member accounts' access, the other regions' intake. */
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { MEMBER_REACHING, needsOf } from '../../../lambdas/permissions.js';
import { addResponder } from '../../../lib/responder-app.js';
import { CONTEXT_KEY, cdkJsonContext, parseConfig } from '../../../simulation/cdk-json.js';

const MEMBER = '444455556666';
const config = parseConfig({
  ...(cdkJsonContext()[CONTEXT_KEY] as object),
  account: '111122223333',
  region: 'us-east-1',
  regions: ['eu-west-1', 'ap-southeast-2'],
  severity: { atLeast: 7, below: null },
  members: [{ accountId: MEMBER, clusters: ['member-eks'] }],
  externalId: 'guardduty-responder-7c1e',
});
const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
const stacks = addResponder(app, config);
// Synthesis fails on any cdk-nag finding not acknowledged, in every stack.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const [member] = stacks.members;
const memberTemplate = Template.fromStack(member ?? stacks.responder);
const responderTemplate = Template.fromStack(stacks.responder);

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

describe('the MemberAccess stack', () => {
  const [roleId, role] = Object.entries(memberTemplate.findResources('AWS::IAM::Role'))[0] ?? [];

  it("trusts only the responder's roles that act in members, with the external id", () => {
    expect(member?.account).toBe(MEMBER);
    expect(role?.Properties.RoleName).toBe('GuardDutyResponderMemberAccess');
    const trust = role?.Properties.AssumeRolePolicyDocument.Statement as {
      Principal: { AWS: unknown[] };
      Condition: unknown;
      Action: string;
    }[];
    expect(trust).toHaveLength(1);
    expect(trust[0]?.Action).toBe('sts:AssumeRole');
    expect(trust[0]?.Condition).toEqual({ StringEquals: { 'sts:ExternalId': 'guardduty-responder-7c1e' } });
    const principals = (trust[0]?.Principal.AWS ?? []).map((p) =>
      JSON.stringify(p).replace(/\{"Ref":"AWS::Partition"\}/g, '"aws"'),
    );
    expect(principals.sort()).toEqual(
      MEMBER_REACHING.map(
        (fn) => `{"Fn::Join":["",["arn:","aws",":iam::111122223333:role/GuardDutyResponder-${fn}"]]}`,
      ).sort(),
    );
    // Those are the names the responder's roles have.
    const names = Object.values(responderTemplate.findResources('AWS::IAM::Role')).map(
      (r) => r.Properties.RoleName,
    );
    for (const fn of MEMBER_REACHING) expect(names).toContain(`GuardDutyResponder-${fn}`);
  });

  it('holds no wildcard action, and denies changes to itself', () => {
    // CDK moves what does not fit the role's inline policy into managed policies of the role.
    const statements = ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
      Object.values(memberTemplate.findResources(type)).flatMap(
        (p) => p.Properties.PolicyDocument.Statement as Statement[],
      ),
    );
    const actions = statements.flatMap((st) => [st.Action].flat());
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    expect(new Set(actions)).toEqual(
      new Set([
        ...MEMBER_REACHING.flatMap((fn) => needsOf(fn).iam.flatMap((need) => need.actions)),
        'iam:DetachRolePolicy',
        'iam:DeleteRolePolicy',
        'iam:AttachRolePolicy',
        'iam:PutRolePolicy',
      ]),
    );
    const denied = statements.filter((st) => st.Effect === 'Deny');
    expect(denied).toHaveLength(1);
    expect(denied[0]?.Resource).toEqual(expect.arrayContaining([{ 'Fn::GetAtt': [roleId, 'Arn'] }]));
    // Nor the member's CDK bootstrap roles, the organization's access role, IAM Identity Center's.
    for (const role of [
      ':role/cdk-*',
      ':role/OrganizationAccountAccessRole',
      ':role/aws-reserved/*',
      ':role/AWSReservedSSO_*',
    ])
      expect(JSON.stringify(denied[0]?.Resource)).toContain(role);
    // EC2 permissions reach every region the responder covers.
    const ec2 = JSON.stringify(statements.filter((st) => [st.Action].flat().includes('ec2:CreateSnapshot')));
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2'])
      expect(ec2).toContain(`:ec2:${region}:`);
  });

  it("maps the role to every responder group in each of the member's clusters", () => {
    memberTemplate.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'member-eks',
      PrincipalArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
      KubernetesGroups: [
        ...new Set(MEMBER_REACHING.flatMap((fn) => needsOf(fn).kubernetesGroup ?? [])),
      ].sort(),
      Type: 'STANDARD',
    });
  });

  it("lets the responder's acting roles assume it, and no other of its roles", () => {
    const assumers = Object.values(responderTemplate.findResources('AWS::IAM::Policy'))
      .filter((p) =>
        (p.Properties.PolicyDocument.Statement as Statement[]).some((st) =>
          [st.Action].flat().includes('sts:AssumeRole'),
        ),
      )
      .map((p) => JSON.stringify(p.Properties.Roles));
    expect(assumers).toHaveLength(MEMBER_REACHING.length);
    expect(JSON.stringify(responderTemplate.toJSON())).toContain(
      `:iam::${MEMBER}:role/GuardDutyResponderMemberAccess`,
    );
  });
});

describe('the intake of other regions', () => {
  it('forwards findings in the exact severity range to the responder region’s default bus, with a dead-letter queue', () => {
    expect(stacks.intakes.map((intake) => intake.region)).toEqual(['eu-west-1', 'ap-southeast-2']);
    for (const intake of stacks.intakes) {
      const template = Template.fromStack(intake);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.guardduty'],
          'detail-type': ['GuardDuty Finding'],
          detail: { severity: [{ numeric: ['>=', 7] }] },
        },
      });
      const [rule] = Object.values(template.findResources('AWS::Events::Rule'));
      const [target] = rule?.Properties.Targets ?? [];
      expect(JSON.stringify(target.Arn)).toContain(':events:us-east-1:111122223333:event-bus/default');
      expect(target.DeadLetterConfig).toBeDefined();
      expect(target.RoleArn).toBeDefined();
    }
    // The responder's own rule has the same pattern, and one deploy of it deploys the intakes first.
    responderTemplate.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.guardduty'],
        'detail-type': ['GuardDuty Finding'],
        detail: { severity: [{ numeric: ['>=', 7] }] },
      },
    });
    expect(stacks.responder.dependencies.map((stack) => stack.stackName).sort()).toEqual(
      stacks.intakes.map((intake) => intake.stackName).sort(),
    );
  });
});

describe('the configuration of an organization', () => {
  it('needs the responder account and region, and an external id', () => {
    expect(() => parseConfig({ regions: ['eu-west-1'] })).toThrow(
      'guardduty-responder.account: account is required with members and regions',
    );
    expect(() =>
      parseConfig({ account: '111122223333', region: 'us-east-1', regions: ['us-east-1'] }),
    ).toThrow("regions lists the responder's own region us-east-1");
  });
});
