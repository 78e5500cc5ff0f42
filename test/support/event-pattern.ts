/**
 * An evaluator of EventBridge event patterns, following EventBridge's matching rules: every field of
 * the pattern must match; a pattern field's array is an OR of matchers; an event array matches when any
 * element does; numeric matching applies only to JSON numbers and compares them as numbers; exact
 * matching of a number compares numbers, not strings.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
type Matcher =
  | string
  | number
  | boolean
  | null
  | { numeric: (string | number)[] }
  | { prefix: string }
  | { suffix: string }
  | { exists: boolean }
  | { 'anything-but': unknown };

const COMPARATORS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function matchesNumeric(value: unknown, spec: (string | number)[]): boolean {
  if (typeof value !== 'number') return false;
  for (let i = 0; i < spec.length; i += 2) {
    const compare = COMPARATORS[String(spec[i])];
    const bound = spec[i + 1];
    if (!compare || typeof bound !== 'number')
      throw new Error(`invalid numeric matcher ${JSON.stringify(spec)}`);
    if (!compare(value, bound)) return false;
  }
  return true;
}

function matchesOne(value: unknown, matcher: Matcher): boolean {
  if (matcher === null || typeof matcher !== 'object') return value === matcher;
  if ('numeric' in matcher) return matchesNumeric(value, matcher.numeric);
  if ('prefix' in matcher) return typeof value === 'string' && value.startsWith(matcher.prefix);
  if ('suffix' in matcher) return typeof value === 'string' && value.endsWith(matcher.suffix);
  if ('anything-but' in matcher) {
    const excluded = Array.isArray(matcher['anything-but'])
      ? matcher['anything-but']
      : [matcher['anything-but']];
    return value !== undefined && !excluded.includes(value);
  }
  throw new Error(`unsupported matcher ${JSON.stringify(matcher)}`);
}

function matchesField(value: unknown, matchers: Matcher[]): boolean {
  const exists = matchers.find(
    (m): m is { exists: boolean } => typeof m === 'object' && m !== null && 'exists' in m,
  );
  if (exists) return (value !== undefined) === exists.exists;
  if (value === undefined) return false;
  const values = Array.isArray(value) ? value : [value];
  return values.some((v) => matchers.some((matcher) => matchesOne(v, matcher)));
}

export function matchesPattern(event: unknown, pattern: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, sub]) => {
    const value = (event as Record<string, unknown> | null)?.[key];
    if (Array.isArray(sub)) return matchesField(value, sub as Matcher[]);
    if (typeof sub === 'object' && sub !== null) {
      return (
        typeof value === 'object' && value !== null && matchesPattern(value, sub as Record<string, unknown>)
      );
    }
    throw new Error(`pattern field ${key} must be an array or an object`);
  });
}
