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

/** A label selector string Kubernetes would refuse. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
}

export type Requirement = (labels: Record<string, string>) => boolean;

/** Splits on commas that are not inside parentheses. */
export function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += char;
  }
  terms.push(current);
  return terms.map((term) => term.trim()).filter((term) => term.length > 0);
}

const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string): string {
  if (!LABEL_KEY.test(key))
    throw new SelectorError(`unable to parse requirement: invalid label key "${key}"`);
  return key;
}
function checkValue(value: string): string {
  if (!LABEL_VALUE.test(value) || value.length > 63) {
    throw new SelectorError(`unable to parse requirement: invalid label value: "${value}"`);
  }
  return value;
}

export function parseLabelSelector(selector: string): Requirement[] {
  return splitTerms(selector).map((term): Requirement => {
    const setMatch = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (setMatch) {
      const key = checkKey(setMatch[1] ?? '');
      const values = (setMatch[3] ?? '').split(',').map((v) => checkValue(v.trim()));
      return setMatch[2] === 'in'
        ? (labels) => key in labels && values.includes(labels[key] ?? '')
        : (labels) => !(key in labels) || !values.includes(labels[key] ?? '');
    }
    const equality = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
    if (equality) {
      const key = checkKey(equality[1] ?? '');
      const value = checkValue(equality[3] ?? '');
      return equality[2] === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
    }
    if (term.startsWith('!')) {
      const key = checkKey(term.slice(1));
      return (labels) => !(key in labels);
    }
    const key = checkKey(term);
    return (labels) => key in labels;
  });
}

/** Whether a label selector string (as in `kubectl -l`) selects these labels; an empty one selects all. */
export const matchesLabelSelector = (selector: string, labels: Record<string, string>): boolean =>
  parseLabelSelector(selector).every((requirement) => requirement(labels));
