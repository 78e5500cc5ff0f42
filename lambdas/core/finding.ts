/**
 * The GuardDuty finding as EventBridge delivers it (camelCase), parsed with zod at the edge.
 * Every sub-object GuardDuty may leave out or send as null is `nullish`; unknown fields pass through.
 * Field reference: GuardDuty API `Finding` and the EventBridge event format.
 */
import { z } from 'zod';

const str = z.string().nullish();
const bool = z.boolean().nullish();
/** Timestamps arrive as ISO strings or epoch seconds depending on the field. */
const timestamp = z.union([z.string(), z.number()]).nullish();

const Tag = z.looseObject({ key: z.string(), value: str });

/** A remote address as GuardDuty describes it: the address, where it is and whose it is. */
/**
 * What the notification shows of what GuardDuty saw (lambdas/core/observed.ts): never a reason to refuse
 * a finding, so a field of an unexpected shape reads as absent.
 */
const shown = <T extends z.ZodType>(schema: T) => schema.nullish().catch(null);

const RemoteIp = z.looseObject({
  ipAddressV4: str,
  ipAddressV6: str,
  country: z.looseObject({ countryName: str }).nullish(),
  organization: z.looseObject({ asnOrg: str, org: str }).nullish(),
});

export const ContainerSchema = z.looseObject({
  containerRuntime: str,
  id: str,
  name: str,
  image: str,
  imagePrefix: str,
  volumeMounts: z.array(z.looseObject({ name: str, mountPath: str })).nullish(),
  securityContext: z.looseObject({ privileged: bool, allowPrivilegeEscalation: bool }).nullish(),
});

const KubernetesWorkloadDetails = z.looseObject({
  name: str,
  type: str,
  uid: str,
  namespace: str,
  serviceAccountName: str,
  hostNetwork: bool,
  hostIPC: bool,
  hostPID: bool,
  containers: z.array(ContainerSchema).nullish(),
  volumes: z.array(z.looseObject({ name: str, hostPath: z.looseObject({ path: str }).nullish() })).nullish(),
});

const KubernetesUserDetails = z.looseObject({
  username: str,
  uid: str,
  groups: z.array(z.string()).nullish(),
  sessionName: z.array(z.string()).nullish(),
  impersonatedUser: z.looseObject({ username: str, groups: z.array(z.string()).nullish() }).nullish(),
});

const InstanceDetails = z.looseObject({
  instanceId: str,
  instanceType: str,
  instanceState: str,
  availabilityZone: str,
  imageId: str,
  launchTime: timestamp,
  platform: str,
  iamInstanceProfile: z.looseObject({ arn: str, id: str }).nullish(),
  networkInterfaces: z
    .array(
      z.looseObject({
        networkInterfaceId: str,
        privateIpAddress: str,
        privateDnsName: str,
        publicIp: str,
        subnetId: str,
        vpcId: str,
        securityGroups: z.array(z.looseObject({ groupId: str, groupName: str })).nullish(),
      }),
    )
    .nullish(),
  tags: z.array(Tag).nullish(),
});

const Resource = z.looseObject({
  resourceType: z.string(),
  eksClusterDetails: z
    .looseObject({
      name: str,
      arn: str,
      vpcId: str,
      status: str,
      tags: z.array(Tag).nullish(),
      createdAt: timestamp,
    })
    .nullish(),
  kubernetesDetails: z
    .looseObject({
      kubernetesUserDetails: KubernetesUserDetails.nullish(),
      kubernetesWorkloadDetails: KubernetesWorkloadDetails.nullish(),
    })
    .nullish(),
  instanceDetails: InstanceDetails.nullish(),
  containerDetails: ContainerSchema.nullish(),
  accessKeyDetails: z
    .looseObject({ accessKeyId: str, principalId: str, userName: str, userType: str })
    .nullish(),
});

/**
 * A resource of an attack sequence (API `ResourceV2`): `resourceType` is one of EKS_CLUSTER,
 * KUBERNETES_WORKLOAD, CONTAINER, EC2_INSTANCE, ACCESS_KEY, S3_BUCKET, … with the matching `data`.
 */
const SequenceResource = z.looseObject({
  uid: str,
  name: str,
  accountId: str,
  region: str,
  resourceType: str,
  service: str,
  data: z
    .looseObject({
      eksCluster: z
        .looseObject({ arn: str, status: str, vpcId: str, ec2InstanceUids: z.array(z.string()).nullish() })
        .nullish(),
      kubernetesWorkload: z
        .looseObject({ namespace: str, type: str, containerUids: z.array(z.string()).nullish() })
        .nullish(),
      container: z.looseObject({ image: str, imageUid: str }).nullish(),
      accessKey: z.looseObject({ principalId: str, userName: str, userType: str }).nullish(),
    })
    .nullish(),
  tags: z.array(Tag).nullish(),
});

/** An attack sequence (API `Sequence`): the signals GuardDuty correlated, and what they involve. */
const Sequence = z.looseObject({
  uid: str,
  description: str,
  actors: z
    .array(
      z.looseObject({
        id: str,
        user: z.looseObject({ name: str, type: str, uid: str, credentialUid: str }).nullish(),
        session: z.looseObject({ uid: str, issuer: str, mfaStatus: str }).nullish(),
        process: z.looseObject({ name: str, path: str, sha256: str }).nullish(),
      }),
    )
    .nullish(),
  resources: z.array(SequenceResource).nullish(),
  endpoints: z.array(z.looseObject({ id: str, ip: str, domain: str })).nullish(),
  signals: z
    .array(
      z.looseObject({
        uid: str,
        type: str,
        name: str,
        description: str,
        severity: z.number().nullish(),
        count: z.number().nullish(),
        firstSeenAt: timestamp,
        lastSeenAt: timestamp,
        resourceUids: z.array(z.string()).nullish(),
        actorIds: z.array(z.string()).nullish(),
      }),
    )
    .nullish(),
  sequenceIndicators: z
    .array(z.looseObject({ key: str, title: str, values: z.array(z.string()).nullish() }))
    .nullish(),
});
export type AttackSequence = z.infer<typeof Sequence>;
export type AttackSequenceResource = z.infer<typeof SequenceResource>;

const Service = z.looseObject({
  serviceName: str,
  detectorId: str,
  featureName: str,
  action: z
    .looseObject({
      actionType: str,
      kubernetesApiCallAction: z
        .looseObject({
          requestUri: str,
          verb: str,
          namespace: str,
          resource: str,
          resourceName: str,
          subresource: str,
          statusCode: z.number().nullish(),
          userAgent: str,
          sourceIPs: shown(z.array(z.string())),
          remoteIpDetails: shown(RemoteIp),
        })
        .nullish(),
      awsApiCallAction: shown(
        z.looseObject({
          api: str,
          serviceName: str,
          callerType: str,
          errorCode: str,
          remoteIpDetails: shown(RemoteIp),
          domainDetails: z.looseObject({ domain: str }).nullish(),
        }),
      ),
      networkConnectionAction: shown(
        z.looseObject({
          connectionDirection: str,
          protocol: str,
          remotePortDetails: z.looseObject({ port: z.number().nullish(), portName: str }).nullish(),
          remoteIpDetails: shown(RemoteIp),
        }),
      ),
      dnsRequestAction: shown(z.looseObject({ domain: str, protocol: str })),
      portProbeAction: shown(
        z.looseObject({
          portProbeDetails: z.array(z.looseObject({ remoteIpDetails: RemoteIp.nullish() })).nullish(),
        }),
      ),
    })
    .nullish(),
  runtimeDetails: z
    .looseObject({
      process: z
        .looseObject({
          name: str,
          executablePath: str,
          executableSha256: str,
          pid: z.number().nullish(),
          user: str,
          lineage: shown(z.array(z.looseObject({ name: str, executablePath: str }))),
        })
        .nullish(),
      context: shown(
        z.looseObject({ modifyingProcess: shown(z.looseObject({ name: str, executablePath: str })) }),
      ),
    })
    .nullish(),
  evidence: shown(
    z.looseObject({
      threatIntelligenceDetails: shown(
        z.array(z.looseObject({ threatListName: str, threatNames: z.array(z.string()).nullish() })),
      ),
    }),
  ),
  additionalInfo: z.looseObject({ sample: bool, value: str, type: str }).nullish(),
  /** Attack sequences only: `service.detection.sequence`. */
  detection: z.looseObject({ sequence: Sequence.nullish() }).nullish(),
  count: z.number().nullish(),
  eventFirstSeen: str,
  eventLastSeen: str,
  archived: bool,
  resourceRole: str,
});

/** `ThreatPurpose:ResourceTypeAffected/ThreatFamilyName.DetectionMechanism!Artifact` */
const FINDING_TYPE = /^[A-Za-z0-9]+:[A-Za-z0-9]+\/\S+$/;

export const FindingSchema = z.looseObject({
  schemaVersion: str,
  accountId: z.string().min(1),
  region: z.string().min(1),
  partition: str,
  id: z.string().min(1),
  arn: z.string().min(1),
  type: z
    .string()
    .regex(
      FINDING_TYPE,
      'expected a GuardDuty finding type such as Execution:Kubernetes/ExecInKubeSystemPod',
    ),
  severity: z.number().min(0).max(10),
  title: z.string(),
  description: str,
  createdAt: z.string(),
  updatedAt: z.string(),
  resource: Resource,
  service: Service,
});

export const FindingEventSchema = z.looseObject({
  version: z.string(),
  id: z.string(),
  'detail-type': z.literal('GuardDuty Finding'),
  source: z.literal('aws.guardduty'),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: FindingSchema,
});

export type Finding = z.infer<typeof FindingSchema>;
export type FindingEvent = z.infer<typeof FindingEventSchema>;
export type Container = z.infer<typeof ContainerSchema>;

/** Thrown for input that is not a GuardDuty finding event; the message names every offending field. */
export class FindingValidationError extends Error {
  override readonly name = 'FindingValidationError';
  constructor(readonly problems: readonly string[]) {
    super(`not a valid GuardDuty finding event: ${problems.join('; ')}`);
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(event)';
  return `${path}: ${issue.message}`;
}

export function parseFindingEvent(input: unknown): FindingEvent {
  const result = FindingEventSchema.safeParse(input);
  if (!result.success) throw new FindingValidationError(result.error.issues.map(describeIssue));
  return result.data;
}

/**
 * GuardDuty-generated sample findings (CreateSampleFindings) carry `sample: true` either flattened into
 * `service.additionalInfo` or inside its JSON string `value`.
 */
export function isSampleFinding(finding: Finding): boolean {
  const info = finding.service.additionalInfo;
  if (!info) return false;
  if (info.sample === true) return true;
  if (!info.value) return false;
  try {
    const parsed: unknown = JSON.parse(info.value);
    return typeof parsed === 'object' && parsed !== null && (parsed as { sample?: unknown }).sample === true;
  } catch {
    return false;
  }
}
