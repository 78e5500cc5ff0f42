/**
 * Which responder function a simulated access key belongs to: `AKIA<FUNCTION>` signs as the function's
 * own role in the responder's account; `ASIA<account><FUNCTION>Z<random>`, the credentials STS gave it for
 * its role in a member account (aws/sts.ts). EKS maps each to that function's access entry (eks-token.ts).
 */
import { FUNCTION_NAMES, type FunctionName } from '../../lambdas/permissions.js';

const upper = (name: FunctionName) => name.replace(/-/g, '').toUpperCase();

/** The access key of a function's role in the simulation: the identity its requests are signed with. */
export const functionAccessKey = (name: FunctionName): string => `AKIA${upper(name)}`;

/** The function of a key of its own role, or of the credentials of its member role; null for anyone else. */
export function functionOfKey(accessKeyId: string): FunctionName | null {
  const own = /^AKIA([A-Z]+)$/.exec(accessKeyId)?.[1];
  const member = /^ASIA\d{12}([A-Z]+)Z/.exec(accessKeyId)?.[1];
  const key = own ?? member;
  return FUNCTION_NAMES.find((name) => upper(name) === key) ?? null;
}

/** Member-account credentials STS gives a function for its own role there. */
export const memberAccessKey = (accountId: string, fn: FunctionName, random: string): string =>
  `ASIA${accountId}${upper(fn)}Z${random}`;

/** The credentials a host's role session gives it (what Run Command uploads its output with). */
export const hostAccessKey = (instanceId: string): string =>
  `ASIAHOST${instanceId.replace(/^i-/, '').toUpperCase()}`;

/** The instance whose credentials these are, or null. */
export function instanceOfHostKey(accessKeyId: string): string | null {
  const hex = /^ASIAHOST([0-9A-F]+)$/.exec(accessKeyId)?.[1];
  return hex ? `i-${hex.toLowerCase()}` : null;
}
