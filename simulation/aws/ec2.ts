/** EC2: instances, their attributes and instance-profile associations, EBS snapshots, and the VPC side: network interfaces, security groups (with the checks EC2 makes: a group must exist and be in the interface's VPC, a name is unique in its VPC, a group in use cannot be deleted) and tags. EC2's query protocol: `…Set/item` lists. */
import { randomUUID } from 'node:crypto';
import type {
  AssociateIamInstanceProfileCommandInput,
  AuthorizeSecurityGroupIngressCommandInput,
  CreateSecurityGroupCommandInput,
  CreateSnapshotCommandInput,
  CreateTagsCommandInput,
  DeleteSecurityGroupCommandInput,
  DeleteTagsCommandInput,
  DescribeIamInstanceProfileAssociationsCommandInput,
  DescribeInstanceAttributeCommandInput,
  DescribeInstancesCommandInput,
  DescribeNetworkInterfacesCommandInput,
  DescribeSecurityGroupsCommandInput,
  DescribeSnapshotsCommandInput,
  DisassociateIamInstanceProfileCommandInput,
  IpPermission,
  ModifyInstanceAttributeCommandInput,
  ModifyInstanceMetadataOptionsCommandInput,
  ModifyNetworkInterfaceAttributeCommandInput,
} from '@aws-sdk/client-ec2';
import {
  ec2Error,
  SIMULATED_SNAPSHOT_SECONDS,
  type SimulatedInstance,
  type SimulatedSecurityGroup,
  type SimulatedSnapshot,
} from './state.js';
import { bool, el, items, list, num, type Out, type SimulatedService, text } from './wire.js';

const sameRule = (a: IpPermission, b: IpPermission) =>
  a.IpProtocol === b.IpProtocol &&
  a.FromPort === b.FromPort &&
  a.ToPort === b.ToPort &&
  JSON.stringify((a.IpRanges ?? []).map((r) => r.CidrIp).sort()) ===
    JSON.stringify((b.IpRanges ?? []).map((r) => r.CidrIp).sort()) &&
  JSON.stringify((a.Ipv6Ranges ?? []).map((r) => r.CidrIpv6).sort()) ===
    JSON.stringify((b.Ipv6Ranges ?? []).map((r) => r.CidrIpv6).sort());

const progressed = (snapshot: SimulatedSnapshot): SimulatedSnapshot => {
  if (snapshot.State === 'pending' && snapshot.CompletesAt && Date.parse(snapshot.CompletesAt) <= Date.now())
    snapshot.State = 'completed';
  return snapshot;
};

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

/** An instance's metadata options when its description names none: IMDSv1 allowed, two hops. */
const DEFAULT_METADATA_OPTIONS = { httpTokens: 'optional', hopLimit: 2, httpEndpoint: 'enabled' } as const;
const metadataOf = (i: SimulatedInstance) => {
  const options = { ...DEFAULT_METADATA_OPTIONS, ...i.metadataOptions };
  return {
    State: 'applied',
    HttpTokens: options.httpTokens,
    HttpPutResponseHopLimit: options.hopLimit,
    HttpEndpoint: options.httpEndpoint,
  };
};

export const ec2: SimulatedService = {
  operations: (s) => {
    const { account, instances, associations, snapshots, instance, profileOf } = s;
    const state = s.network;
    const group = (id: string | undefined) => {
      const found = state.securityGroups.find((g) => g.GroupId === id);
      if (!found) throw ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
      return found;
    };
    const interfaces = () =>
      instances.flatMap((i) => (i.networkInterfaces ?? []).map((eni) => ({ eni, instanceId: i.instanceId })));
    const filterValues = (filters: { Name?: string; Values?: string[] }[] | undefined, name: string) =>
      filters?.find((f) => f.Name === name)?.Values;
    const rules = (input: AuthorizeSecurityGroupIngressCommandInput, egress: boolean, add: boolean) => {
      const target = group(input.GroupId);
      const list = egress ? target.IpPermissionsEgress : target.IpPermissions;
      for (const rule of input.IpPermissions ?? []) {
        const index = list.findIndex((existing) => sameRule(existing, rule));
        if (add && index >= 0)
          throw ec2Error('InvalidPermission.Duplicate', 'the specified rule already exists');
        if (!add && index < 0)
          throw ec2Error('InvalidPermission.NotFound', 'the specified rule does not exist');
        if (add) list.push(structuredClone(rule));
        else list.splice(index, 1);
      }
      return { Return: true };
    };
    return {
      DescribeInstances: (input: DescribeInstancesCommandInput) => {
        for (const id of input.InstanceIds ?? []) instance(id); // an unknown id fails the whole call, as in EC2
        const filter = (name: string) =>
          input.Filters?.find((f: { Name?: string }) => f.Name === name)?.Values;
        const ids = filter('instance-id');
        const profiles = filter('iam-instance-profile.arn');
        const states = filter('instance-state-name');
        const found = instances.filter(
          (i) =>
            (!input.InstanceIds?.length || input.InstanceIds.includes(i.instanceId)) &&
            (!ids || ids.includes(i.instanceId)) &&
            (!profiles || profiles.includes(profileOf(i.instanceId) ?? '')) &&
            (!states || states.includes(i.state ?? 'running')),
        );
        return {
          Reservations: found.map((i) => ({
            Instances: [
              {
                InstanceId: i.instanceId,
                State: { Name: i.state ?? 'running' },
                PrivateDnsName: i.privateDnsName,
                Tags: Object.entries(i.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
                IamInstanceProfile: profileOf(i.instanceId) ? { Arn: profileOf(i.instanceId) } : undefined,
                MetadataOptions: metadataOf(i),
                BlockDeviceMappings: (i.volumes ?? []).map((v) => ({
                  DeviceName: v.deviceName,
                  Ebs: { VolumeId: v.volumeId, DeleteOnTermination: v.deleteOnTermination ?? true },
                })),
              },
            ],
          })),
        };
      },
      ModifyInstanceMetadataOptions: (input: ModifyInstanceMetadataOptionsCommandInput) => {
        const target = instance(input.InstanceId);
        const options = { ...DEFAULT_METADATA_OPTIONS, ...target.metadataOptions };
        if (input.HttpTokens) options.httpTokens = input.HttpTokens;
        if (input.HttpPutResponseHopLimit !== undefined) {
          if (input.HttpPutResponseHopLimit < 1 || input.HttpPutResponseHopLimit > 64)
            throw ec2Error('InvalidParameterValue', 'The hop limit must be between 1 and 64.');
          options.hopLimit = input.HttpPutResponseHopLimit;
        }
        if (input.HttpEndpoint) options.httpEndpoint = input.HttpEndpoint;
        target.metadataOptions = options;
        return { InstanceId: target.instanceId, InstanceMetadataOptions: metadataOf(target) };
      },
      DescribeInstanceAttribute: (input: DescribeInstanceAttributeCommandInput) => {
        if (input.Attribute !== 'disableApiTermination')
          throw new Error(`attribute ${input.Attribute} not faked`);
        return {
          InstanceId: input.InstanceId,
          DisableApiTermination: { Value: instance(input.InstanceId).terminationProtection === true },
        };
      },
      ModifyInstanceAttribute: (input: ModifyInstanceAttributeCommandInput) => {
        const target = instance(input.InstanceId);
        if (input.DisableApiTermination)
          target.terminationProtection = input.DisableApiTermination.Value === true;
        for (const mapping of input.BlockDeviceMappings ?? []) {
          const volume = target.volumes?.find((v) => v.deviceName === mapping.DeviceName);
          if (!volume)
            throw ec2Error(
              'InvalidInstanceAttributeValue',
              `No device is currently mapped at ${mapping.DeviceName}`,
            );
          if (mapping.Ebs?.DeleteOnTermination !== undefined)
            volume.deleteOnTermination = mapping.Ebs.DeleteOnTermination;
        }
        return {};
      },
      DescribeIamInstanceProfileAssociations: (input: DescribeIamInstanceProfileAssociationsCommandInput) => {
        const ids = input.Filters?.find((f: { Name?: string }) => f.Name === 'instance-id')?.Values;
        return {
          IamInstanceProfileAssociations: associations.filter((a) => !ids || ids.includes(a.InstanceId)),
        };
      },
      DisassociateIamInstanceProfile: (input: DisassociateIamInstanceProfileCommandInput) => {
        const index = associations.findIndex((a) => a.AssociationId === input.AssociationId);
        if (index < 0)
          throw ec2Error(
            'InvalidAssociationID.NotFound',
            `The association ID '${input.AssociationId}' does not exist`,
          );
        const [removed] = associations.splice(index, 1);
        return { IamInstanceProfileAssociation: { ...removed, State: 'disassociating' } };
      },
      AssociateIamInstanceProfile: (input: AssociateIamInstanceProfileCommandInput) => {
        if (associations.some((a) => a.InstanceId === input.InstanceId)) {
          throw ec2Error(
            'IncorrectState',
            `There is an existing association for instance ${input.InstanceId}`,
          );
        }
        const association = {
          AssociationId: `iip-assoc-${randomUUID().slice(0, 8)}`,
          InstanceId: input.InstanceId ?? '',
          IamInstanceProfile: { Arn: input.IamInstanceProfile?.Arn ?? '' },
          State: 'associated',
        };
        associations.push(association);
        return { IamInstanceProfileAssociation: association };
      },
      DescribeSnapshots: (input: DescribeSnapshotsCommandInput) => {
        const filters = input.Filters ?? [];
        const matches = (snapshot: SimulatedSnapshot) =>
          (!input.SnapshotIds || input.SnapshotIds.includes(snapshot.SnapshotId)) &&
          filters.every((f: { Name?: string; Values?: string[] }) => {
            if (f.Name === 'volume-id') return f.Values?.includes(snapshot.VolumeId);
            if (f.Name?.startsWith('tag:')) {
              const key = f.Name.slice(4);
              return snapshot.Tags.some((t) => t.Key === key && f.Values?.includes(t.Value));
            }
            throw new Error(`filter ${f.Name} not faked`);
          });
        if (input.SnapshotIds?.some((id: string) => !snapshots.some((s) => s.SnapshotId === id))) {
          throw ec2Error('InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotIds}' does not exist.`);
        }
        return { Snapshots: snapshots.filter(matches).map(progressed) };
      },
      CreateSnapshot: (input: CreateSnapshotCommandInput) => {
        const exists = instances.some((i) => i.volumes?.some((v) => v.volumeId === input.VolumeId));
        if (!exists)
          throw ec2Error('InvalidVolume.NotFound', `The volume '${input.VolumeId}' does not exist.`);
        const tags = (input.TagSpecifications?.[0]?.Tags ?? []) as { Key: string; Value: string }[];
        const snapshot = {
          SnapshotId: `snap-${String(snapshots.length + 1).padStart(17, '0')}`,
          VolumeId: input.VolumeId ?? '',
          State: 'pending',
          CompletesAt: new Date(
            Date.now() + (account.snapshotSeconds ?? SIMULATED_SNAPSHOT_SECONDS) * 1000,
          ).toISOString(),
          Tags: tags,
        };
        snapshots.push(snapshot);
        return { ...snapshot };
      },
      DescribeNetworkInterfaces: (input: DescribeNetworkInterfacesCommandInput) => {
        const byInstance = filterValues(input.Filters, 'attachment.instance-id');
        const byGroup = filterValues(input.Filters, 'group-id');
        return {
          NetworkInterfaces: interfaces()
            .filter(
              ({ eni, instanceId }) =>
                (!input.NetworkInterfaceIds?.length ||
                  input.NetworkInterfaceIds.includes(eni.networkInterfaceId)) &&
                (!byInstance || byInstance.includes(instanceId)) &&
                (!byGroup || eni.groups.some((id) => byGroup.includes(id))),
            )
            .map(({ eni, instanceId }) => ({
              NetworkInterfaceId: eni.networkInterfaceId,
              VpcId: eni.vpcId,
              Attachment: { InstanceId: instanceId },
              Groups: eni.groups.map((id) => ({ GroupId: id, GroupName: group(id).GroupName })),
            })),
        };
      },
      ModifyNetworkInterfaceAttribute: (input: ModifyNetworkInterfaceAttributeCommandInput) => {
        const found = interfaces().find(({ eni }) => eni.networkInterfaceId === input.NetworkInterfaceId);
        if (!found)
          throw ec2Error(
            'InvalidNetworkInterfaceID.NotFound',
            `The networkInterface ID '${input.NetworkInterfaceId}' does not exist`,
          );
        for (const id of input.Groups ?? []) {
          if (group(id).VpcId !== found.eni.vpcId)
            throw ec2Error(
              'InvalidGroup.NotFound',
              `The security group '${id}' does not exist in VPC '${found.eni.vpcId}'`,
            );
        }
        if (input.Groups) found.eni.groups = [...input.Groups];
        return {};
      },
      DescribeSecurityGroups: (input: DescribeSecurityGroupsCommandInput) => {
        for (const id of input.GroupIds ?? []) group(id);
        const matches = (g: SimulatedSecurityGroup) =>
          (!input.GroupIds?.length || input.GroupIds.includes(g.GroupId)) &&
          (input.Filters ?? []).every((f: { Name?: string; Values?: string[] }) => {
            if (f.Name === 'vpc-id') return f.Values?.includes(g.VpcId);
            if (f.Name === 'group-name') return f.Values?.includes(g.GroupName);
            if (f.Name === 'group-id') return f.Values?.includes(g.GroupId);
            if (f.Name?.startsWith('tag:')) {
              const key = f.Name.slice(4);
              return g.Tags.some((t) => t.Key === key && f.Values?.includes(t.Value));
            }
            throw new Error(`filter ${f.Name} not simulated`);
          });
        return { SecurityGroups: structuredClone(state.securityGroups.filter(matches)) };
      },
      CreateSecurityGroup: (input: CreateSecurityGroupCommandInput) => {
        if (state.securityGroups.some((g) => g.VpcId === input.VpcId && g.GroupName === input.GroupName))
          throw ec2Error(
            'InvalidGroup.Duplicate',
            `The security group '${input.GroupName}' already exists for VPC '${input.VpcId}'`,
          );
        const GroupId = `sg-0${randomUUID().replace(/-/g, '').slice(0, 16)}`;
        state.securityGroups.push({
          GroupId,
          GroupName: input.GroupName ?? '',
          VpcId: input.VpcId ?? '',
          Description: input.Description ?? '',
          Tags: (input.TagSpecifications?.[0]?.Tags ?? []) as { Key: string; Value: string }[],
          IpPermissions: [],
          // EC2 gives a new group an outbound rule allowing everything (IPv4).
          IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
        });
        return { GroupId };
      },
      DeleteSecurityGroup: (input: DeleteSecurityGroupCommandInput) => {
        group(input.GroupId);
        if (interfaces().some(({ eni }) => eni.groups.includes(input.GroupId ?? '')))
          throw ec2Error('DependencyViolation', `resource ${input.GroupId} has a dependent object`);
        state.securityGroups = state.securityGroups.filter((g) => g.GroupId !== input.GroupId);
        return {};
      },
      AuthorizeSecurityGroupIngress: (input: AuthorizeSecurityGroupIngressCommandInput) =>
        rules(input, false, true),
      AuthorizeSecurityGroupEgress: (input: AuthorizeSecurityGroupIngressCommandInput) =>
        rules(input, true, true),
      RevokeSecurityGroupIngress: (input: AuthorizeSecurityGroupIngressCommandInput) =>
        rules(input, false, false),
      RevokeSecurityGroupEgress: (input: AuthorizeSecurityGroupIngressCommandInput) =>
        rules(input, true, false),
      CreateTags: (input: CreateTagsCommandInput) => {
        for (const id of input.Resources ?? []) {
          for (const tag of input.Tags ?? []) {
            if (id.startsWith('sg-')) {
              const g = group(id);
              g.Tags = [
                ...g.Tags.filter((t) => t.Key !== tag.Key),
                { Key: tag.Key ?? '', Value: tag.Value ?? '' },
              ];
            } else {
              const target = instance(id);
              target.tags = { ...(target.tags ?? {}), [tag.Key ?? '']: tag.Value ?? '' };
            }
          }
        }
        return {};
      },
      DeleteTags: (input: DeleteTagsCommandInput) => {
        for (const id of input.Resources ?? []) {
          const target = instance(id);
          for (const tag of input.Tags ?? []) delete target.tags?.[tag.Key ?? ''];
        }
        return {};
      },
    };
  },
  xmlns: 'http://ec2.amazonaws.com/doc/2016-11-15/',
  query: {
    DescribeInstances: {
      input: (p) => ({
        InstanceIds: list(p.InstanceId),
        Filters: ec2Filters(p.Filter),
        NextToken: p.NextToken,
      }),
      output: (out) =>
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
                  ? el(
                      'iamInstanceProfile',
                      text('arn', i.IamInstanceProfile.Arn) + text('id', 'AIPASIMULATED'),
                    )
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
                ec2Tags(i.Tags) +
                el(
                  'metadataOptions',
                  text('state', 'applied') +
                    text('httpTokens', i.MetadataOptions?.HttpTokens) +
                    text('httpPutResponseHopLimit', i.MetadataOptions?.HttpPutResponseHopLimit) +
                    text('httpEndpoint', i.MetadataOptions?.HttpEndpoint),
                ),
            ),
        ),
    },
    ModifyInstanceMetadataOptions: {
      input: (p) => ({
        InstanceId: p.InstanceId,
        HttpTokens: p.HttpTokens,
        HttpPutResponseHopLimit: num(p.HttpPutResponseHopLimit),
        HttpEndpoint: p.HttpEndpoint,
      }),
      output: (out) =>
        text('instanceId', out.InstanceId) +
        el(
          'instanceMetadataOptions',
          text('state', 'pending') +
            text('httpTokens', out.InstanceMetadataOptions?.HttpTokens) +
            text('httpPutResponseHopLimit', out.InstanceMetadataOptions?.HttpPutResponseHopLimit) +
            text('httpEndpoint', out.InstanceMetadataOptions?.HttpEndpoint),
        ),
    },
    DescribeInstanceAttribute: {
      input: (p) => ({ InstanceId: p.InstanceId, Attribute: p.Attribute }),
      output: (out) =>
        text('instanceId', out.InstanceId) +
        el('disableApiTermination', text('value', out.DisableApiTermination?.Value)),
    },
    ModifyInstanceAttribute: {
      input: (p) => ({
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
      output: () => text('return', true),
    },
    DescribeIamInstanceProfileAssociations: {
      input: (p) => ({
        AssociationIds: list(p.AssociationId),
        Filters: ec2Filters(p.Filter),
      }),
      output: (out) =>
        items('iamInstanceProfileAssociationSet', out.IamInstanceProfileAssociations, ec2Association),
    },
    DisassociateIamInstanceProfile: {
      input: (p) => ({ AssociationId: p.AssociationId }),
      output: (out) => el('iamInstanceProfileAssociation', ec2Association(out.IamInstanceProfileAssociation)),
    },
    AssociateIamInstanceProfile: {
      input: (p) => ({
        InstanceId: p.InstanceId,
        IamInstanceProfile: { Arn: p.IamInstanceProfile?.Arn },
      }),
      output: (out) => el('iamInstanceProfileAssociation', ec2Association(out.IamInstanceProfileAssociation)),
    },
    DescribeSnapshots: {
      input: (p) => ({
        OwnerIds: list(p.Owner),
        SnapshotIds: p.SnapshotId ? list(p.SnapshotId) : undefined,
        Filters: ec2Filters(p.Filter),
      }),
      output: (out) => items('snapshotSet', out.Snapshots, ec2Snapshot),
    },
    CreateSnapshot: {
      input: (p) => ({
        VolumeId: p.VolumeId,
        Description: p.Description,
        TagSpecifications: list(p.TagSpecification).map((spec: Out) => ({
          ResourceType: spec.ResourceType,
          Tags: list(spec.Tag),
        })),
      }),
      output: (out) => ec2Snapshot(out),
    },
    DescribeNetworkInterfaces: {
      input: (p) => ({
        NetworkInterfaceIds: list(p.NetworkInterfaceId),
        Filters: ec2Filters(p.Filter),
      }),
      output: (out) =>
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
    },
    ModifyNetworkInterfaceAttribute: {
      input: (p) => ({
        NetworkInterfaceId: p.NetworkInterfaceId,
        Groups: p.SecurityGroupId ? list(p.SecurityGroupId) : undefined,
      }),
      output: () => text('return', true),
    },
    DescribeSecurityGroups: {
      input: (p) => ({ GroupIds: list(p.GroupId), Filters: ec2Filters(p.Filter) }),
      output: (out) =>
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
    },
    CreateSecurityGroup: {
      input: (p) => ({
        GroupName: p.GroupName,
        Description: p.GroupDescription,
        VpcId: p.VpcId,
        TagSpecifications: list(p.TagSpecification).map((spec: Out) => ({
          ResourceType: spec.ResourceType,
          Tags: list(spec.Tag),
        })),
      }),
      output: (out) => text('return', true) + text('groupId', out.GroupId),
    },
    DeleteSecurityGroup: {
      input: (p) => ({ GroupId: p.GroupId }),
      output: () => text('return', true),
    },
    AuthorizeSecurityGroupIngress: {
      input: groupRules,
      output: () => text('return', true),
    },
    AuthorizeSecurityGroupEgress: {
      input: groupRules,
      output: () => text('return', true),
    },
    RevokeSecurityGroupIngress: {
      input: groupRules,
      output: () => text('return', true),
    },
    RevokeSecurityGroupEgress: {
      input: groupRules,
      output: () => text('return', true),
    },
    CreateTags: {
      input: (p) => ({ Resources: list(p.ResourceId), Tags: list(p.Tag) }),
      output: () => text('return', true),
    },
    DeleteTags: {
      input: (p) => ({ Resources: list(p.ResourceId), Tags: list(p.Tag) }),
      output: () => text('return', true),
    },
  },
};
