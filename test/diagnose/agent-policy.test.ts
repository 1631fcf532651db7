import { describe, expect, it } from 'vitest';
import { agentPolicy } from '../../src/diagnose/agent-policy.js';
import { ACCOUNT } from '../helpers/fixtures.js';
import { ctx } from './harness.js';

describe('agentPolicy', () => {
  const core = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore';
  const deprecated = 'arn:aws:iam::aws:policy/AmazonEC2RoleforSSM';
  const ours = `arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`;

  it('an AWS managed agent policy, the ssm-setup policy, or a customer policy of its name; the deprecated one last', () => {
    expect(agentPolicy([deprecated, core], ctx)).toEqual({ arn: core, deprecated: false });
    expect(agentPolicy([ours], ctx)).toEqual({ arn: ours, deprecated: false });
    expect(agentPolicy([`arn:aws:iam::${ACCOUNT}:policy/team/SSMSessionManagerInstancePolicy`], ctx)?.deprecated).toBe(false);
    expect(agentPolicy([deprecated], ctx)).toEqual({ arn: deprecated, deprecated: true });
    expect(agentPolicy(['arn:aws:iam::aws:policy/ReadOnlyAccess'], ctx)).toBeUndefined();
  });

  it('an AWS managed policy that only shares the ssm-setup name does not count', () => {
    expect(agentPolicy(['arn:aws:iam::aws:policy/SSMSessionManagerInstancePolicy'], ctx)).toBeUndefined();
  });
});
