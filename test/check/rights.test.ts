import {
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  ListAttachedGroupPoliciesCommand,
  ListAttachedUserPoliciesCommand,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { operatorPolicy } from '../../src/policies/operator-policy.js';
import type { PolicyDocument } from '../../src/policies/types.js';
import { ACCOUNT, IDENTITY, REGION } from '../helpers/fixtures.js';
import {
  A,
  B,
  check,
  errors,
  expectAllOk,
  expectErrors,
  INSTANCE_POLICY_ARN,
  iam,
  install,
  instanceArn,
  KEY_ARN,
  OPERATOR_POLICY_ARN,
  READ_NOTE,
  refuse,
  roleArn,
  row,
  sdkError,
  USER_ARN,
  useWorld,
  world,
} from './harness.js';

// Rights are proven with iam:SimulatePrincipalPolicy, else by reading the policies.
useWorld();

describe('without iam:SimulatePrincipalPolicy the policies are read instead, to the same verdicts', () => {
  const accessDenied = () => sdkError('AccessDenied', `User: ${USER_ARN} is not authorized to perform: iam:SimulatePrincipalPolicy`, 403);

  /** The instance policy minus kms:Decrypt (the data-key right stays for the bucket). */
  function withoutDecrypt(doc: PolicyDocument): PolicyDocument {
    return {
      ...doc,
      Statement: doc.Statement.map((s) => (s.Sid === 'SessionKey' ? { ...s, Action: ['kms:GenerateDataKey'] } : s)),
    };
  }

  it('allowed: ssm-setup’s own instance policy (managed) plus an inline one, and the operator’s group, user and inline policies', async () => {
    world.simulate = accessDenied();
    // Role 2 gets the key rights from an inline policy instead of the managed one.
    const doc = world.managed[INSTANCE_POLICY_ARN]!;
    world.managed[`arn:aws:iam::${ACCOUNT}:policy/NoKey`] = { ...doc, Statement: doc.Statement.filter((s) => s.Sid !== 'SessionKey') };
    world.attached['app-2-role'] = [`arn:aws:iam::${ACCOUNT}:policy/NoKey`];
    world.inline['app-2-role'] = {
      key: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: KEY_ARN }] },
    };
    // The operator: StartSession through a group, the data key inline, the end of sessions attached to the user.
    world.groupAttached.operators = [`arn:aws:iam::${ACCOUNT}:policy/Start`];
    world.managed[`arn:aws:iam::${ACCOUNT}:policy/Start`] = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'ssm:StartSession',
          Resource: [`arn:aws:ec2:${REGION}:${ACCOUNT}:instance/*`, `arn:aws:ssm:${REGION}:${ACCOUNT}:document/*`],
        },
      ],
    };
    world.attached.alice = [`arn:aws:iam::${ACCOUNT}:policy/End`];
    world.managed[`arn:aws:iam::${ACCOUNT}:policy/End`] = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'ssm:TerminateSession', Resource: `arn:aws:ssm:*:${ACCOUNT}:session/alice-*` },
        // A policy variable, filled in from the caller as IAM would.
        { Effect: 'Allow', Action: 'ssmmessages:OpenDataChannel', Resource: `arn:aws:ssm:*:${ACCOUNT}:session/\${aws:userid}-*` },
      ],
    };
    world.inline.alice = { key: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: KEY_ARN }] } };

    const r = await check();
    expectAllOk(r);
    expect(r.targets.every((t) => t.ready)).toBe(true);
    for (const f of [...row(r, A).findings, ...row(r, B).findings].filter((x) => x.check === 'role-rights')) expect(f.detail.endsWith(READ_NOTE)).toBe(true);
    for (const f of r.operator.filter((x) => x.check === 'operator')) expect(f.detail.endsWith(READ_NOTE)).toBe(true);
    // Tried once per principal, then read.
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input.PolicySourceArn)).toEqual([
      roleArn('app-1-role'),
      roleArn('app-2-role'),
      USER_ARN,
    ]);
    expect(iam).toHaveReceivedCommandWith(GetRolePolicyCommand, { RoleName: 'app-2-role', PolicyName: 'key' });
    expect(iam).toHaveReceivedCommandWith(GetPolicyVersionCommand, { PolicyArn: INSTANCE_POLICY_ARN, VersionId: 'v2' });
    expect(iam).toHaveReceivedCommandWith(ListAttachedGroupPoliciesCommand, { GroupName: 'operators' });
    expect(iam).toHaveReceivedCommandWith(GetUserPolicyCommand, { UserName: 'alice', PolicyName: 'key' });
  });

  it('denied: a role lacking kms:Decrypt gets the same error and fix as through the simulator', async () => {
    world.simulate = refuse(roleArn('app-1-role'), 'kms:Decrypt');
    const simulated = errors(row(await check(), A).findings);

    install();
    world.simulate = accessDenied();
    world.managed[`arn:aws:iam::${ACCOUNT}:policy/NoDecrypt`] = withoutDecrypt(world.managed[INSTANCE_POLICY_ARN]!);
    world.attached['app-1-role'] = [`arn:aws:iam::${ACCOUNT}:policy/NoDecrypt`];
    const r = await check();
    const read = errors(row(r, A).findings);

    expect(simulated).toHaveLength(1);
    expect(read).toEqual(simulated.map((f) => ({ ...f, detail: `${f.detail}${READ_NOTE}` })));
    expect(row(r, A).ready).toBe(false);
    expect(row(r, B).ready).toBe(true);
  });

  it('denied: an explicit Deny in an inline policy wins over the managed Allow', async () => {
    world.simulate = accessDenied();
    world.inline['app-1-role'] = { guard: { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'kms:Decrypt', Resource: '*' }] } };
    const r = await check();
    expectErrors(row(r, A).findings, [
      { check: 'role-rights', fix: `grant kms:Decrypt on ${KEY_ARN}`, detail: `kms:Decrypt on the session key: explicitly denied on ${KEY_ARN}${READ_NOTE}` },
    ]);
    expect(row(r, B).ready).toBe(true);
  });

  it('denied: the operator without kms:GenerateDataKey, read from its policies', async () => {
    world.simulate = accessDenied();
    world.managed[OPERATOR_POLICY_ARN] = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['ssm:StartSession', 'ssm:TerminateSession', 'ssmmessages:OpenDataChannel'], Resource: '*' }],
    };
    const r = await check();
    expectErrors(r.operator, [
      {
        check: 'operator',
        fix: `ssm-setup run operator-policy --operator-access restricted --operator-users alice (or grant kms:GenerateDataKey on ${KEY_ARN})`,
        detail: `kms:GenerateDataKey on the session key: not allowed on ${KEY_ARN}${READ_NOTE}`,
      },
    ]);
  });

  it('denied: the operator without ssmmessages:OpenDataChannel (StartSession would succeed, the session then fails)', async () => {
    world.simulate = accessDenied();
    world.managed[OPERATOR_POLICY_ARN] = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['ssm:StartSession', 'ssm:TerminateSession', 'kms:GenerateDataKey'], Resource: '*' }],
    };
    const r = await check();
    const session = `arn:aws:ssm:${REGION}:${ACCOUNT}:session/${IDENTITY.userId}-0123456789abcdef0`;
    expectErrors(r.operator, [
      {
        check: 'operator',
        fix: `ssm-setup run operator-policy --operator-access restricted --operator-users alice (or grant ssmmessages:OpenDataChannel on ${session})`,
        detail: `opening the data channel of its own sessions (ssmmessages:OpenDataChannel): not allowed on ${session}${READ_NOTE}`,
      },
    ]);
  });

  it('an emulator without the API (HTML error page → XML parse error) also falls back', async () => {
    world.simulate = Object.assign(new Error('Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.'), {
      name: 'Error',
      $metadata: { httpStatusCode: 500 },
      message: '@aws-sdk XML parse error',
    });
    const r = await check();
    expectAllOk(r);
    expect(
      row(r, A)
        .findings.filter((f) => f.check === 'role-rights')
        .every((f) => f.detail.endsWith(READ_NOTE)),
    ).toBe(true);
  });

  it('a conditional grant cannot be proven: a warning, not an error (ssm-setup’s restricted operator policy)', async () => {
    world.simulate = accessDenied();
    world.managed[OPERATOR_POLICY_ARN] = operatorPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access: 'restricted' });
    const r = await check();
    expect(errors(r.operator)).toEqual([]);
    const start = r.operator.find((f) => f.detail.startsWith('ssm:StartSession on the targets'))!;
    expect(start).toMatchObject({
      status: 'warning',
      fix: `ssm-setup run operator-policy --operator-access restricted --operator-users alice (or grant ssm:StartSession on ${instanceArn(A)}, ${instanceArn(B)})`,
    });
    expect(start.detail).toBe(`ssm:StartSession on the targets: could not be proven${READ_NOTE}`);
    expect(r.operator.find((f) => f.detail.startsWith('kms:GenerateDataKey'))!.status).toBe('ok');
  });

  it('policies that cannot be read either: warnings, not errors', async () => {
    world.simulate = accessDenied();
    iam.on(ListAttachedUserPoliciesCommand).rejects(accessDenied());
    const r = await check();
    expect(r.operator.filter((f) => f.check === 'operator').map((f) => f.status)).toEqual(['warning', 'warning', 'warning', 'warning', 'warning']);
    expect(r.targets.every((t) => t.ready)).toBe(true);
  });

  it('another error of the simulator is not swallowed', async () => {
    world.simulate = sdkError('ThrottlingException', 'Rate exceeded', 400);
    await expect(check()).rejects.toThrow('Rate exceeded');
  });
});

// ---------------------------------------------------------------------------------------------
