import type { PolicyDocument } from './types.js';

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
