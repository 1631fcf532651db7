import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { beforeEach, describe, expect, it } from 'vitest';
import { kms, reset, runCli, setupWrites } from './harness.js';

const ALIAS = 'alias/ssm-session-manager';

beforeEach(reset);

async function keyCount() {
  return (await kms().send(new ListKeysCommand({}))).Keys?.length ?? 0;
}

describe('ssm-setup init against moto_server', () => {
  it('init --yes creates the key, its alias and rotation, as read back with the SDK', async () => {
    const run = await runCli(['init', '--yes', '--tags', 'Team=infra']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/kms-key\s+✔ created/);
    expect(run.stderr).toContain('(auto-confirmed: --yes)');

    const { KeyMetadata } = await kms().send(new DescribeKeyCommand({ KeyId: ALIAS }));
    expect(KeyMetadata).toMatchObject({ KeyState: 'Enabled', KeySpec: 'SYMMETRIC_DEFAULT', KeyManager: 'CUSTOMER' });
    expect(run.stdout).toContain(KeyMetadata!.Arn!);
    const rotation = await kms().send(new GetKeyRotationStatusCommand({ KeyId: KeyMetadata!.KeyId }));
    expect(rotation.KeyRotationEnabled).toBe(true);
    const { Tags } = await kms().send(new ListResourceTagsCommand({ KeyId: KeyMetadata!.KeyId }));
    expect(Tags).toEqual(
      expect.arrayContaining([
        { TagKey: 'ManagedBy', TagValue: 'ssm-setup' },
        { TagKey: 'Team', TagValue: 'infra' },
      ]),
    );
    expect(run.writes.filter((c) => c.service === 'KMS').map((c) => c.operation)).toEqual(['CreateKey', 'CreateAlias', 'EnableKeyRotation']);
  });

  it('a second init --yes makes no write call, and plan shows no change', async () => {
    expect((await runCli(['plan', '--detailed-exitcode'])).code).toBe(3);
    expect((await runCli(['init', '--yes'])).code).toBe(0);

    const rerun = await runCli(['init', '--yes']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.calls.length).toBeGreaterThan(0);
    expect(rerun.writes).toEqual([]);
    expect(rerun.stdout).toMatch(/kms-key\s+= unchanged/);
    expect(rerun.stderr).not.toContain('auto-confirmed');

    const plan = await runCli(['plan', '--detailed-exitcode']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('No changes: the account matches these settings.');
    expect(await keyCount()).toBe(1);
  });

  it('--json prints one object with the created key in the contract shape', async () => {
    const run = await runCli(['init', '--yes', '--json']);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ command: 'init', account: '123456789012', region: 'us-east-1', ok: true });
    expect(out.steps[0]).toMatchObject({ id: 'kms-key', status: 'created', outputs: { kmsKeyAlias: ALIAS } });
    expect(out.steps[0].changes).toContainEqual({ action: 'create', resource: `KMS alias ${ALIAS}`, detail: '→ the new key' });
    expect(out.steps.map((s: { id: string; status: string }) => `${s.id}:${s.status}`).slice(0, 4)).toEqual([
      'kms-key:created',
      'log-bucket:created',
      'log-group:skipped',
      'instance-role:created',
    ]);
  });

  it.each([
    [
      ['init', '--yes', '--idle-timeout', '0', '--key-alias', 'alias/aws/mine'],
      ['--idle-timeout', '--key-alias'],
    ],
    [['init', '--yes', '--log-transition-days', '100', '--log-expiration-days', '30'], ['--log-expiration-days']],
    [['init', '--yes', '--region', 'moon-1'], ['--region']],
    [['init', '--yes', '--endpoint-url', 'ftp://127.0.0.1'], ['--endpoint-url']],
    [['init', '--yes', '--tags', 'ManagedBy=me'], ['--tags']],
    [
      ['init', '--yes', '--tags', 'Note=a#b'],
      ['--tags', '"#"'],
    ],
    [['init', '--yes', '--tag', ' =x'], ['--tag " =x"']],
    [['init', '--yes', '--s3-prefix', 'logs/../other/'], ['--s3-prefix']],
    [['init', '--yes', '--profile', 'nope'], ['--profile: no profile "nope"']],
    [['run', 'kms-key', 'nope'], ['unknown step: nope']],
  ])('bad input %j exits 2 naming it, before any AWS call', async (args, named) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    for (const n of named) expect(run.stderr).toContain(n);
    expect(run.calls).toEqual([]);
  });

  it('a bad config file value names the key and file, exit 2, no AWS call', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'ssm-setup-cfg-'));
    writeFileSync(join(dir, 'ssm-setup.json'), JSON.stringify({ keyAlias: 'nope', idleTimout: 5 }));
    const run = await runCli(['init', '--yes'], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('"keyAlias" in');
    expect(run.stderr).toContain('unknown key "idleTimout" (did you mean "idleTimeout"?)');
    expect(run.calls).toEqual([]);
  });

  it('finishes an interrupted run: adopts the alias-less key it had created instead of a second key', async () => {
    const { KeyMetadata } = await kms().send(
      new CreateKeyCommand({
        Tags: [
          { TagKey: 'ManagedBy', TagValue: 'ssm-setup' },
          { TagKey: 'ssm-setup:alias', TagValue: ALIAS },
        ],
      }),
    );
    const run = await runCli(['init', '--yes']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.writes.filter((c) => c.service === 'KMS').map((c) => c.operation)).toEqual(['CreateAlias', 'EnableKeyRotation']);
    expect((await kms().send(new DescribeKeyCommand({ KeyId: ALIAS }))).KeyMetadata?.KeyId).toBe(KeyMetadata!.KeyId);
    expect(await keyCount()).toBe(1);
  });

  it('a disabled key behind the alias fails the step with the fix, exit 1, nothing written', async () => {
    const { KeyMetadata } = await kms().send(new CreateKeyCommand({}));
    await kms().send(new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: KeyMetadata!.KeyId }));
    await kms().send(new DisableKeyCommand({ KeyId: KeyMetadata!.KeyId }));
    const run = await runCli(['init', '--yes']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Error in step kms-key');
    expect(run.stdout).toContain(`aws kms enable-key --key-id ${KeyMetadata!.KeyId}`);
    expect(run.writes).toEqual([]);
  });

  it('run kms-key --cloudwatch-logs adds the CloudWatch Logs statement to an adopted key, keeping the rest', async () => {
    const { KeyMetadata } = await kms().send(new CreateKeyCommand({}));
    await kms().send(new CreateAliasCommand({ AliasName: ALIAS, TargetKeyId: KeyMetadata!.KeyId }));
    const run = await runCli(['run', 'kms-key', '--yes', '--cloudwatch-logs']);
    expect(run.code, run.stderr).toBe(0);
    expect(
      setupWrites(run)
        .map((c) => c.operation)
        .sort(),
    ).toEqual(['EnableKeyRotation', 'PutKeyPolicy']);
    const { Policy } = await kms().send(new GetKeyPolicyCommand({ KeyId: KeyMetadata!.KeyId, PolicyName: 'default' }));
    const statements = JSON.parse(Policy!).Statement as { Sid?: string; Principal?: unknown }[];
    expect(statements.length).toBe(2);
    expect(statements[1]).toMatchObject({ Principal: { Service: 'logs.us-east-1.amazonaws.com' } });
    expect((await runCli(['run', 'kms-key', '--yes', '--cloudwatch-logs'])).writes).toEqual([]);
  });

  it('--help and --version need no credentials, no region and make no AWS call', async () => {
    const env = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_REGION: '' };
    const help = await runCli(['--help'], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ssm-setup');
    expect((await runCli(['--version'], { env })).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(help.calls).toEqual([]);
  });
});
