import { GetPolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { endpoint, errorCode, reset, runCli } from './harness.js';

const ACCOUNT = '123456789012';
const REGIONS = ['us-east-1', 'eu-west-1'];
const client = <C>(Client: new (config: Record<string, unknown>) => C, region: string) =>
  new Client({ region, endpoint: endpoint(), credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }, maxAttempts: 1, forcePathStyle: true });

beforeEach(reset);

describe('several regions at once against moto_server', () => {
  it('init --regions sets up each region, IAM named per region; the rerun writes nothing; plan exit codes', async () => {
    const args = ['--regions', REGIONS.join(',')];
    expect((await runCli(['plan', '--detailed-exitcode', ...args])).code).toBe(3);
    const run = await runCli(['init', '--yes', ...args]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toContain('[eu-west-1] ');
    for (const region of REGIONS) {
      expect(run.stdout).toMatch(new RegExp(`${region} kms-key\\s+✔ created`));
      expect((await client(KMSClient, region).send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).KeyMetadata?.Arn).toContain(
        `:kms:${region}:`,
      );
      await client(S3Client, region).send(new HeadBucketCommand({ Bucket: `ssm-session-logs-${ACCOUNT}-${region}` }));
      const policy = await client(IAMClient, region).send(
        new GetPolicyCommand({ PolicyArn: `arn:aws:iam::${ACCOUNT}:policy/SSMSessionManagerInstancePolicy-${region}` }),
      );
      expect(policy.Policy?.PolicyName).toBe(`SSMSessionManagerInstancePolicy-${region}`);
    }
    const rerun = await runCli(['init', '--yes', ...args]);
    expect(rerun.code).toBe(0);
    expect(rerun.writes).toEqual([]);
    expect((await runCli(['plan', '--detailed-exitcode', ...args])).code).toBe(0);
  });

  it('a failure in one region does not stop the other, and the run exits 1 naming it', async () => {
    // The key alias of eu-west-1 points at a disabled key: that region fails, us-east-1 is set up.
    const eu = client(KMSClient, 'eu-west-1');
    const { CreateKeyCommand, CreateAliasCommand, DisableKeyCommand } = await import('@aws-sdk/client-kms');
    const key = await eu.send(new CreateKeyCommand({}));
    await eu.send(new CreateAliasCommand({ AliasName: 'alias/ssm-session-manager', TargetKeyId: key.KeyMetadata!.KeyId }));
    await eu.send(new DisableKeyCommand({ KeyId: key.KeyMetadata!.KeyId }));
    const run = await runCli(['init', '--yes', '--regions', REGIONS.join(',')]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/us-east-1 preferences\s+✔ created/);
    expect(run.stdout).toMatch(/eu-west-1 kms-key\s+✖ failed/);
  });

  it('a bad region in --regions is exit 2 naming it, before any AWS call', async () => {
    const run = await runCli(['init', '--regions', 'us-east-1,moon-1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--regions "moon-1": is not an AWS region name');
    expect(run.calls).toEqual([]);
  });

  it('a repeated region in --regions is exit 2 naming --regions and the region, before any AWS call', async () => {
    const run = await runCli(['init', '--yes', '--regions', 'us-east-1,us-east-1', '--verbose']);
    expect(run.code).toBe(2);
    expect(errorCode(run)).toBe('INVALID_SETTINGS');
    expect(run.stderr).toContain('--regions "us-east-1"');
    expect(run.stderr).toContain('"us-east-1"');
    expect(run.calls).toEqual([]);
  });
});
