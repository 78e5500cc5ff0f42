/**
 * revoke-iam: a role used only by the incident is stripped, with a record complete enough to put it
 * back; a shared node role is left intact and the instance profile is disassociated instead.
 */
import {
  AssociateIamInstanceProfileCommand,
  DisassociateIamInstanceProfileCommand,
} from '@aws-sdk/client-ec2';
import {
  AttachRolePolicyCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ProfileBefore,
  type RoleRecord,
  reassociateProfile,
  restoreRole,
  revokeIam,
} from '../../../lambdas/actions/revoke-iam/revoke-iam.js';
import { awsClients } from '../../../lambdas/clients/aws.js';
import type { ResponsePlan } from '../../../lambdas/core/plan.js';
import { TransientError } from '../../../lambdas/shared/errors.js';
import { mockAccount, profileArn, roleArn } from '../../support/aws-account.js';
import { identification, identifiedInstance, identifiedRole, planFor } from '../../support/incident.js';
import { claimedJournal, useIncidentTable } from '../../support/incidents.js';

let account: ReturnType<typeof mockAccount>;
afterEach(() => account.restore());
const incidents = useIncidentTable();
const journal = (plan: ResponsePlan) => claimedJournal(incidents.store(), plan);

const plan = planFor('eks-runtime-new-binary-executed.json');
/** An EC2 finding on an EKS node: the host itself is compromised. */
const hostPlan = planFor('ec2-bitcoin-tool-dns-on-eks-node.json');
const READ_ONLY = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
const TABLE_POLICY =
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}';
const NODE_POLICIES = [
  'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
  'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly',
];

const setUp = () => {
  account = mockAccount({
    roles: {
      'payments-irsa': { attached: [READ_ONLY], inline: { 'orders-table': TABLE_POLICY } },
      'eks-node-role': { attached: [...NODE_POLICIES] },
    },
    instances: [
      { instanceId: 'i-0f1e2d3c4b5a69788', instanceProfile: 'eks-node-profile' },
      { instanceId: 'i-0bystander000002', instanceProfile: 'eks-node-profile' },
    ],
    instanceProfiles: { 'eks-node-profile': 'eks-node-role' },
  });
  return awsClients();
};

const nodeRole = identifiedRole('eks-node-role', {
  sources: ['instance-profile'],
  usedBy: ['instance i-0f1e2d3c4b5a69788'],
  usedOutsideIncident: ['instance i-0bystander000002'],
});
const nodeInstance = identifiedInstance('i-0f1e2d3c4b5a69788', {
  instanceProfileArn: profileArn('eks-node-profile'),
  role: { name: 'eks-node-role', arn: roleArn('eks-node-role') },
});

describe('revoke-iam', () => {
  it('records, then detaches and deletes the policies of a role only the incident uses; the record restores them', async () => {
    const clients = setUp();
    const role = identifiedRole('payments-irsa', { usedBy: ['pod payments/api-1'] });

    const result = await revokeIam(
      { plan, identification: identification({ roles: [role] }) },
      clients,
      {
        revokeSharedRoles: false,
      },
      await journal(plan),
    );

    expect(account.iam.commandCalls(DetachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: 'payments-irsa', PolicyArn: READ_ONLY },
    ]);
    expect(account.iam.commandCalls(DeleteRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: 'payments-irsa', PolicyName: 'orders-table' },
    ]);
    expect(account.state.roles['payments-irsa']).toEqual({ attached: [], inline: {} });
    const record = result.items[0]?.restore as RoleRecord;
    expect(result.items[0]).toMatchObject({ target: 'role payments-irsa', status: 'ok', verified: true });
    expect(record).toEqual({
      roleName: 'payments-irsa',
      attachedPolicyArns: [READ_ONLY],
      inlinePolicies: [{ name: 'orders-table', document: TABLE_POLICY }],
    });

    // Put it back from the record alone, as release does.
    const restored = await restoreRole(clients.iam, record);
    expect(restored).toMatchObject({ status: 'ok', verified: true });
    expect(account.iam.commandCalls(AttachRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: 'payments-irsa', PolicyArn: READ_ONLY },
    ]);
    expect(account.iam.commandCalls(PutRolePolicyCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: 'payments-irsa', PolicyName: 'orders-table', PolicyDocument: TABLE_POLICY },
    ]);
    expect(account.state.roles['payments-irsa']).toEqual({
      attached: [READ_ONLY],
      inline: { 'orders-table': TABLE_POLICY },
    });
  });

  it.each(['url-encoded', 'raw'] as const)(
    'keeps an inline policy to the byte, `%` and all, from a store that returns it %s',
    async (policyDocuments) => {
      const document =
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/100%25 done/%2F*"}]}';
      account = mockAccount({
        policyDocuments,
        roles: { 'payments-irsa': { inline: { reports: document } } },
      });
      const clients = awsClients();
      const role = identifiedRole('payments-irsa', { usedBy: ['pod payments/api-1'] });

      const result = await revokeIam(
        { plan, identification: identification({ roles: [role] }) },
        clients,
        { revokeSharedRoles: false },
        await journal(plan),
      );
      const record = result.items[0]?.restore as RoleRecord;
      expect(record.inlinePolicies).toEqual([{ name: 'reports', document }]);

      expect(await restoreRole(clients.iam, record)).toMatchObject({ status: 'ok', verified: true });
      expect(account.state.roles['payments-irsa']?.inline).toEqual({ reports: document });
    },
  );

  it('leaves a shared node role intact and disassociates the instance profile; the record re-associates it', async () => {
    const clients = setUp();

    const result = await revokeIam(
      { plan: hostPlan, identification: identification({ roles: [nodeRole], instances: [nodeInstance] }) },
      clients,
      { revokeSharedRoles: false },
      await journal(hostPlan),
    );

    expect(account.iam.commandCalls(DetachRolePolicyCommand)).toEqual([]);
    expect(account.state.roles['eks-node-role']?.attached).toEqual(NODE_POLICIES);
    expect(
      account.ec2.commandCalls(DisassociateIamInstanceProfileCommand).map((c) => c.args[0].input),
    ).toEqual([{ AssociationId: 'iip-assoc-0' }]);
    expect(account.state.associations.map((a) => a.InstanceId)).toEqual(['i-0bystander000002']);
    expect(result.items).toEqual([
      {
        target: 'instance profile of i-0f1e2d3c4b5a69788',
        status: 'ok',
        detail: `disassociated ${profileArn('eks-node-profile')} (role eks-node-role is shared with instance i-0bystander000002, so it was left intact)`,
        verified: true,
        caveats: [expect.stringContaining('credentials the instance already holds stay valid')],
        restore: { instanceId: 'i-0f1e2d3c4b5a69788', instanceProfileArn: profileArn('eks-node-profile') },
      },
    ]);

    const restored = await reassociateProfile(clients.ec2, result.items[0]?.restore as ProfileBefore);
    expect(restored).toMatchObject({ status: 'ok', verified: true });
    expect(account.ec2.commandCalls(AssociateIamInstanceProfileCommand).map((c) => c.args[0].input)).toEqual([
      { InstanceId: 'i-0f1e2d3c4b5a69788', IamInstanceProfile: { Arn: profileArn('eks-node-profile') } },
    ]);
    expect(account.state.associations.map((a) => [a.InstanceId, a.IamInstanceProfile.Arn]).sort()).toEqual([
      ['i-0bystander000002', profileArn('eks-node-profile')],
      ['i-0f1e2d3c4b5a69788', profileArn('eks-node-profile')],
    ]);
  });

  it('strips a shared role when the deployer allows it', async () => {
    const clients = setUp();
    const result = await revokeIam(
      { plan: hostPlan, identification: identification({ roles: [nodeRole], instances: [nodeInstance] }) },
      clients,
      { revokeSharedRoles: true },
      await journal(hostPlan),
    );
    expect(account.state.roles['eks-node-role']).toEqual({ attached: [], inline: {} });
    expect(account.ec2.commandCalls(DisassociateIamInstanceProfileCommand)).toEqual([]);
    expect(result.items[0]?.restore).toEqual({
      roleName: 'eks-node-role',
      attachedPolicyArns: NODE_POLICIES,
      inlinePolicies: [],
    });
  });

  it('leaves alone the role of nodes that merely run the affected pods', async () => {
    const clients = setUp();
    const result = await revokeIam(
      { plan, identification: identification({ roles: [nodeRole], instances: [nodeInstance] }) },
      clients,
      { revokeSharedRoles: true },
      await journal(plan),
    );
    expect(account.iam.calls()).toEqual([]);
    expect(account.ec2.commandCalls(DisassociateIamInstanceProfileCommand)).toEqual([]);
    expect(result.items.map((i) => [i.status, i.detail])).toEqual([
      [
        'skipped',
        'the instance-profile role of nodes that run the affected pods: the finding does not say the host is compromised',
      ],
    ]);
  });

  it('reports a shared pod role, a role whose users are unknown and a service-linked role without touching them', async () => {
    const clients = setUp();
    const roles = [
      identifiedRole('payments-irsa', { usedOutsideIncident: ['service account reporting/exporter'] }),
      identifiedRole('eks-admin', { arn: null, sources: ['access-key'], usedOutsideIncident: null }),
      identifiedRole('AWSServiceRoleForAmazonEKS', {
        arn: 'arn:aws:iam::111122223333:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS',
      }),
    ];
    const result = await revokeIam(
      { plan, identification: identification({ roles }) },
      clients,
      {
        revokeSharedRoles: false,
      },
      await journal(plan),
    );
    expect(account.iam.calls()).toEqual([]);
    expect(result.items.map((i) => [i.target, i.status, i.detail])).toEqual([
      [
        'role payments-irsa',
        'skipped',
        'left intact: also used by service account reporting/exporter; set revokeSharedRoles to strip it anyway',
      ],
      [
        'role eks-admin',
        'skipped',
        'left intact: also used by users that could not be determined; set revokeSharedRoles to strip it anyway',
      ],
      ['role AWSServiceRoleForAmazonEKS', 'skipped', 'a service-linked role, which only AWS may change'],
    ]);
  });

  it('reports a denied call as a failed item, and throws throttling for the state machine to retry', async () => {
    const clients = setUp();
    const role = identifiedRole('payments-irsa');
    account.iam.on(DetachRolePolicyCommand).rejects(
      Object.assign(new Error('User is not authorized to perform: iam:DetachRolePolicy'), {
        name: 'AccessDenied',
      }),
    );
    const denied = await revokeIam(
      { plan, identification: identification({ roles: [role] }) },
      clients,
      {
        revokeSharedRoles: false,
      },
      await journal(plan),
    );
    expect(denied.items[0]).toMatchObject({
      status: 'failed',
      detail: 'AccessDenied: User is not authorized to perform: iam:DetachRolePolicy',
    });

    account.iam
      .on(DetachRolePolicyCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
      );
    await expect(
      revokeIam(
        { plan, identification: identification({ roles: [role] }) },
        clients,
        {
          revokeSharedRoles: false,
        },
        await journal(plan),
      ),
    ).rejects.toThrow(TransientError);
  });
});
