/** Kubernetes label selectors and image references, as plain functions. */

export type LabelSelector = {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
};

/**
 * The `labelSelector` query string for a workload's `spec.selector`. An empty selector would match every
 * pod in the namespace, so it is refused rather than turned into an empty string.
 */
export function labelSelectorQuery(selector: LabelSelector): string {
  const terms = Object.entries(selector.matchLabels ?? {}).map(([key, value]) => `${key}=${value}`);
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    switch (operator) {
      case 'In':
        terms.push(`${key} in (${values.join(',')})`);
        break;
      case 'NotIn':
        terms.push(`${key} notin (${values.join(',')})`);
        break;
      case 'Exists':
        terms.push(key);
        break;
      case 'DoesNotExist':
        terms.push(`!${key}`);
        break;
      default:
        throw new Error(`unknown label selector operator ${operator} on key ${key}`);
    }
  }
  if (terms.length === 0) throw new Error('the workload has an empty selector, which would select every pod');
  return terms.join(',');
}

/** `nginx`, `library/nginx:latest` and `docker.io/library/nginx:latest` name the same image. */
export function normalizeImage(image: string): string {
  let name = image.trim();
  const digestAt = name.indexOf('@');
  const lastSlash = name.lastIndexOf('/');
  const hasTag = name.lastIndexOf(':') > lastSlash;
  if (digestAt < 0 && !hasTag) name += ':latest';
  const firstPart = name.split('/')[0] ?? '';
  const hasRegistry =
    name.includes('/') && (firstPart.includes('.') || firstPart.includes(':') || firstPart === 'localhost');
  if (!hasRegistry) name = `docker.io/${name}`;
  if (/^docker\.io\/[^/]+$/.test(name.replace(/[:@].*$/, '')))
    name = name.replace('docker.io/', 'docker.io/library/');
  return name;
}

/** The EC2 instance id in a node's `spec.providerID` (`aws:///us-east-1a/i-0abc…`), if it names one. */
export function instanceIdFromProviderId(providerId: string | undefined | null): string | null {
  if (!providerId?.startsWith('aws://')) return null;
  const last = providerId.split('/').pop() ?? '';
  return /^i-[0-9a-f]{8,17}$/.test(last) ? last : null;
}

/** A DNS-1123 subdomain: what Kubernetes accepts as a namespace, pod, workload or service account name. */
export function isKubernetesName(name: string): boolean {
  return name.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name);
}
