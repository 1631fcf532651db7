/**
 * Turning the output of the policy builders into CloudFormation. The builders take concrete
 * values (ARNs, an account id); for a template they are given placeholders in `Fn::Sub` syntax
 * (`${AWS::AccountId}`, `${SessionKey.Arn}`, `${LogBucket}`) and `cfn()` then wraps every string
 * holding one in `{ "Fn::Sub": … }`, so a template grants exactly what the tool would create,
 * from the same code.
 */

/** `{ "Ref": "AWS::NoValue" }`: removes the property (or list item) it stands for. */
export const NO_VALUE = { Ref: 'AWS::NoValue' } as const;

export type IsReference = (name: string) => boolean;

/**
 * A placeholder for a builder parameter typed as something else than a string (a number of
 * minutes): the builders only interpolate such values (`String(n)`), so the placeholder text
 * comes through unchanged.
 */
export const placeholder = <T>(text: string): T => text as unknown as T;

/** An intrinsic function or a Ref, which `cfn` and `branch` treat as one value. */
export function isIntrinsic(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
}

/**
 * Every string holding a `${name}` that `isRef` accepts becomes a reference: `{ Ref }` or
 * `{ Fn::GetAtt }` when it is nothing but that placeholder, `{ Fn::Sub }` otherwise. In a
 * `Fn::Sub` string any other `${…}` (an IAM policy variable such as `${aws:username}`) is
 * written `${!…}`, which CloudFormation turns back into `${…}`. Strings without a reference
 * are left exactly as they are.
 */
export function cfn(value: unknown, isRef: IsReference): unknown {
  if (typeof value === 'string') return cfnString(value, isRef);
  if (Array.isArray(value)) return value.map((v) => cfn(v, isRef));
  if (typeof value === 'object' && value !== null && !isIntrinsic(value)) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, cfn(v, isRef)]),
    );
  }
  return value;
}

function cfnString(s: string, isRef: IsReference): unknown {
  const whole = /^\$\{([^}]+)\}$/.exec(s)?.[1];
  if (whole && isRef(whole)) {
    const dot = whole.indexOf('.');
    return dot < 0 ? { Ref: whole } : { 'Fn::GetAtt': [whole.slice(0, dot), whole.slice(dot + 1)] };
  }
  let refs = 0;
  const text = s.replace(/\$\{([^}]*)\}/g, (m, name: string) => {
    if (isRef(name)) {
      refs++;
      return m;
    }
    return name.startsWith('!') ? m : `\${!${name}}`;
  });
  return refs ? { 'Fn::Sub': text } : s;
}

/**
 * One value for two outcomes of a condition: where they are equal it is kept as it is, where
 * they differ it becomes `Fn::If` as deep down as possible (a member that only one side has
 * becomes `Fn::If` with `AWS::NoValue`; lists of different lengths differ as a whole).
 */
export function branch(condition: string, whenTrue: unknown, whenFalse: unknown): unknown {
  if (sameValue(whenTrue, whenFalse)) return whenTrue;
  if (isRecord(whenTrue) && isRecord(whenFalse)) {
    const keys = [...new Set([...Object.keys(whenTrue), ...Object.keys(whenFalse)])];
    return Object.fromEntries(
      keys.map((k) => {
        if (!(k in whenFalse)) return [k, { 'Fn::If': [condition, whenTrue[k], NO_VALUE] }];
        if (!(k in whenTrue)) return [k, { 'Fn::If': [condition, NO_VALUE, whenFalse[k]] }];
        return [k, branch(condition, whenTrue[k], whenFalse[k])];
      }),
    );
  }
  if (Array.isArray(whenTrue) && Array.isArray(whenFalse) && whenTrue.length === whenFalse.length) {
    return whenTrue.map((v, i) => branch(condition, v, whenFalse[i]));
  }
  return { 'Fn::If': [condition, whenTrue, whenFalse] };
}

/**
 * The value for every combination of the conditions, as one value with `Fn::If` where the
 * combinations differ. `build` receives whether each condition holds.
 */
export function byConditions(
  conditions: readonly string[],
  build: (holds: Readonly<Record<string, boolean>>) => unknown,
  holds: Record<string, boolean> = {},
): unknown {
  const [first, ...rest] = conditions;
  if (first === undefined) return build(holds);
  return branch(first, byConditions(rest, build, { ...holds, [first]: true }), byConditions(rest, build, { ...holds, [first]: false }));
}

/**
 * What CloudFormation makes of a value once the conditions are known: every `Fn::If` replaced
 * by its chosen side, `AWS::NoValue` members and list items removed.
 */
export function resolveConditions(value: unknown, holds: Readonly<Record<string, boolean>>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveConditions(v, holds)).filter((v) => !isNoValue(v));
  if (typeof value !== 'object' || value === null) return value;
  const fnIf = (value as Record<string, unknown>)['Fn::If'];
  if (isIntrinsic(value) && Array.isArray(fnIf)) {
    const [name, yes, no] = fnIf as [string, unknown, unknown];
    if (!(name in holds)) throw new Error(`resolveConditions: no value for condition ${name}`);
    return resolveConditions(holds[name] ? yes : no, holds);
  }
  if (isIntrinsic(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .map(([k, v]) => [k, resolveConditions(v, holds)] as const)
      .filter(([, v]) => !isNoValue(v)),
  );
}

const isNoValue = (v: unknown) => isIntrinsic(v) && (v as { Ref?: string }).Ref === 'AWS::NoValue';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !isIntrinsic(v);
const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
