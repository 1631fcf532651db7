import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateAccountCommand, CreateOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { HeadBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/core/report.js';
import { endpoint, errorCode, reset, runCli, sdk } from './harness.js';
import { type LossyProxy, queryParams, startLossyProxy } from './lossy-proxy.js';
import { startSsmStubProxy } from './ssm-stub-proxy.js';

// moto keeps one world per account id: a role assumed in an account (moto lets any caller assume
// any role) acts in that account, so two member accounts and the management account stay apart.
const MANAGEMENT = '123456789012';
const REGION = 'us-east-1';
const PREFERENCES = 'SSM-SessionManagerRunShell';

/** An SDK client acting in `account` (a role assumed there), to read back what the CLI did. */
async function inAccount<C>(Client: new (config: Record<string, unknown>) => C, account: string): Promise<C> {
  const out = await sdk(STSClient).send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/OrganizationAccountAccessRole`, RoleSessionName: 'test' }),
  );
  const c = out.Credentials!;
  return new Client({
    region: REGION,
    endpoint: endpoint(),
    credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken },
    maxAttempts: 1,
    forcePathStyle: true,
  });
}

/** An organization with two member accounts; their ids. */
async function organization(): Promise<string[]> {
  const org = sdk(OrganizationsClient);
  await org.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const ids: string[] = [];
  for (const name of ['prod', 'dev'])
    ids.push((await org.send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }))).CreateAccountStatus!.AccountId!);
  return ids;
}

async function assertConverged(account: string) {
  expect((await (await inAccount(KMSClient, account)).send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).KeyMetadata?.Arn).toContain(
    `:${account}:key/`,
  );
  await (await inAccount(S3Client, account)).send(new HeadBucketCommand({ Bucket: `ssm-session-logs-${account}-${REGION}` }));
  expect((await (await inAccount(SSMClient, account)).send(new DescribeDocumentCommand({ Name: PREFERENCES }))).Document?.Name).toBe(PREFERENCES);
}

beforeEach(reset);

describe('many accounts at once against moto_server', () => {
  it('init --yes --organization converges each member account and leaves the management account alone; the rerun writes nothing', async () => {
    const members = await organization();
    const args = ['--organization', '--region', REGION];
    const plan = await runCli(['plan', '--detailed-exitcode', ...args]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(3);
    expect(plan.writes).toEqual([]);

    const run = await runCli(['init', '--yes', '--json', ...args]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as RunReport;
    expect(report.runs?.map((r) => [r.account, r.region, r.ok])).toEqual(members.sort().map((id) => [id, REGION, true]));
    expect(report.steps.find((s) => s.id === 'kms-key' && s.account === members[0])?.status).toBe('created');
    // One AssumeRole per account, from the caller's credentials.
    expect(run.calls.filter((c) => c.service === 'STS' && c.operation === 'AssumeRole')).toHaveLength(2);
    for (const id of members) await assertConverged(id);
    // The management account: no bucket, no key alias of ours.
    expect((await sdk(S3Client).send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    await expect(sdk(KMSClient).send(new DescribeKeyCommand({ KeyId: 'alias/ssm-session-manager' }))).rejects.toThrow();

    const rerun = await runCli(['init', '--yes', ...args]);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(rerun.writes).toEqual([]);
    expect(rerun.stderr).not.toContain('auto-confirmed');
    expect((await runCli(['plan', '--detailed-exitcode', ...args])).code).toBe(0);

    // check and destroy take the same accounts: one entry per account, one question for all.
    const check = await runCli(['check', '--json', ...args]);
    expect((JSON.parse(check.stdout) as RunReport).runs?.map((r) => r.account)).toEqual(members);
    expect(check.writes).toEqual([]);
    // destroy reads the State Manager associations, which moto lacks: the loopback stub answers them.
    const stub = await startSsmStubProxy(endpoint());
    const destroy = await runCli(['destroy', '--yes', '--json', ...args], { env: { AWS_ENDPOINT_URL: stub.url } }).finally(() => stub.close());
    expect(destroy.code, destroy.stdout + destroy.stderr).toBe(0);
    expect((JSON.parse(destroy.stdout) as RunReport).runs?.every((r) => r.ok)).toBe(true);
    expect(destroy.stderr.match(/auto-confirmed/g)).toHaveLength(1);
  });

  describe('with AssumeRole refused in one account', () => {
    let proxy: LossyProxy;
    afterEach(() => proxy?.close());

    it('--accounts converges the others and exits 1 naming the refused account', async () => {
      const [good, refused] = (await organization()) as [string, string];
      proxy = await startLossyProxy(endpoint(), () => false, {
        refuse: (r) =>
          queryParams(r.body).get('Action') === 'AssumeRole' && queryParams(r.body).get('RoleArn')?.includes(`::${refused}:`)
            ? {
                code: 'AccessDenied',
                message: `User: arn:aws:iam::${MANAGEMENT}:user/moto is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${refused}:role/OrganizationAccountAccessRole`,
              }
            : undefined,
      });
      const run = await runCli(['init', '--yes', '--json', '--verbose', '--accounts', `${good},${refused}`, '--region', REGION], {
        env: { AWS_ENDPOINT_URL: proxy.url },
      });
      expect(run.code, run.stdout + run.stderr).toBe(1);
      expect(proxy.refused.length).toBeGreaterThan(0);
      const report = JSON.parse(run.stdout) as RunReport;
      expect(report.ok).toBe(false);
      expect(report.runs?.find((r) => r.account === good)?.ok).toBe(true);
      const failed = report.runs?.find((r) => r.account === refused);
      expect(failed?.ok).toBe(false);
      expect(failed?.error?.code).toBe('ASSUME_ROLE_FAILED');
      expect(report.error?.message).toContain(refused);
      expect(report.error?.hint).toContain(`--accounts ${refused}`);
      await assertConverged(good);
    });
  });

  it('--accounts 12345 is exit 2 naming --accounts, before any AWS call', async () => {
    const run = await runCli(['init', '--yes', '--verbose', '--accounts', '12345']);
    expect(run.code).toBe(2);
    expect(errorCode(run)).toBe('INVALID_SETTINGS');
    expect(run.stderr).toContain('--accounts "12345"');
    expect(run.calls).toEqual([]);
  });

  it('--accounts with --organization is exit 2, before any AWS call', async () => {
    const run = await runCli(['plan', '--verbose', '--accounts', '111122223333', '--organization']);
    expect(run.code).toBe(2);
    expect(errorCode(run)).toBe('CONFLICTING_FLAGS');
    expect(run.calls).toEqual([]);
  });
});
