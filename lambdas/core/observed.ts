/**
 * What GuardDuty saw, read from the confirmed finding: the process and its parent, the hashes, the
 * remote addresses and domains, the API call, the user and the images. The notification and the incident
 * report show it first, so that a person knows what happened before what was done. Pure; every string
 * is the attacker's to choose, so the readers of this clean it before showing it.
 */
import type { Finding } from './finding.js';

export type Observed = {
  /** `name (path)`, the process GuardDuty saw. */
  process: string | null;
  /** The process that started it, or that wrote its file. */
  parent: string | null;
  /** The SHA-256 of each executable named. */
  hashes: string[];
  /** Remote addresses, `ip (country, organisation)`. */
  remote: string[];
  domains: string[];
  /** The Kubernetes or AWS API call. */
  apiCall: string | null;
  /** Who acted: the Kubernetes user, or the access key's principal. */
  user: string | null;
  images: string[];
  /** What the threat lists call it. */
  threats: string[];
};

const MAX_LISTED = 10;

const unique = (values: Iterable<string | null | undefined>): string[] =>
  [
    ...new Set([...values].filter((value): value is string => typeof value === 'string' && value !== '')),
  ].slice(0, MAX_LISTED);

type RemoteIp = {
  ipAddressV4?: string | null;
  ipAddressV6?: string | null;
  country?: { countryName?: string | null } | null;
  organization?: { asnOrg?: string | null; org?: string | null } | null;
} | null;

function remoteOf(ip: RemoteIp | undefined): string | null {
  const address = ip?.ipAddressV4 ?? ip?.ipAddressV6;
  if (!address) return null;
  const where = [ip?.country?.countryName, ip?.organization?.org ?? ip?.organization?.asnOrg].filter(Boolean);
  return where.length > 0 ? `${address} (${where.join(', ')})` : address;
}

const named = (process: { name?: string | null; executablePath?: string | null } | null | undefined) =>
  process?.name || process?.executablePath
    ? [
        process.name,
        process.executablePath && process.executablePath !== process.name
          ? `(${process.executablePath})`
          : null,
      ]
        .filter(Boolean)
        .join(' ')
    : null;

export function observedOf(finding: Finding): Observed {
  const { service, resource } = finding;
  const action = service.action;
  const runtime = service.runtimeDetails;
  const sequence = service.detection?.sequence;
  const k8sCall = action?.kubernetesApiCallAction;
  const awsCall = action?.awsApiCallAction;
  const network = action?.networkConnectionAction;
  const sequenceProcess = sequence?.actors?.find((actor) => actor.process)?.process;

  const process =
    named(runtime?.process) ??
    named(sequenceProcess ? { name: sequenceProcess.name, executablePath: sequenceProcess.path } : null);
  const writer = named(runtime?.context?.modifyingProcess);
  const parent =
    [named(runtime?.process?.lineage?.[0]), writer ? `${writer} wrote the file` : null]
      .filter(Boolean)
      .join('; ') || null;

  const apiCall = k8sCall?.verb
    ? [
        `${k8sCall.verb} ${k8sCall.requestUri ?? k8sCall.resource ?? ''}`.trim(),
        k8sCall.statusCode != null ? `status ${k8sCall.statusCode}` : null,
        k8sCall.userAgent ? `from ${k8sCall.userAgent}` : null,
      ]
        .filter(Boolean)
        .join(', ')
    : awsCall?.api
      ? [
          `${awsCall.serviceName ?? 'AWS'} ${awsCall.api}`,
          awsCall.errorCode ? `error ${awsCall.errorCode}` : null,
          awsCall.callerType ? `caller ${awsCall.callerType}` : null,
        ]
          .filter(Boolean)
          .join(', ')
      : null;

  const accessKey = resource.accessKeyDetails;
  const user =
    resource.kubernetesDetails?.kubernetesUserDetails?.username ??
    (accessKey?.userName || accessKey?.principalId
      ? `${accessKey.userType ?? 'principal'} ${accessKey.userName ?? accessKey.principalId}${accessKey.accessKeyId ? ` (access key ${accessKey.accessKeyId})` : ''}`
      : null) ??
    sequence?.actors?.find((actor) => actor.user)?.user?.name ??
    null;

  const networkLine = network
    ? (() => {
        const remote = remoteOf(network.remoteIpDetails);
        if (!remote) return null;
        const port = network.remotePortDetails?.port;
        return `${remote}${port != null ? ` port ${port}` : ''}${network.connectionDirection ? `, ${network.connectionDirection.toLowerCase()}` : ''}`;
      })()
    : null;

  return {
    process,
    parent,
    hashes: unique([
      runtime?.process?.executableSha256,
      ...(sequence?.actors ?? []).map((actor) => actor.process?.sha256),
    ]),
    remote: unique([
      networkLine,
      remoteOf(k8sCall?.remoteIpDetails),
      ...(k8sCall?.remoteIpDetails ? [] : (k8sCall?.sourceIPs ?? [])),
      remoteOf(awsCall?.remoteIpDetails),
      ...(action?.portProbeAction?.portProbeDetails ?? []).map((probe) => remoteOf(probe.remoteIpDetails)),
      ...(sequence?.endpoints ?? []).map((endpoint) => endpoint.ip),
    ]),
    domains: unique([
      action?.dnsRequestAction?.domain,
      awsCall?.domainDetails?.domain,
      ...(sequence?.endpoints ?? []).map((endpoint) => endpoint.domain),
    ]),
    apiCall,
    user,
    images: unique([
      ...(resource.kubernetesDetails?.kubernetesWorkloadDetails?.containers ?? []).map((c) => c.image),
      resource.containerDetails?.image,
    ]),
    threats: unique(
      (service.evidence?.threatIntelligenceDetails ?? []).flatMap((detail) =>
        (detail.threatNames ?? []).map((name) =>
          detail.threatListName ? `${name} (${detail.threatListName})` : name,
        ),
      ),
    ),
  };
}

/** What GuardDuty saw as labelled rows, in the order a person reads them; only what the finding says. */
export function observedRows(observed: Observed | undefined): [string, string][] {
  if (!observed) return [];
  const rows: [string, string | null][] = [
    ['Process', observed.process],
    ['Parent', observed.parent],
    ['SHA-256', observed.hashes.join(', ') || null],
    ['Remote', observed.remote.join('; ') || null],
    ['Domains', observed.domains.join(', ') || null],
    ['API call', observed.apiCall],
    ['User', observed.user],
    ['Image', observed.images.join(', ') || null],
    ['Threat', observed.threats.join(', ') || null],
  ];
  return rows.flatMap(([label, value]): [string, string][] => (value ? [[label, value]] : []));
}
