/** IAM-style policy JSON, as KMS key policies, IAM policies and bucket policies share it. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, string | string[]>;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Id?: string;
  Statement: PolicyStatement[];
}

/** Parses a policy as AWS returns it: plain JSON or URL-encoded (IAM). */
export function parsePolicy(text: string | undefined): PolicyDocument | undefined {
  if (!text) return undefined;
  const doc = JSON.parse(text.trimStart().startsWith('{') ? text : decodeURIComponent(text)) as PolicyDocument;
  return { ...doc, Statement: Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement] };
}

/** Key-order-insensitive equality of JSON values (AWS may reorder keys). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Puts `statement` into `policy` by Sid: added when missing, replaced when different, other
 * statements untouched. Returns undefined when the policy already holds it.
 */
export function mergeStatement(policy: PolicyDocument, statement: PolicyStatement): PolicyDocument | undefined {
  const i = policy.Statement.findIndex((s) => s.Sid === statement.Sid);
  if (i >= 0 && sameJson(policy.Statement[i], statement)) return undefined;
  const Statement = [...policy.Statement];
  if (i >= 0) Statement[i] = statement;
  else Statement.push(statement);
  return { ...policy, Statement };
}
