import { describe, expect, it } from 'vitest';
import { branch, byConditions, cfn, NO_VALUE, resolveConditions } from '../../../src/policies/cloudformation/intrinsics.js';
import { combinations } from './helpers.js';

describe('cfn intrinsics', () => {
  const isRef = (n: string) => n.startsWith('AWS::') || ['Param', 'Res'].includes(n.split('.')[0]!);

  it('wraps strings with references in Fn::Sub, whole references in Ref or GetAtt, and leaves the rest', () => {
    expect(cfn('${Param}', isRef)).toEqual({ Ref: 'Param' });
    expect(cfn('${AWS::Region}', isRef)).toEqual({ Ref: 'AWS::Region' });
    expect(cfn('${Res.Arn}', isRef)).toEqual({ 'Fn::GetAtt': ['Res', 'Arn'] });
    expect(cfn('arn:${AWS::Partition}:s3:::${Res}/*', isRef)).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Res}/*' });
    expect(cfn('${Res}/${aws:username}', isRef)).toEqual({ 'Fn::Sub': '${Res}/${!aws:username}' });
    expect(cfn('${aws:userid}', isRef)).toBe('${aws:userid}');
    expect(cfn('plain', isRef)).toBe('plain');
    expect(cfn({ a: ['${Param}', 1, true, null], b: undefined, c: { Ref: 'Kept' } }, isRef)).toEqual({
      a: [{ Ref: 'Param' }, 1, true, null],
      c: { Ref: 'Kept' },
    });
  });

  it('branch: Fn::If only where the two sides differ; NoValue for a member one side lacks', () => {
    expect(branch('C', { a: 1, b: [1, 2], c: 'x' }, { a: 1, b: [1, 3], d: 'y' })).toEqual({
      a: 1,
      b: [1, { 'Fn::If': ['C', 2, 3] }],
      c: { 'Fn::If': ['C', 'x', NO_VALUE] },
      d: { 'Fn::If': ['C', NO_VALUE, 'y'] },
    });
    expect(branch('C', [1], [1, 2])).toEqual({ 'Fn::If': ['C', [1], [1, 2]] });
    expect(branch('C', { Ref: 'A' }, { Ref: 'B' })).toEqual({ 'Fn::If': ['C', { Ref: 'A' }, { Ref: 'B' }] });
    expect(branch('C', 'same', 'same')).toBe('same');
  });

  it('byConditions and resolveConditions give back every combination', () => {
    const build = (on: Readonly<Record<string, boolean>>) => ({ x: on.A ? 'a' : '-', y: on.B ? ['b'] : [], z: 1, ...(on.A && on.B ? { both: true } : {}) });
    const joined = byConditions(['A', 'B'], build);
    for (const holds of combinations(['A', 'B'])) expect(resolveConditions(joined, holds)).toEqual(build(holds));
    expect(() => resolveConditions(joined, {})).toThrow(/no value for condition A/);
  });
});
