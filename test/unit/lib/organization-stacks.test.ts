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
  const roles = Object.entries(memberTemplate.findResources('AWS::IAM::Role'));
  const roleOf = (fn: string) =>
    roles.find(([, r]) => r.Properties.RoleName === `GuardDutyResponderMemberAccess-${fn}`);
  const statementsOf = (roleId: string) =>
    ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
      Object.values(memberTemplate.findResources(type))
        .filter((p) => JSON.stringify(p.Properties.Roles ?? []).includes(`"${roleId}"`))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]),
    );

  it("has one role per function that acts in members, each trusted only by that function's role, with the external id", () => {
    expect(member?.account).toBe(MEMBER);
    expect(roles.map(([, r]) => r.Properties.RoleName).sort()).toEqual(
      MEMBER_REACHING.map((fn) => `GuardDutyResponderMemberAccess-${fn}`).sort(),
    );
    for (const fn of MEMBER_REACHING) {
      const trust = roleOf(fn)?.[1].Properties.AssumeRolePolicyDocument.Statement as {
        Principal: { AWS: unknown };
        Condition: unknown;
        Action: string;
      }[];
      expect(trust).toHaveLength(1);
      expect(trust[0]?.Action).toBe('sts:AssumeRole');
      expect(trust[0]?.Condition).toEqual({ StringEquals: { 'sts:ExternalId': 'guardduty-responder-7c1e' } });
      expect(JSON.stringify(trust[0]?.Principal.AWS).replace(/\{"Ref":"AWS::Partition"\}/g, '"aws"')).toBe(
        `{"Fn::Join":["",["arn:","aws",":iam::111122223333:role/GuardDutyResponder-${fn}"]]}`,
      );
    }
    // Those are the names the responder's roles have.
    const names = Object.values(responderTemplate.findResources('AWS::IAM::Role')).map(
      (r) => r.Properties.RoleName,
    );
    for (const fn of MEMBER_REACHING) expect(names).toContain(`GuardDutyResponder-${fn}`);
  });

  it('gives each role only its function’s part, no wildcard action, and denies changes to any of them', () => {
    for (const fn of MEMBER_REACHING) {
      const [roleId] = roleOf(fn) ?? [''];
      const statements = statementsOf(roleId);
      const actions = statements.filter((st) => st.Effect === 'Allow').flatMap((st) => [st.Action].flat());
      expect(actions.filter((action) => action.includes('*'))).toEqual([]);
      expect(new Set(actions), fn).toEqual(new Set(needsOf(fn).iam.flatMap((need) => need.actions)));
      const denied = statements.filter((st) => st.Effect === 'Deny');
      expect(denied).toHaveLength(1);
      // Every responder role of the member, and the roles no responder may touch.
      for (const other of MEMBER_REACHING)
        expect(denied[0]?.Resource).toEqual(
          expect.arrayContaining([{ 'Fn::GetAtt': [roleOf(other)?.[0], 'Arn'] }]),
        );
      for (const role of [
        ':role/cdk-*',
        ':role/OrganizationAccountAccessRole',
        ':role/aws-reserved/*',
        ':role/AWSReservedSSO_*',
      ])
        expect(JSON.stringify(denied[0]?.Resource)).toContain(role);
    }
    // EC2 permissions reach every region the responder covers.
    const snapshot = statementsOf(roleOf('snapshot-volumes')?.[0] ?? '');
    const ec2 = JSON.stringify(snapshot.filter((st) => [st.Action].flat().includes('ec2:CreateSnapshot')));
    for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2'])
      expect(ec2).toContain(`:ec2:${region}:`);
  });

  it("maps each role to its own function's Kubernetes group only, in each of the member's clusters", () => {
    const entries = Object.values(memberTemplate.findResources('AWS::EKS::AccessEntry'));
    const withGroup = MEMBER_REACHING.filter((fn) => needsOf(fn).kubernetesGroup);
    expect(entries).toHaveLength(withGroup.length);
    for (const fn of withGroup) {
      memberTemplate.hasResourceProperties('AWS::EKS::AccessEntry', {
        ClusterName: 'member-eks',
        PrincipalArn: { 'Fn::GetAtt': [roleOf(fn)?.[0], 'Arn'] },
        KubernetesGroups: [needsOf(fn).kubernetesGroup],
        Type: 'STANDARD',
      });
    }
  });

  it('lets each acting role of the responder assume its own member role, and no other', () => {
    const assuming = Object.values(responderTemplate.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[])
        .filter((st) => [st.Action].flat().includes('sts:AssumeRole'))
        .map((st) => ({ roles: JSON.stringify(p.Properties.Roles), resource: JSON.stringify(st.Resource) })),
    );
    expect(assuming).toHaveLength(MEMBER_REACHING.length);
    for (const { resource } of assuming) {
      const named = MEMBER_REACHING.filter((fn) =>
        resource.includes(`:role/GuardDutyResponderMemberAccess-${fn}"`),
      );
      expect(named, resource).toHaveLength(1);
      expect(resource).toContain(`:iam::${MEMBER}:`);
    }
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
