/**
 * What an attack sequence names (`AttackSequence:*`, `service.detection.sequence`): its EKS cluster,
 * Kubernetes workloads, EC2 instances and the role of an access key, read from the sequence's resources
 * (API `ResourceV2`). A resource of another account or region, or of a kind the responder does not act
 * on, is not a target: it becomes a note, so the notification says what was left to a person.
 */
import type { AttackSequence, AttackSequenceResource } from './finding.js';
import { type WorkloadKind, workloadKindOf } from './workload.js';

/** A workload a finding names: a pod, or a controller whose pods it resolves to. */
export type NamedWorkload = { namespace: string; kind: WorkloadKind; name: string };

export type SequenceTargets = {
  cluster: string | null;
  workloads: NamedWorkload[];
  instanceIds: string[];
  /** The role whose access key the sequence names, when the key's principal is a role. */
  roleName: string | null;
  notes: string[];
};

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
/** `arn:aws:eks:<region>:<account>:cluster/<name>` */
const CLUSTER_ARN = /^arn:[^:]+:eks:[^:]*:[^:]*:cluster\/([^/]+)$/;
/** `arn:aws:ec2:<region>:<account>:instance/<id>` */
const INSTANCE_ARN = /^arn:[^:]+:ec2:[^:]*:[^:]*:instance\/(i-[0-9a-f]+)$/;

const describe = (resource: AttackSequenceResource) =>
  `${resource.resourceType ?? 'resource without a type'} ${resource.name ?? resource.uid ?? '(no name)'}`;

function clusterName(resource: AttackSequenceResource): string | null {
  for (const candidate of [resource.uid, resource.data?.eksCluster?.arn]) {
    const name = candidate ? CLUSTER_ARN.exec(candidate)?.[1] : undefined;
    if (name) return name;
  }
  return resource.name ?? (resource.uid && !resource.uid.startsWith('arn:') ? resource.uid : null);
}

function instanceId(resource: AttackSequenceResource): string | null {
  for (const candidate of [resource.uid, resource.name]) {
    if (!candidate) continue;
    if (INSTANCE_ID.test(candidate)) return candidate;
    const fromArn = INSTANCE_ARN.exec(candidate)?.[1];
    if (fromArn) return fromArn;
  }
  return null;
}

function workload(resource: AttackSequenceResource): NamedWorkload | string {
  const details = resource.data?.kubernetesWorkload;
  const type = details?.type;
  const kind = type ? workloadKindOf(type) : undefined;
  if (!kind)
    return `${describe(resource)}: workload type "${type ?? '(none)'}" is not one the responder knows`;
  if (!resource.name) return `${describe(resource)}: the ${kind} has no name, so it cannot be resolved`;
  if (!details?.namespace)
    return `${describe(resource)}: the ${kind} has no namespace, so it cannot be resolved`;
  return { namespace: details.namespace, kind, name: resource.name };
}

const ROLE_USER_TYPES = new Set(['Role', 'AssumedRole']);
/** A sequence can name hundreds of resources (S3 objects): the notes name a few of each kind, then count. */
const NAMED_PER_KIND = 3;
const MAX_NOTES = 20;

function unsupportedNotes(byKind: Map<string, string[]>): string[] {
  return [...byKind].map(([kind, names]) => {
    const shown = names.slice(0, NAMED_PER_KIND).join(', ');
    const more = names.length > NAMED_PER_KIND ? ` and ${names.length - NAMED_PER_KIND} more` : '';
    return `${kind} ${shown}${more}: the responder does not act on this kind of resource`;
  });
}

export function sequenceTargets(
  sequence: AttackSequence,
  finding: { accountId: string; region: string },
): SequenceTargets {
  const found: SequenceTargets = {
    cluster: null,
    workloads: [],
    instanceIds: [],
    roleName: null,
    notes: [],
  };
  const notes: string[] = [];
  const note = (text: string) => notes.push(text);
  const unsupported = new Map<string, string[]>();
  for (const resource of sequence.resources ?? []) {
    if (resource.accountId && resource.accountId !== finding.accountId) {
      note(`${describe(resource)} is in account ${resource.accountId}: not acted on from this finding`);
      continue;
    }
    if (resource.region && resource.region !== finding.region) {
      note(`${describe(resource)} is in ${resource.region}: not acted on from this finding`);
      continue;
    }
    switch (resource.resourceType) {
      case 'EKS_CLUSTER': {
        const name = clusterName(resource);
        if (!name) note(`${describe(resource)}: no cluster name`);
        else if (found.cluster === null) found.cluster = name;
        else if (found.cluster !== name)
          note(`also names cluster ${name}: only ${found.cluster} is acted on from this finding`);
        break;
      }
      case 'KUBERNETES_WORKLOAD': {
        const named = workload(resource);
        if (typeof named === 'string') note(named);
        else found.workloads.push(named);
        break;
      }
      case 'EC2_INSTANCE': {
        const id = instanceId(resource);
        if (id) found.instanceIds.push(id);
        else note(`${describe(resource)}: no instance id`);
        break;
      }
      case 'ACCESS_KEY': {
        const key = resource.data?.accessKey;
        const role = key?.userName && ROLE_USER_TYPES.has(key.userType ?? '') ? key.userName : null;
        if (role && found.roleName === null) found.roleName = role;
        else if (role) note(`also names the key of role ${role}: only ${found.roleName} is acted on`);
        else {
          note(
            `${describe(resource)} of ${key?.userType ?? 'an unknown principal'} ${key?.userName ?? ''}: not a role's key the responder acts on`.trimEnd(),
          );
        }
        break;
      }
      // A container is the workload's; its image is kept in the record with the finding.
      case 'CONTAINER':
        break;
      default: {
        const kind = resource.resourceType ?? 'resource without a type';
        const names = unsupported.get(kind) ?? [];
        names.push(resource.name ?? resource.uid ?? '(no name)');
        unsupported.set(kind, names);
      }
    }
  }
  const all = [...notes, ...unsupportedNotes(unsupported)];
  const kept =
    all.length > MAX_NOTES ? [...all.slice(0, MAX_NOTES), `… and ${all.length - MAX_NOTES} more notes`] : all;
  found.notes = kept.map((text) => `attack sequence: ${text}`);
  return found;
}
