/**
 * What every simulated service shares: the shape of a service (its operations over the account's state,
 * and for the query protocols how each operation reads its form and writes its XML), and the helpers of
 * the wire formats.
 */
import type { AccountState } from './state.js';

/** An operation: the SDK's own input shape in, its output shape out; it fails with the API's errors. */
export type Operation = (input: never) => unknown;

export type Xml = string;
// biome-ignore lint/suspicious/noExplicitAny: outputs are the SDK's output shapes, read field by field
export type Out = any;

/** A simulated AWS service: one file per service, so that a new SDK call touches one file. */
export type SimulatedService = {
  /** Its operations, over the state of one account. */
  operations: (state: AccountState) => Record<string, Operation>;
  /** The query protocols (EC2, Auto Scaling, IAM, SNS, STS, ELB): the namespace of its XML answers. */
  xmlns?: string | Record<string, string>;
  /** The query protocols: the SDK input from the form fields, and the XML of the result. */
  query?: Record<string, { input: (form: Out) => unknown; output: (out: Out) => Xml }>;
  /** The REST protocols (EKS, GuardDuty, Security Hub): the operation and its input at a method and path. */
  route?: (method: string, url: URL, body: string) => { operation: string; input: unknown };
};

// ---------------------------------------------------------------- XML

export const escapeXml = (text: unknown) =>
  String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export const el = (name: string, content: Xml | string | number | boolean | undefined | null): Xml =>
  content === undefined || content === null
    ? ''
    : `<${name}>${typeof content === 'string' ? content : escapeXml(content)}</${name}>`;
export const text = (name: string, value: unknown): Xml =>
  value === undefined || value === null ? '' : `<${name}>${escapeXml(value)}</${name}>`;
export const items = <T>(
  name: string,
  list: readonly T[] | undefined,
  item: (value: T) => Xml,
  tag = 'item',
): Xml => `<${name}>${(list ?? []).map((value) => `<${tag}>${item(value)}</${tag}>`).join('')}</${name}>`;
export const members = <T>(name: string, list: readonly T[] | undefined, item: (value: T) => Xml) =>
  items(name, list, item, 'member');

// ---------------------------------------------------------------- query input

/** `a.b.1.c=x` form fields as nested objects; numeric segments become (1-based) array positions. */
export function unflatten(form: URLSearchParams): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [key, value] of form) {
    const parts = key.split('.');
    let node: Record<string, unknown> = root;
    parts.forEach((part, index) => {
      if (index === parts.length - 1) {
        node[part] = value;
        return;
      }
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    });
  }
  return root;
}

export const list = (node: unknown): unknown[] =>
  node && typeof node === 'object'
    ? Object.entries(node as Record<string, unknown>)
        .filter(([key]) => /^\d+$/.test(key))
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([, value]) => value)
    : [];
export const memberList = (node: unknown) => list((node as { member?: unknown } | undefined)?.member);
export const bool = (value: unknown) => (value === undefined ? undefined : value === 'true');
export const num = (value: unknown) => (value === undefined ? undefined : Number(value));
