import type { PolicyDocument, PolicyStatement } from './types.js';

export type Decision = 'allowed' | 'denied' | 'implicit-deny' | 'conditional';

/** IAM-style wildcard match (`*` any run, `?` one character), case-insensitive for actions. */
function glob(pattern: string, value: string, ignoreCase: boolean): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    ignoreCase ? 'i' : '',
  );
  return re.test(value);
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A resource pattern with the policy variables IAM would fill in (`${aws:username}`); unknown ones stay and match nothing. */
const resolve = (pattern: string, vars: Readonly<Record<string, string>>) => pattern.replace(/\$\{([^}]+)\}/g, (whole, name: string) => vars[name] ?? whole);

/**
 * A coarse reading of identity policies for one action on one resource, used where
 * iam:SimulatePrincipalPolicy is not allowed: explicit Deny wins, then Allow. Policy variables in
 * resources are filled in from `vars` (`aws:username`, `aws:userid`). Statements with
 * conditions, NotAction or NotResource are not evaluated: when only such statements would
 * allow, the answer is `conditional` (cannot tell).
 */
export function evaluate(policies: readonly PolicyDocument[], action: string, resource: string, vars: Readonly<Record<string, string>> = {}): Decision {
  let decision: Decision = 'implicit-deny';
  for (const s of policies.flatMap((p) => p.Statement)) {
    const raw = s as unknown as Record<string, unknown>;
    const actionMatches = list(s.Action).some((a) => glob(a, action, true));
    const resourceMatches = list(s.Resource).some((r) => glob(resolve(r, vars), resource, false));
    const opaque = raw.NotAction !== undefined || raw.NotResource !== undefined;
    if (s.Effect === 'Deny' && actionMatches && resourceMatches && !s.Condition) return 'denied';
    if (s.Effect === 'Allow') {
      if (opaque || (actionMatches && resourceMatches && s.Condition)) decision = decision === 'allowed' ? 'allowed' : 'conditional';
      else if (actionMatches && resourceMatches) decision = 'allowed';
    }
  }
  return decision;
}

/** One request against a resource policy (a bucket or key policy): who, what, on what, and the context keys known. */
export interface ResourceRequest {
  /** The IAM role or user ARN (a role's sessions are matched by their role). */
  readonly principal: string;
  readonly account: string;
  readonly partition: string;
  readonly action: string;
  readonly resource: string;
  /** Condition keys whose value is known (`aws:SecureTransport`: `true` for the agent and the CLI). Others make a condition undecidable. */
  readonly context?: Readonly<Record<string, string>>;
}

type Match = boolean | 'unknown';
const and = (ms: Match[]): Match => (ms.includes(false) ? false : ms.includes('unknown') ? 'unknown' : true);

/** Whether a statement's Principal (or NotPrincipal) takes the request's principal; the account (root or id) stands for all of its principals. */
function principalMatches(raw: Record<string, unknown>, req: ResourceRequest): Match {
  const names = (p: unknown): string[] => (p === '*' ? ['*'] : p && typeof p === 'object' ? list((p as Record<string, string | string[]>).AWS) : []);
  const root = `arn:${req.partition}:iam::${req.account}:root`;
  const takes = (ps: string[]) => ps.some((p) => p === '*' || p === req.principal || p === root || p === req.account);
  if (raw.Principal !== undefined) return takes(names(raw.Principal));
  if (raw.NotPrincipal !== undefined) return !takes(names(raw.NotPrincipal));
  return false;
}

/** The operators resource-policy conditions use most (Bool, String*, Arn*, and their IfExists forms), over the known keys; anything else is undecidable. */
function conditionMatches(condition: Record<string, Record<string, string | string[]>> | undefined, context: Readonly<Record<string, string>>): Match {
  if (!condition) return true;
  return and(
    Object.entries(condition).flatMap(([operator, tests]) =>
      Object.entries(tests).map(([key, wanted]): Match => {
        // A key not known here may or may not be in the request: undecidable, IfExists or not.
        const op = operator.replace(/IfExists$/, '');
        const value = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
        if (value === undefined) return 'unknown';
        const values = list(wanted);
        const like = (p: string) => glob(p, value, false);
        const equal = (p: string) => p === value;
        const matchers: Record<string, () => boolean> = {
          Bool: () => values.some((v) => String(v).toLowerCase() === value.toLowerCase()),
          StringEquals: () => values.some(equal),
          StringNotEquals: () => !values.some(equal),
          StringEqualsIgnoreCase: () => values.some((v) => v.toLowerCase() === value.toLowerCase()),
          StringLike: () => values.some(like),
          StringNotLike: () => !values.some(like),
          ArnEquals: () => values.some(like),
          ArnLike: () => values.some(like),
          ArnNotEquals: () => !values.some(like),
          ArnNotLike: () => !values.some(like),
        };
        return matchers[op] ? matchers[op]() : 'unknown';
      }),
    ),
  );
}

/**
 * A resource policy's verdict on one request, with the statements behind it: an explicit Deny
 * that surely applies is `denied`; one that may apply (a condition on a key not known here) is
 * `conditional`; else an Allow that applies is `allowed` (for a key policy, an Allow of the
 * account means IAM policies may grant it), else `implicit-deny`. Principal, NotPrincipal,
 * Action, NotAction, Resource and NotResource are all evaluated.
 */
export function resourceDecision(doc: PolicyDocument | undefined, req: ResourceRequest): { decision: Decision; statements: PolicyStatement[] } {
  const matched: { s: PolicyStatement; m: Match }[] = [];
  for (const s of doc?.Statement ?? []) {
    const raw = s as unknown as Record<string, unknown>;
    const action =
      raw.NotAction !== undefined
        ? !list(raw.NotAction as string[]).some((a) => glob(a, req.action, true))
        : list(s.Action).some((a) => glob(a, req.action, true));
    const resource =
      raw.NotResource !== undefined
        ? !list(raw.NotResource as string[]).some((r) => glob(r, req.resource, false))
        : list(s.Resource).some((r) => glob(r, req.resource, false));
    const m = and([action, resource, principalMatches(raw, req), conditionMatches(s.Condition, req.context ?? {})]);
    if (m !== false) matched.push({ s, m });
  }
  const denies = matched.filter((x) => x.s.Effect === 'Deny');
  const sure = denies.filter((x) => x.m === true);
  if (sure.length) return { decision: 'denied', statements: sure.map((x) => x.s) };
  if (denies.length) return { decision: 'conditional', statements: denies.map((x) => x.s) };
  const allows = matched.filter((x) => x.s.Effect === 'Allow');
  if (allows.some((x) => x.m === true)) return { decision: 'allowed', statements: allows.filter((x) => x.m === true).map((x) => x.s) };
  return { decision: allows.length ? 'conditional' : 'implicit-deny', statements: allows.map((x) => x.s) };
}
