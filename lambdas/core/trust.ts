/**
 * Whether a role's trust policy lets a Kubernetes ServiceAccount assume it through the cluster's OIDC
 * provider (IRSA): the annotation `eks.amazonaws.com/role-arn` on a ServiceAccount is a claim anyone who
 * may edit the ServiceAccount can make; only the role's trust policy says which ServiceAccount's tokens
 * really get its credentials. Pure: the policy is read by the caller (iam:GetRole).
 */

export type WebIdentity = {
  /** The OIDC provider's ARN: `arn:aws:iam::<account>:oidc-provider/<issuer without https://>`. */
  provider: string;
  /** The issuer without its scheme, the prefix of the condition keys (`<issuer>:sub`). */
  issuer: string;
  /** The token's subject: `system:serviceaccount:<namespace>:<name>`. */
  subject: string;
};

type Statement = {
  Effect?: string;
  Action?: string | string[];
  Principal?: { Federated?: string | string[] } | string;
  Condition?: Record<string, Record<string, string | string[]>>;
};

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : ([value].flat() as T[]));

/** IAM's StringLike: `*` any run of characters, `?` one character. */
const like = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(value);

/**
 * Whether the conditions on the token's subject hold for `subject`: none at all (any ServiceAccount of
 * the cluster may assume the role), or StringEquals / StringLike that match it. A condition on the
 * subject with any other operator is not understood here, and so not taken as trust.
 */
function subjectAllowed(condition: Statement['Condition'], identity: WebIdentity): boolean {
  const key = `${identity.issuer}:sub`.toLowerCase();
  let allowed = true;
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [name, values] of Object.entries(keys)) {
      if (name.toLowerCase() !== key) continue;
      const match = operator.replace(/IfExists$/, '');
      if (match === 'StringEquals') allowed &&= list(values).includes(identity.subject);
      else if (match === 'StringLike') allowed &&= list(values).some((v) => like(v, identity.subject));
      else allowed = false;
    }
  }
  return allowed;
}

/** Whether an Allow statement of the trust policy gives this provider's token for `subject` the role. */
export function trustsServiceAccount(policy: string, identity: WebIdentity): boolean {
  let parsed: { Statement?: Statement | Statement[] };
  try {
    parsed = JSON.parse(policy) as { Statement?: Statement | Statement[] };
  } catch {
    return false;
  }
  return list(parsed.Statement).some((statement) => {
    if (statement.Effect !== 'Allow') return false;
    const actions = list(statement.Action);
    if (!actions.some((a) => ['sts:AssumeRoleWithWebIdentity', 'sts:*', '*'].includes(a))) return false;
    const principal = statement.Principal;
    const federated = typeof principal === 'object' ? list(principal.Federated) : [];
    if (!federated.includes(identity.provider)) return false;
    return subjectAllowed(statement.Condition, identity);
  });
}
