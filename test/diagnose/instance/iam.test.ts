import { ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../../src/diagnose/index.js';
import { checkIam, checkRights } from '../../../src/diagnose/instance/iam.js';
import { ACCOUNT } from '../../helpers/fixtures.js';
import { CORE, ctx, diagnoseOne, finding, GENERIC, iam, iamWorld, instance, profileArn, readsOf, useWorld } from '../harness.js';

useWorld();

describe('instance profile and role rights, in a diagnosis', () => {
  it('no instance profile: the instance-role step, or DHMC', async () => {
    const d = await diagnoseOne(instance({ profileArn: undefined }));
    expect(d.cause).toMatch(/^no instance profile/);
    expect(d.fix[0]).toBe('ssm-setup run instance-role --instance-ids i-0000000000000001');
    expect(d.fix[1]).toMatch(/Default Host Management Configuration.*--dhmc/);
    expect(finding(d, CHECKS.profile)?.status).toBe('error');
    expect(finding(d, CHECKS.rights)).toBeUndefined();
    expect(iam.calls()).toHaveLength(0);
  });

  it('a profile that no longer exists is an error', async () => {
    const d = await diagnoseOne(instance({ profileArn: profileArn('deleted-profile') }));
    expect(d.cause).toBe('the instance profile deleted-profile no longer exists');
    expect(finding(d, CHECKS.profile)?.status).toBe('error');
  });

  it('a role without the agent rights: attach the policy', async () => {
    iamWorld.attached['good-role'] = ['arn:aws:iam::aws:policy/ReadOnlyAccess'];
    const d = await diagnoseOne(instance());
    expect(d.cause).toBe('the role good-role lacks the rights the agent needs to register');
    expect(d.fix).toEqual([
      'ssm-setup run instance-role --instance-ids i-0000000000000001',
      `or: aws iam attach-role-policy --role-name good-role --policy-arn ${CORE}`,
    ]);
    expect(finding(d, CHECKS.rights)).toMatchObject({ status: 'error', detail: expect.stringContaining('SSMSessionManagerInstancePolicy') });
    // Inline policies were looked at before concluding.
    expect(iam).toHaveReceivedCommandTimes(ListRolePoliciesCommand, 1);
  });

  it('a role with only inline policies: a warning (they may grant it), not the cause', async () => {
    iamWorld.attached['good-role'] = [];
    iamWorld.inline['good-role'] = ['ssm-inline'];
    const d = await diagnoseOne(instance());
    expect(finding(d, CHECKS.rights)).toMatchObject({ status: 'warning', detail: expect.stringContaining('ssm-inline') });
    expect(d.findings.filter((f) => f.status === 'error')).toEqual([]);
    expect(d.cause).toBe(`${GENERIC} (some checks were inconclusive: see the warnings)`);
  });

  it.each([
    ['the DHMC default policy', ['arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy'], undefined],
    ['the ssm-setup policy by its default name', [`arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`], undefined],
    [
      'the ssm-setup policy given by ARN',
      [`arn:aws:iam::${ACCOUNT}:policy/team/SessionsForInstances`],
      `arn:aws:iam::${ACCOUNT}:policy/team/SessionsForInstances`,
    ],
  ])('accepts %s and reads no inline policy', async (_, attached, instancePolicyArn) => {
    iamWorld.attached['good-role'] = attached;
    const d = await diagnoseOne(instance(), { ...ctx, instancePolicyArn });
    expect(finding(d, CHECKS.rights)?.status).toBe('ok');
    expect(iam).not.toHaveReceivedCommand(ListRolePoliciesCommand);
  });

  it('with another instance policy given, the default-named one no longer counts', async () => {
    iamWorld.attached['good-role'] = [`arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy`];
    const d = await diagnoseOne(instance(), { ...ctx, instancePolicyArn: `arn:aws:iam::${ACCOUNT}:policy/Other` });
    expect(finding(d, CHECKS.rights)?.status).toBe('error');
  });
});

describe('checkIam and checkRights (pure)', () => {
  const t = instance();
  const RUN = 'ssm-setup run instance-role --instance-ids i-0000000000000001';

  it('a profile that could not be read: the profile is ok, the rights a warning naming the action', () => {
    const profiles = new Map([[profileArn('good-profile'), { denied: 'iam:GetInstanceProfile' }]]);
    expect(checkIam(t, readsOf({ profiles }), ctx)).toEqual([
      { findings: [{ check: CHECKS.profile, status: 'ok', detail: 'instance profile good-profile' }] },
      { findings: [{ check: CHECKS.rights, status: 'warning', detail: 'could not read instance profile good-profile (missing iam:GetInstanceProfile)' }] },
    ]);
  });

  it('a profile without a role: the cause, add a role or run the instance-role step', () => {
    const profiles = new Map([[profileArn('good-profile'), { name: 'good-profile', roles: [] }]]);
    const [checked, ...rest] = checkIam(t, readsOf({ profiles }), ctx);
    const add = 'aws iam add-role-to-instance-profile --instance-profile-name good-profile --role-name <role>';
    expect(rest).toEqual([]);
    expect(checked).toEqual({
      findings: [{ check: CHECKS.profile, status: 'error', detail: 'instance profile good-profile has no role', fix: add }],
      cause: { text: 'the instance profile good-profile has no role', fix: [add, `or: ${RUN}`] },
    });
  });

  it('the deprecated AmazonEC2RoleforSSM: a warning with the attach command, not a cause', () => {
    const checked = checkRights('r', { attached: ['arn:aws:iam::aws:policy/AmazonEC2RoleforSSM'] }, RUN, ctx);
    expect(checked).toEqual({
      findings: [
        {
          check: CHECKS.rights,
          status: 'warning',
          detail: 'role r relies on AmazonEC2RoleforSSM, which is deprecated and grants far more',
          fix: `aws iam attach-role-policy --role-name r --policy-arn ${CORE}`,
        },
      ],
    });
  });

  it('a role that was not read is a warning', () => {
    expect(checkRights('r', undefined, RUN, ctx)).toEqual({ findings: [{ check: CHECKS.rights, status: 'warning', detail: 'role r was not read' }] });
  });

  it('the agent policies are those of the partition', () => {
    const cn = 'arn:aws-cn:iam::aws:policy/AmazonSSMManagedInstanceCore';
    expect(checkRights('r', { attached: [cn] }, RUN, { ...ctx, partition: 'aws-cn' }).findings[0]).toMatchObject({
      status: 'ok',
      detail: 'role r has AmazonSSMManagedInstanceCore',
    });
    expect(checkRights('r', { attached: [cn], inline: [] }, RUN, ctx).cause?.text).toBe('the role r lacks the rights the agent needs to register');
  });
});
