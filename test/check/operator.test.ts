import { GetPolicyCommand, GetRoleCommand, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { beforeEach, describe, expect, it } from 'vitest';
import { runChecks } from '../../src/check/index.js';
import { operatorFindings, operatorFix, operatorNeeds } from '../../src/check/operator.js';
import type { Finding } from '../../src/core/report.js';
import type { StepContext } from '../../src/core/step.js';
import { operatorPolicy } from '../../src/policies/operator-policy.js';
import { PREFERENCES_DOCUMENT } from '../../src/policies/preferences-document.js';
import { ACCOUNT, IDENTITY, makeContext, REGION } from '../helpers/fixtures.js';
import {
  B,
  check,
  expectErrors,
  expectSection,
  iam,
  instanceArn,
  KEY_ARN,
  OPERATOR_POLICY_ARN,
  problems,
  refuse,
  type SectionCase,
  sdkError,
  targetsOf,
  USER_ARN,
  useWorld,
  world,
} from './harness.js';

// The operator section: the caller's own rights to start, encrypt and end its sessions.
useWorld();
// The rights are asserted on an operator policy that denies the unlogged sessions, so that its
// warning (the last describe) stays out of them.
beforeEach(() => {
  world.managed[OPERATOR_POLICY_ARN] = operatorPolicy({
    partition: 'aws',
    account: ACCOUNT,
    region: REGION,
    keyArn: KEY_ARN,
    access: 'full',
    denyUnlogged: true,
  });
});

const OPERATOR_CASES: readonly SectionCase[] = [
  {
    name: 'the operator lacks kms:GenerateDataKey on the session key',
    breakIt: (w) => (w.simulate = refuse(USER_ARN, 'kms:GenerateDataKey')),
    section: 'operator',
    errors: [
      {
        check: 'operator',
        fix: `ssm-setup run operator-policy --operator-access restricted --operator-users alice (or grant kms:GenerateDataKey on ${KEY_ARN})`,
        detail: `kms:GenerateDataKey on the session key: not allowed on ${KEY_ARN}`,
      },
    ],
  },
  {
    name: 'the operator may not start sessions with the preferences document',
    breakIt: (w) => (w.simulate = refuse(USER_ARN, 'ssm:StartSession', `arn:aws:ssm:${REGION}:${ACCOUNT}:document/${PREFERENCES_DOCUMENT}`)),
    section: 'operator',
    errors: [
      {
        check: 'operator',
        fix: `ssm-setup run operator-policy --operator-access restricted --operator-users alice (or grant ssm:StartSession on arn:aws:ssm:${REGION}:${ACCOUNT}:document/${PREFERENCES_DOCUMENT})`,
      },
    ],
  },
  {
    name: 'the operator may not end its own sessions',
    breakIt: (w) => (w.simulate = refuse(USER_ARN, 'ssm:TerminateSession')),
    section: 'operator',
    errors: [
      {
        check: 'operator',
        fix: /^ssm-setup run operator-policy --operator-access restricted --operator-users alice \(or grant ssm:TerminateSession on arn:aws:ssm:eu-west-1:123456789012:session\/alice-/,
      },
    ],
  },
];

describe('each single broken link of the operator turns that section to error, with the fix', () => {
  it.each(OPERATOR_CASES)('$name', expectSection);

  it('the operator denied ssm:StartSession on one target names that target, not the other', async () => {
    world.simulate = refuse(USER_ARN, 'ssm:StartSession', instanceArn(B));
    const r = await check();
    // Simulation answers per action: which of the instances is refused is in ResourceSpecificResults.
    expectErrors(r.operator, [
      {
        check: 'operator',
        fix: `ssm-setup run operator-policy --operator-access restricted --operator-users alice (or grant ssm:StartSession on ${instanceArn(B)})`,
        detail: `ssm:StartSession on the targets: not allowed on ${instanceArn(B)}`,
      },
    ]);
  });

  it('an assumed role is checked as its role, path included', async () => {
    const ctx: StepContext = {
      ...(await makeContext()),
      identity: { ...IDENTITY, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Ops/alice@example.com`, userId: 'AROAOPS:alice@example.com' },
    };
    const r = await runChecks(ctx, targetsOf());
    expect(iam).toHaveReceivedCommandWith(GetRoleCommand, { RoleName: 'Ops' });
    const op = iam
      .commandCalls(SimulatePrincipalPolicyCommand)
      .map((c) => c.args[0].input)
      .filter((s) => s.ActionNames?.[0]?.startsWith('ssm:'));
    expect(new Set(op.map((s) => s.PolicySourceArn))).toEqual(new Set([`arn:aws:iam::${ACCOUNT}:role/team/Ops`]));
    expect(problems(r.operator)).toEqual([]);
  });
});

describe('operatorNeeds and an unknown principal', () => {
  it('StartSession on the targets by 50, then the document, the data key when there is one, its data channel, the end of its own sessions', () => {
    const many = Array.from({ length: 60 }, (_, n) => ({ ...targetsOf()[0]!, id: `i-${n.toString(16).padStart(17, '0')}` }));
    const needs = operatorNeeds({ identity: IDENTITY, region: REGION }, many, undefined);
    expect(needs.map((n) => [n.what, n.resources.length])).toEqual([
      ['ssm:StartSession on the targets', 50],
      ['ssm:StartSession on the targets', 10],
      [`ssm:StartSession with ${PREFERENCES_DOCUMENT}`, 1],
      ['opening the data channel of its own sessions (ssmmessages:OpenDataChannel)', 1],
      ['ending its own sessions (ssm:TerminateSession)', 1],
    ]);
  });

  it('a caller that is neither a user nor an assumed role: a warning, nothing simulated', async () => {
    const ctx: StepContext = { ...(await makeContext()), identity: { ...IDENTITY, arn: `arn:aws:sts::${ACCOUNT}:federated-user/bob` } };
    expect(await operatorFindings(ctx, targetsOf(), undefined)).toEqual([
      { check: 'operator', status: 'warning', detail: `cannot check the rights of arn:aws:sts::${ACCOUNT}:federated-user/bob` },
    ]);
    expect(iam).not.toHaveReceivedCommand(SimulatePrincipalPolicyCommand);
  });
});

describe('operatorFix: the command that gives the caller the operator policy', () => {
  it('an IAM user gets it directly; a role through the policy ssm-setup makes', async () => {
    const ctx = await makeContext({ operatorAccess: 'full' });
    expect(operatorFix(ctx, `arn:aws:iam::${ACCOUNT}:user/alice`)).toBe('ssm-setup run operator-policy --operator-access full --operator-users alice');
    expect(operatorFix(ctx, `arn:aws:iam::${ACCOUNT}:role/ops/Admins`)).toBe(
      `ssm-setup run operator-policy --operator-access full, then aws iam attach-role-policy --role-name Admins --policy-arn arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerOperatorPolicy`,
    );
  });
});

describe('the operator policy and the sessions never content-logged (SSH, SCP, port forwarding)', () => {
  const policy = (access: 'restricted' | 'full', denyUnlogged: boolean) =>
    operatorPolicy({ partition: 'aws', account: ACCOUNT, region: REGION, keyArn: KEY_ARN, access, denyUnlogged });
  const unlogged = (r: { operator: readonly Finding[] }) => r.operator.filter((f) => f.check === 'unlogged-sessions');

  it('the policy allows AWS-StartSSHSession (restricted): one warning, naming it, with the switch that denies it', async () => {
    world.managed[OPERATOR_POLICY_ARN] = policy('restricted', false);
    const found = unlogged(await check());
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ status: 'warning', fix: 'ssm-setup run operator-policy --operator-access restricted --deny-unlogged-sessions' });
    expect(found[0]!.detail).toContain('AWS-StartSSHSession');
    expect(found[0]!.detail).not.toContain('AWS-StartPortForwardingSession');
  });

  it('full access: the warning names port forwarding too', async () => {
    world.managed[OPERATOR_POLICY_ARN] = policy('full', false);
    const found = unlogged(await check({ operatorAccess: 'full' }));
    expect(found.map((f) => f.status)).toEqual(['warning']);
    expect(found[0]!.detail).toContain('AWS-StartPortForwardingSessionToRemoteHost');
    expect(found[0]!.fix).toContain('--operator-access full');
  });

  it('with --deny-unlogged-sessions deployed, no warning: every variant', async () => {
    for (const access of ['restricted', 'full'] as const) {
      world.managed[OPERATOR_POLICY_ARN] = policy(access, true);
      expect(unlogged(await check()), access).toEqual([]);
    }
  });

  it('no operator policy, or one that cannot be read: nothing said', async () => {
    delete world.managed[OPERATOR_POLICY_ARN];
    expect(unlogged(await check())).toEqual([]);
    world.managed[OPERATOR_POLICY_ARN] = policy('restricted', false);
    iam.on(GetPolicyCommand, { PolicyArn: OPERATOR_POLICY_ARN }).rejects(sdkError('AccessDenied', 'not authorized to perform: iam:GetPolicy', 403));
    expect(unlogged(await check())).toEqual([]);
  });

  it('read from the policy, not the caller: an administrator allowed everything gets no warning once the policy denies them', async () => {
    world.managed[OPERATOR_POLICY_ARN] = policy('full', true);
    world.simulate = () => 'allowed';
    const r = await check();
    expect(unlogged(r)).toEqual([]);
    expect(iam).toHaveReceivedCommandWith(GetPolicyCommand, { PolicyArn: OPERATOR_POLICY_ARN });
  });
});
