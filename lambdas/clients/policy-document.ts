/**
 * An inline policy document as GetRolePolicy returns it: IAM URL-encodes it (RFC 3986); an
 * AWS-compatible store may return the JSON as it is, which decoding would change wherever it holds `%`.
 */
export const policyDocumentOf = (returned: string | undefined): string => {
  const text = returned ?? '';
  return text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
};
