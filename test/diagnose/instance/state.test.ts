import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../../src/diagnose/index.js';
import { checkState } from '../../../src/diagnose/instance/state.js';
import { REGION } from '../../helpers/fixtures.js';
import { ctx, diagnoseOne, finding, instance, useWorld } from '../harness.js';

useWorld();

describe('the EC2 state, in a diagnosis', () => {
  it('a stopped instance: start it', async () => {
    const d = await diagnoseOne(instance({ state: 'stopped' }));
    expect(d.cause).toBe('the instance is stopped');
    expect(d.fix).toEqual([`aws ec2 start-instances --instance-ids i-0000000000000001 --region ${REGION}`]);
    expect(finding(d, CHECKS.state)).toMatchObject({ status: 'error', fix: d.fix[0] });
  });
});

describe('checkState (pure)', () => {
  const fix = `aws ec2 start-instances --instance-ids i-0000000000000001 --region ${REGION}`;

  it('running is ok, with nothing to fix', () => {
    expect(checkState(instance(), ctx)).toEqual({ findings: [{ check: CHECKS.state, status: 'ok', detail: 'running' }] });
  });

  it.each(['stopped', 'stopping'])('%s is the cause, with the start command', (s) => {
    expect(checkState(instance({ state: s }), ctx)).toEqual({
      findings: [{ check: CHECKS.state, status: 'error', detail: `${s}: only running instances register with Systems Manager`, fix }],
      cause: { text: `the instance is ${s}`, fix: [fix] },
    });
  });

  it('pending is a warning (it registers after boot); any other state a warning naming it; neither is a cause', () => {
    expect(checkState(instance({ state: 'pending' }), ctx)).toEqual({
      findings: [{ check: CHECKS.state, status: 'warning', detail: 'starting: the agent registers a minute or two after boot' }],
    });
    expect(checkState(instance({ state: 'shutting-down' }), ctx)).toEqual({
      findings: [{ check: CHECKS.state, status: 'warning', detail: 'state shutting-down' }],
    });
  });
});
