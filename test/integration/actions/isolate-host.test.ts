/**
 * isolate-host over the simulated account behind aws-sdk-client-mock: the security groups of every
 * interface, the untrack step, Standby, target groups and Classic Load Balancers, the tag, what is
 * recorded, a second run, a quarantine group deleted by hand, and release.
 */
import { EnterStandbyCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { DeregisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GROUP_PURPOSE_TAG,
  type HostBefore,
  isolateHost,
  type OwnGroups,
  QUARANTINED_TAG,
  releaseHost,
} from '../../../lambdas/actions/isolate-host/isolate-host.js';
import { awsClients } from '../../../lambdas/clients/aws.js';
import type { ActionItem } from '../../../lambdas/core/action-result.js';
import { APP_GROUP, appGroup, SIMULATED_VPC } from '../../../simulation/account.js';
import { type FakeAccount, mockAccount } from '../../support/aws-account.js';
import { identifiedInstance, planFor } from '../../support/incident.js';
import { claimedJournal, useIncidentTable } from '../../support/incidents.js';

let account: ReturnType<typeof mockAccount>;
afterEach(() => account?.restore());

const plan = planFor('ec2-backdoor-cc-activity.json');
const ID = 'i-0c1d2e3f4a5b60718';
const TARGET_GROUP =
  'arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/orders/0123456789abcdef';
const DB_GROUP = 'sg-0d1e2f3a4b5c60718';
const two = [
  { networkInterfaceId: 'eni-0primary000000001', vpcId: SIMULATED_VPC, groups: [APP_GROUP] },
  { networkInterfaceId: 'eni-0secondary0000002', vpcId: SIMULATED_VPC, groups: [APP_GROUP, DB_GROUP] },
];

const incidents = useIncidentTable();

function withAccount(fake: FakeAccount) {
  account = mockAccount(fake);
}
async function isolate(target = identifiedInstance(ID), options = { isolateClusterNodes: false }) {
  const clients = awsClients();
  return isolateHost(
    { plan, cluster: null, target },
    clients,
    options,
    await claimedJournal(incidents.store(), plan),
  );
}
const item = (result: { items: ActionItem[] }) => result.items[0] as ActionItem;
const groupsOf = () =>
  Object.fromEntries(
    (account.state.instances.find((i) => i.instanceId === ID)?.networkInterfaces ?? []).map((eni) => [
      eni.networkInterfaceId,
      eni.groups,
    ]),
  );
const responderGroup = (purpose: string) =>
  account.state.network.securityGroups.find((g) =>
    g.Tags.some((t) => t.Key === GROUP_PURPOSE_TAG && t.Value === purpose),
  );
const modifications = () =>
  account.ec2
    .commandCalls(ModifyNetworkInterfaceAttributeCommand)
    .map((c) => [c.args[0].input.NetworkInterfaceId, c.args[0].input.Groups]);

describe('isolate-host', () => {
  it('moves every interface of a standalone instance to the quarantine group, through the untrack group first', async () => {
    withAccount({
      instances: [{ instanceId: ID, networkInterfaces: two }],
      targetGroups: [{ arn: TARGET_GROUP, targets: [{ id: ID, port: 8080 }] }],
    });

    const result = await isolate();

    const quarantine = responderGroup('quarantine');
    const untrack = responderGroup('untrack');
    expect(quarantine).toMatchObject({ VpcId: SIMULATED_VPC, IpPermissions: [], IpPermissionsEgress: [] });
    expect(untrack).toMatchObject({
      IpPermissions: [
        { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
      ],
      IpPermissionsEgress: [
        { IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
      ],
    });
    // Both interfaces go through the untrack group before the quarantine group.
    expect(modifications()).toEqual([
      ['eni-0primary000000001', [untrack?.GroupId]],
      ['eni-0secondary0000002', [untrack?.GroupId]],
      ['eni-0primary000000001', [quarantine?.GroupId]],
      ['eni-0secondary0000002', [quarantine?.GroupId]],
    ]);
    expect(groupsOf()).toEqual({
      'eni-0primary000000001': [quarantine?.GroupId],
      'eni-0secondary0000002': [quarantine?.GroupId],
    });
    // Out of its target group, tagged, and what was there recorded for release.
    expect(account.state.network.targetGroups[0]?.targets).toEqual([]);
    expect(account.state.instances[0]?.tags?.[QUARANTINED_TAG]).toBe(plan.finding.id);
    expect(item(result)).toMatchObject({ status: 'ok', verified: true });
    expect(item(result).detail).toContain('through allow-all group');
    expect(item(result).caveats.join(' ')).toMatch(/ICMP .* stay tracked/);
    expect(item(result).restore).toEqual({
      instanceId: ID,
      interfaces: two,
      autoScaling: null,
      targetGroups: [{ targetGroupArn: TARGET_GROUP, port: 8080 }],
      classicLoadBalancers: [],
      tag: null,
    } satisfies HostBefore);
    const [record] = await incidents.table().records();
    expect(record?.entries[`isolate-host|-|instance ${ID}`]?.before).toEqual(item(result).restore);
  });

  it('swaps directly when the groups already allowed all traffic both ways (nothing is tracked)', async () => {
    const open = {
      ...appGroup('sg-0open000000000001', SIMULATED_VPC),
      IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
    };
    withAccount({
      instances: [
        {
          instanceId: ID,
          networkInterfaces: [
            { networkInterfaceId: 'eni-0open', vpcId: SIMULATED_VPC, groups: [open.GroupId] },
          ],
        },
      ],
      securityGroups: [open],
    });

    const result = await isolate();

    expect(responderGroup('untrack')).toBeUndefined();
    expect(modifications()).toEqual([['eni-0open', [responderGroup('quarantine')?.GroupId]]]);
    expect(item(result).detail).toContain('directly (their groups allowed all traffic: flows untracked)');
  });

  it('moves an instance of an Auto Scaling group to Standby, desired capacity unchanged', async () => {
    withAccount({
      instances: [
        { instanceId: ID, autoScalingGroup: 'orders' },
        { instanceId: 'i-0other', autoScalingGroup: 'orders' },
      ],
    });

    const result = await isolate(identifiedInstance(ID, { autoScalingGroup: 'orders' }));

    expect(account.autoScaling.commandCalls(EnterStandbyCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: 'orders',
      InstanceIds: [ID],
      ShouldDecrementDesiredCapacity: false,
    });
    expect(account.state.instances[0]?.lifecycleState).toBe('Standby');
    expect(account.state.network.autoScalingGroups.orders?.desiredCapacity).toBe(2);
    expect(item(result).detail).toContain('Standby in orders (desired capacity 2 unchanged');
    expect((item(result).restore as HostBefore).autoScaling).toEqual({
      group: 'orders',
      lifecycleState: 'InService',
      desiredCapacity: 2,
    });
  });

  it('takes an instance outside any group out of its target groups and Classic Load Balancers', async () => {
    withAccount({
      instances: [{ instanceId: ID }, { instanceId: 'i-0neighbour' }],
      targetGroups: [
        {
          arn: TARGET_GROUP,
          targets: [
            { id: ID, port: 8080 },
            { id: 'i-0neighbour', port: 8080 },
          ],
        },
      ],
      classicLoadBalancers: [{ name: 'legacy', instances: [ID, 'i-0neighbour'] }],
    });

    await isolate();

    expect(account.elbv2.commandCalls(DeregisterTargetsCommand)[0]?.args[0].input).toEqual({
      TargetGroupArn: TARGET_GROUP,
      Targets: [{ Id: ID, Port: 8080 }],
    });
    expect(account.state.network.targetGroups[0]?.targets).toEqual([{ id: 'i-0neighbour', port: 8080 }]);
    expect(account.state.network.classicLoadBalancers[0]?.instances).toEqual(['i-0neighbour']);
  });

  it('changes nothing on a second run, and recreates a quarantine group deleted by hand', async () => {
    withAccount({ instances: [{ instanceId: ID, networkInterfaces: two }] });
    await isolate();
    const first = responderGroup('quarantine')?.GroupId;
    account.ec2.resetHistory();

    const again = await isolate();
    expect(modifications()).toEqual([]);
    expect(account.ec2.commandCalls(CreateSecurityGroupCommand)).toEqual([]);
    expect(item(again)).toMatchObject({ status: 'ok', verified: true });
    expect(item(again).detail).toContain(`already in quarantine group ${first}`);
    // Recorded once: the retry keeps the groups the interfaces had before the incident.
    expect((item(again).restore as HostBefore).interfaces).toEqual(two);

    // Someone moves the interfaces back and deletes the quarantine group.
    for (const eni of account.state.instances[0]?.networkInterfaces ?? []) eni.groups = [APP_GROUP];
    account.state.network.securityGroups = account.state.network.securityGroups.filter(
      (g) => g.GroupId !== first,
    );
    const third = await isolate();
    const recreated = responderGroup('quarantine')?.GroupId;
    expect(recreated).toBeDefined();
    expect(recreated).not.toBe(first);
    expect(item(third).detail).toContain(`in quarantine group ${recreated} (created)`);
    expect(Object.values(groupsOf())).toEqual([[recreated], [recreated]]);
  });

  it('restores every interface, Standby and registration exactly on release, and deletes its groups once unused', async () => {
    withAccount({
      instances: [
        { instanceId: ID, networkInterfaces: two },
        { instanceId: 'i-0asg', autoScalingGroup: 'orders' },
      ],
      targetGroups: [{ arn: TARGET_GROUP, targets: [{ id: ID, port: 8080 }] }],
      classicLoadBalancers: [{ name: 'legacy', instances: [ID] }],
    });
    const before = structuredClone({ instances: account.state.instances, network: account.state.network });
    const standalone = item(await isolate());
    const inGroup = item(await isolate(identifiedInstance('i-0asg', { autoScalingGroup: 'orders' })));
    expect(account.state.instances[1]?.lifecycleState).toBe('Standby');

    const clients = awsClients();
    // The responder's groups, as release finds them: registered in the table, verified.
    const { seal } = await incidents.store().sealed(plan.finding.id);
    const ownGroups: OwnGroups = (vpcId, purpose) => incidents.store().ownGroup(seal, vpcId, purpose);
    const released = [
      await releaseHost(standalone.restore as HostBefore, clients, ownGroups),
      await releaseHost(inGroup.restore as HostBefore, clients, ownGroups),
    ];

    expect(released.map((r) => [r.status, r.verified])).toEqual([
      ['ok', true],
      ['ok', true],
    ]);
    expect(
      account.state.instances.map((i) => [i.instanceId, i.networkInterfaces, i.lifecycleState, i.tags ?? {}]),
    ).toEqual(
      before.instances.map((i) => [i.instanceId, i.networkInterfaces, i.lifecycleState, i.tags ?? {}]),
    );
    expect(account.state.network.targetGroups).toEqual(before.network.targetGroups);
    expect(account.state.network.classicLoadBalancers).toEqual(before.network.classicLoadBalancers);
    expect(account.state.network.securityGroups).toEqual(before.network.securityGroups);
    expect(account.ec2.commandCalls(DeleteSecurityGroupCommand)).toHaveLength(2);
    expect(released[1]?.detail).toContain('ExitStandby raises desired capacity by one');
  });

  it('never leaves an interface in the allow-all group when the move to quarantine fails', async () => {
    withAccount({ instances: [{ instanceId: ID, networkInterfaces: two }] });
    // EC2 refuses the quarantine group (only): the interfaces are already in the untrack group by then.
    account.ec2.on(ModifyNetworkInterfaceAttributeCommand).callsFake((input) => {
      if (input.Groups?.[0] === responderGroup('quarantine')?.GroupId)
        throw Object.assign(new Error('You are not authorized to perform this operation.'), {
          name: 'UnauthorizedOperation',
        });
      return account.ec2Call('ModifyNetworkInterfaceAttribute', input);
    });

    const result = await isolate();

    expect(item(result).status).toBe('failed');
    expect(item(result).detail).toContain('security groups: UnauthorizedOperation');
    expect(groupsOf()).toEqual(Object.fromEntries(two.map((eni) => [eni.networkInterfaceId, eni.groups])));
  });

  it('leaves a node of a cluster alone unless isolateClusterNodes is set', async () => {
    withAccount({ instances: [{ instanceId: ID }] });
    const node = identifiedInstance(ID, { cluster: 'prod-eks', nodeName: 'ip-10-0-12-34.ec2.internal' });

    expect(item(await isolate(node))).toMatchObject({
      status: 'skipped',
      detail: 'a node of cluster prod-eks: isolateClusterNodes is off',
    });
    expect(modifications()).toEqual([]);
    expect(item(await isolate(node, { isolateClusterNodes: true })).status).toBe('ok');
  });
});
