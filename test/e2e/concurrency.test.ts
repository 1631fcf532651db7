// Issue 13, item 3: two runs at the same time against moto_server (which implements Parameter
// Store): the region's lease lets one of them write; the other stops with LEASE_HELD, or finds
// nothing left to do. Only destroy's association calls go to the stub proxy (moto lacks them).
import { IAMClient, ListPoliciesCommand, ListPolicyVersionsCommand } from '@aws-sdk/client-iam';
import { ListAliasesCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { endpoint, errorCode, kms, reset, runCli, sdk } from './harness.js';
import { startSsmStubProxy } from './ssm-stub-proxy.js';

const LEASE = '/app/ssm-setup/lease';
const BOB = {
  holder: 'arn:aws:iam::123456789012:user/bob on laptop (pid 7)',
  command: 'ssm-setup init',
  started: new Date(Date.now() - 60_000).toISOString(),
  expires: new Date(Date.now() + 3_600_000).toISOString(),
};

beforeEach(reset);

/** How many of each thing ssm-setup makes the account holds now. */
async function inventory() {
  const iam = sdk(IAMClient);
  const policies = (await iam.send(new ListPoliciesCommand({ Scope: 'Local' }))).Policies ?? [];
  const versions = await Promise.all(policies.map(async (p) => (await iam.send(new ListPolicyVersionsCommand({ PolicyArn: p.Arn }))).Versions?.length ?? 0));
  return {
    keys: (await kms().send(new ListKeysCommand({}))).Keys?.length ?? 0,
    aliases: ((await kms().send(new ListAliasesCommand({}))).Aliases ?? []).filter((a) => !a.AliasName?.startsWith('alias/aws/')).length,
    buckets: (await sdk(S3Client).send(new ListBucketsCommand({}))).Buckets?.length ?? 0,
    policies: policies.length,
    policyVersions: versions.reduce((a, b) => a + b, 0),
  };
}

const leaseValue = () =>
  sdk(SSMClient)
    .send(new GetParameterCommand({ Name: LEASE }))
    .then(
      (out) => out.Parameter?.Value,
      (err: Error) => (err.name === 'ParameterNotFound' ? undefined : Promise.reject(err)),
    );

describe('two runs at the same time against moto_server', () => {
  it.each([
    ['together', 0],
    ['1.5 s apart', 1500],
  ])('two init --yes started %s make one of everything: one run applies, the other stops with LEASE_HELD or finds nothing to do', async (_when, apart) => {
    const first = runCli(['init', '--yes', '--verbose']);
    await new Promise((r) => setTimeout(r, apart));
    const runs = await Promise.all([first, runCli(['init', '--yes', '--verbose'])]);
    const ok = runs.filter((r) => r.code === 0);
    expect(ok.length, runs.map((r) => r.stderr).join('\n----\n')).toBeGreaterThanOrEqual(1);
    for (const other of runs.filter((r) => r.code !== 0)) {
      expect(other.code).toBe(1);
      expect(errorCode(other)).toBe('LEASE_HELD');
      // It stopped before its first write: the only write it tried is the lease.
      expect(other.writes.map((c) => c.operation)).toEqual(['PutParameter']);
    }
    // Exactly one run created the key.
    expect(runs.filter((r) => r.writes.some((c) => c.operation === 'CreateKey'))).toHaveLength(1);
    expect(await inventory()).toEqual({ keys: 1, aliases: 1, buckets: 1, policies: 2, policyVersions: 2 });
    // The parameter stays, released by the run that held it last.
    expect(JSON.parse((await leaseValue())!)).toHaveProperty('released');

    const rerun = await runCli(['init', '--yes']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.writes).toEqual([]);
    // The lease is read beside the identity (so that a run with changes need not plan twice), never written.
    expect(rerun.calls.filter((c) => c.operation.endsWith('Parameter')).map((c) => c.operation)).toEqual(['GetParameter']);
  });

  it('a run while another holds the lease exits 1 with LEASE_HELD naming it; --force-unlock clears it with a warning and runs', async () => {
    await sdk(SSMClient).send(new PutParameterCommand({ Name: LEASE, Value: JSON.stringify(BOB), Type: 'String' }));
    const blocked = await runCli(['init', '--yes', '--verbose']);
    expect(blocked.code).toBe(1);
    expect(errorCode(blocked)).toBe('LEASE_HELD');
    expect(blocked.stderr).toContain(BOB.holder);
    expect(blocked.stderr).toContain(BOB.expires);
    expect(blocked.stderr).toContain('--force-unlock');
    expect((await inventory()).keys).toBe(0);
    expect(JSON.parse((await leaseValue())!)).toEqual(BOB);

    const forced = await runCli(['init', '--yes', '--force-unlock']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/--force-unlock: removed the lease .* held by arn:aws:iam::123456789012:user\/bob on laptop/);
    expect((await inventory()).keys).toBe(1);
    expect(JSON.parse((await leaseValue())!)).toMatchObject({ holder: expect.not.stringContaining('bob'), released: expect.any(String) });

    const rerun = await runCli(['init', '--yes']);
    expect(rerun.code).toBe(0);
    expect(rerun.writes).toEqual([]);
  });

  it('destroy takes the lease too: LEASE_HELD while another run holds it, removing nothing; --force-unlock clears it', async () => {
    // destroy lists the associations, which moto lacks: the stub proxy answers them (and forwards the parameter calls to moto).
    const proxy = await startSsmStubProxy(endpoint());
    try {
      const cli = (args: string[]) => runCli(args, { env: { AWS_ENDPOINT_URL: proxy.url } });
      expect((await cli(['init', '--yes'])).code).toBe(0);
      // Bob takes over the lease init left released.
      await sdk(SSMClient).send(new PutParameterCommand({ Name: LEASE, Value: JSON.stringify(BOB), Type: 'String', Overwrite: true }));
      const blocked = await cli(['destroy', '--yes', '--verbose']);
      expect(blocked.code, blocked.stderr).toBe(1);
      expect(errorCode(blocked)).toBe('LEASE_HELD');
      expect(blocked.writes.map((c) => c.operation)).toEqual(['PutParameter']);

      const forced = await cli(['destroy', '--yes', '--force-unlock']);
      expect(forced.code, forced.stderr).toBe(0);
      expect(forced.stderr).toContain(BOB.holder);
      expect(forced.writes.map((c) => c.operation)).toContain('DeletePolicy');
      // destroy leaves nothing of ours: the lease's parameter is deleted, not left released.
      expect(await leaseValue()).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });
});
