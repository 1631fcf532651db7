import { SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { PREFERENCES_DOCUMENT } from '../../src/policies/preferences-document.js';
import { ACCOUNT, IDENTITY, REGION } from '../helpers/fixtures.js';
import {
  A,
  B,
  BUCKET,
  check,
  checks,
  ec2Instance,
  expectAllOk,
  GROUP,
  GROUP_ARN,
  iam,
  instanceArn,
  KEY_ARN,
  kms,
  logs,
  PREFIX,
  RECENT_AGENT,
  roleArn,
  row,
  s3,
  ssm,
  USER_ARN,
  useWorld,
  world,
} from './harness.js';

// The readiness report on a fully set-up account: every link of the chain, in the order of the row.
useWorld();

describe('check on a fully set-up account', () => {
  it('reports every target ready, every finding ok, and the connect command for the first ready one', async () => {
    const r = await check();
    expect(r.targets.map((t) => [t.instanceId, t.name, t.ready])).toEqual([
      [A, 'app-1', true],
      [B, 'app-2', true],
    ]);
    expectAllOk(r);
    expect(r.connect).toBe(`aws ssm start-session --target ${A} --region ${REGION}`);
  });

  it('checks every link of the chain, in the order of the row', async () => {
    const r = await check();
    const a = row(r, A).findings;
    // state, profile, role rights (one per requirement), managed, agent, network, connection.
    expect(checks(a)).toEqual([
      'state',
      'instance-profile',
      'role-rights',
      'role-rights',
      'role-rights',
      'role-rights',
      'role-rights',
      'role-rights',
      'bucket-policy',
      'key-policy',
      'managed',
      'agent-version',
      'route',
      'endpoint:ssm',
      'endpoint:ssmmessages',
      'endpoint:ec2messages',
      'endpoint:kms',
      'endpoint:logs',
      'endpoint:s3',
      'instance-sg',
      'nacl',
      'imds',
      'connection',
    ]);
    expect(a.find((f) => f.check === 'route')!.detail).toBe('rtb-1 sends 0.0.0.0/0 to nat-1');
    expect(a.find((f) => f.check === 'managed')!.detail).toBe(`managed, Online, agent ${RECENT_AGENT}`);
    expect(a.find((f) => f.check === 'agent-version')!.detail).toBe(`agent ${RECENT_AGENT} supports KMS encryption, SSH/port forwarding, CloudWatch streaming`);
    expect(a.find((f) => f.check === 'connection')!.detail).toBe('GetConnectionStatus: connected');
    expect(a.filter((f) => f.check === 'role-rights').map((f) => f.detail)).toEqual([
      'session channels (ssmmessages, ssm:UpdateInstanceInformation)',
      'kms:Decrypt on the session key',
      `s3:PutObject on s3://${BUCKET}/${PREFIX}`,
      's3:GetEncryptionConfiguration on the bucket',
      'kms:GenerateDataKey on the bucket key',
      `log stream writes to ${GROUP}`,
    ]);
    expect(checks(r.account)).toEqual(['preferences', 'key', 'key-root', 'key-policy', 'bucket-encryption', 'bucket-public-access', 'log-group']);
    expect(r.operator.map((f) => f.detail)).toEqual([
      'ssm:StartSession on the targets',
      `ssm:StartSession with ${PREFERENCES_DOCUMENT}`,
      'kms:GenerateDataKey on the session key',
      'opening the data channel of its own sessions (ssmmessages:OpenDataChannel)',
      'ending its own sessions (ssm:TerminateSession)',
      'the key policy lets IAM grant kms:GenerateDataKey to alice',
    ]);
  });

  it('simulates the instance role on the real key, bucket, prefix and log group, and the operator on the targets and the document', async () => {
    await check();
    const sims = iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input);
    const role1 = sims.filter((s) => s.PolicySourceArn === roleArn('app-1-role'));
    expect(role1.map((s) => [s.ActionNames, s.ResourceArns])).toEqual([
      [
        [
          'ssmmessages:CreateControlChannel',
          'ssmmessages:CreateDataChannel',
          'ssmmessages:OpenControlChannel',
          'ssmmessages:OpenDataChannel',
          'ssm:UpdateInstanceInformation',
        ],
        ['*'],
      ],
      [['kms:Decrypt'], [KEY_ARN]],
      [['s3:PutObject'], [`arn:aws:s3:::${BUCKET}/${PREFIX}ssm-setup-check.log`]],
      [['s3:GetEncryptionConfiguration'], [`arn:aws:s3:::${BUCKET}`]],
      [['kms:GenerateDataKey'], [KEY_ARN]],
      [['logs:CreateLogStream', 'logs:PutLogEvents'], [`${GROUP_ARN}:log-stream:ssm-setup-check`]],
    ]);
    // Each distinct role once.
    expect(sims.filter((s) => s.PolicySourceArn === roleArn('app-2-role'))).toHaveLength(6);
    const op = sims.filter((s) => s.PolicySourceArn === USER_ARN);
    expect(op.map((s) => [s.ActionNames, s.ResourceArns])).toEqual([
      [['ssm:StartSession'], [instanceArn(A), instanceArn(B)]],
      [['ssm:StartSession'], [`arn:aws:ssm:${REGION}:${ACCOUNT}:document/${PREFERENCES_DOCUMENT}`]],
      [['kms:GenerateDataKey'], [KEY_ARN]],
      [['ssmmessages:OpenDataChannel'], [`arn:aws:ssm:${REGION}:${ACCOUNT}:session/${IDENTITY.userId}-0123456789abcdef0`]],
      [['ssm:TerminateSession'], [`arn:aws:ssm:${REGION}:${ACCOUNT}:session/alice-0123456789abcdef0`]],
    ]);
    expect(op[4]!.ContextEntries).toEqual(
      expect.arrayContaining([
        { ContextKeyName: 'aws:username', ContextKeyValues: ['alice'], ContextKeyType: 'string' },
        { ContextKeyName: 'aws:userid', ContextKeyValues: [IDENTITY.userId], ContextKeyType: 'string' },
      ]),
    );
  });

  it('is read-only: no call but Describe/Get/List/Head/Simulate', async () => {
    await check();
    const names = [world.net.ec2, iam, ssm, kms, s3, logs].flatMap((m) => m.calls().map((c) => (c.args[0] as object).constructor.name));
    expect(names.filter((n) => !/^(Describe|Get|List|Head|Simulate)/.test(n))).toEqual([]);
  });

  it('the connect command carries --profile when one is set', async () => {
    const r = await check({ profile: 'prod' });
    expect(r.connect).toBe(`aws ssm start-session --target ${A} --profile prod --region ${REGION}`);
  });

  it('the connect command names the first ready target, not the first one', async () => {
    world.net.addInstance(ec2Instance(A, 1, { IamInstanceProfile: undefined }));
    const r = await check();
    expect(r.connect).toBe(`aws ssm start-session --target ${B} --region ${REGION}`);
  });

  it('no connect command when no target is ready', async () => {
    world.connection = {};
    const r = await check();
    expect(r.targets.every((t) => !t.ready)).toBe(true);
    expect(r.connect).toBeUndefined();
  });
});
