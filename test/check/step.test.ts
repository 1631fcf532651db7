import { describe, expect, it } from 'vitest';
import { checkStep } from '../../src/check/step.js';
import { makeContext, REGION } from '../helpers/fixtures.js';
import { A, B, ec2Instance, KEY_ARN, refuse, targetsOf, USER_ARN, useWorld, world } from './harness.js';

// The `check` step: run at the end of init, read-only.
useWorld();

describe('the check step at the end of init', () => {
  it('is read-only, runs after the changes, and reads the run’s targets', async () => {
    expect(checkStep.id).toBe('check');
    expect(checkStep.afterApply).toBe(true);
    const ctx = await makeContext({}, undefined, targetsOf());
    const state = await checkStep.read(ctx);
    expect(checkStep.plan(state, ctx)).toEqual([]);
    expect(state.targets.map((t) => t.instanceId)).toEqual([A, B]);
  });

  it('publishes `ready` per instance, or its first problem with the fix', async () => {
    world.net.addInstance(ec2Instance(A, 1, { IamInstanceProfile: undefined }));
    const ctx = await makeContext({}, undefined, targetsOf());
    const state = await checkStep.read(ctx);
    expect(checkStep.outputs(state)).toEqual({
      readiness: {
        [A]: `instance-profile: no instance profile (fix: ssm-setup run instance-role --instance-ids ${A})`,
        [B]: 'ready',
      },
    });
    expect(checkStep.note!(state, ctx)).toBe(`1 of 2 targets ready; connect: aws ssm start-session --target ${B} --region ${REGION}`);
  });

  it('its note lists the account and operator errors', async () => {
    world.key!.state = 'Disabled';
    const ctx = await makeContext({}, undefined, targetsOf());
    const state = await checkStep.read(ctx);
    // A broken account link stops every session: no connect command is offered.
    expect(checkStep.note!(state, ctx)).toBe(`2 of 2 targets ready\nkey: key ${KEY_ARN} is Disabled`);
  });

  it('its note lists the operator’s errors too', async () => {
    world.simulate = refuse(USER_ARN, 'kms:GenerateDataKey');
    const ctx = await makeContext({}, undefined, targetsOf());
    const state = await checkStep.read(ctx);
    expect(checkStep.note!(state, ctx)).toBe(`2 of 2 targets ready\noperator: kms:GenerateDataKey on the session key: not allowed on ${KEY_ARN}`);
  });

  it('without targets it says how to check the region', async () => {
    const ctx = await makeContext();
    const state = await checkStep.read(ctx);
    expect(checkStep.outputs(state)).toEqual({ readiness: {} });
    expect(checkStep.note!(state, ctx)).toBe('no target instances; `ssm-setup check --all` checks the whole region');
    expect(world.net.ec2.calls()).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------
