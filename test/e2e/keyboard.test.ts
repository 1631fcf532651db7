// Issue 14: an operator at the keyboard, in a real terminal (tmux) against moto_server: Enter
// through the wizard keeps what is deployed, Ctrl-C while applying stops cleanly (and a rerun
// converges), and answering "y" twice to destroy --delete-logs keeps the logs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { ListAliasesCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endpoint, kms, reset, runCli, sdk, setupWrites } from './harness.js';
import { type LossyProxy, startLossyProxy } from './lossy-proxy.js';
import { type SsmStubProxy, startSsmStubProxy } from './ssm-stub-proxy.js';
import { ssmSetupTerminal, type TmuxTerminal } from './tmux.js';

const BUCKET = 'ssm-session-logs-123456789012-us-east-1';
const GROUP = '/aws/ssm/session-logs';
let term: TmuxTerminal | undefined;
let proxy: LossyProxy | SsmStubProxy | undefined;
beforeEach(reset);
afterEach(async () => {
  term?.close();
  await proxy?.close();
  proxy = undefined;
});
const home = () => mkdtempSync(join(tmpdir(), 'ssm-setup-keys-'));
const bucketExists = () =>
  sdk(S3Client)
    .send(new HeadBucketCommand({ Bucket: BUCKET }))
    .then(
      () => true,
      () => false,
    );
const preferencesExist = () =>
  sdk(SSMClient)
    .send(new GetDocumentCommand({ Name: 'SSM-SessionManagerRunShell' }))
    .then(
      () => true,
      () => false,
    );
const groups = async () => ((await sdk(CloudWatchLogsClient).send(new DescribeLogGroupsCommand({}))).logGroups ?? []).map((g) => g.logGroupName);

describe('an operator at the keyboard', () => {
  it('Enter at every question on an account set up with CloudWatch Logs and idle 45 changes nothing', async () => {
    expect((await runCli(['init', '--yes', '--cloudwatch-logs', '--idle-timeout', '45'])).code).toBe(0);
    const cwd = home();
    term = ssmSetupTerminal('init', cwd, { HOME: cwd });
    // Press Enter at whatever the wizard still asks (never yes to writing the SSH config of HOME).
    let screen = '';
    for (let presses = 0; presses < 20; presses++) {
      screen = await term.waitFor(/EXIT=\d+|^\? .*$/m);
      if (/EXIT=\d+/.test(screen)) break;
      const question = [...screen.matchAll(/^\? .*$/gm)].at(-1)![0];
      term.send(...(question.includes('ssh and scp') ? ['n', 'Enter'] : ['Enter']));
      await term.waitFor((s: string) => !s.includes(question) || /EXIT=/.test(s));
    }
    expect(screen).toContain('No changes: the account matches these settings.');
    expect(screen).not.toMatch(/Apply \d+ change/);
    expect(screen).not.toContain('Save these answers');
    expect(screen).toContain('EXIT=0');
    const plan = await runCli(['plan', '--cloudwatch-logs', '--idle-timeout', '45', '--detailed-exitcode']);
    expect(plan.code, plan.stdout).toBe(0);
  });

  it('Ctrl-C while applying: the calls in flight finish, no step starts after it, exit 130; a rerun converges', async () => {
    // CreateBucket is held 3 s on its way to moto, so Ctrl-C lands while it is in flight.
    proxy = await startLossyProxy(endpoint(), () => false, {
      holdMs: (r) => (r.method === 'PUT' && new RegExp(`^/${BUCKET}/?(\\?x-id=CreateBucket)?$`).test(r.path) ? 3000 : 0),
    });
    const cwd = home();
    term = ssmSetupTerminal('init --yes --cloudwatch-logs', cwd, { HOME: cwd, AWS_ENDPOINT_URL: proxy.url });
    await term.waitFor('Applying S3 bucket');
    term.send('C-c');
    const screen = await term.waitFor(/EXIT=\d+/);
    expect(screen).toContain('Ctrl-C: stopping after the AWS call in flight');
    // The steps that need the bucket never started; those beside it (the log group) ended as they did.
    expect(screen).toMatch(/skipped \(not applied: interrupted \(Ctrl-C\)\): instance-role, preferences/);
    expect(screen).toContain('EXIT=130');
    // The CreateBucket in flight was carried out; the preferences after it were never written.
    expect(await bucketExists()).toBe(true);
    expect(await preferencesExist()).toBe(false);

    const rerun = await runCli(['init', '--yes', '--cloudwatch-logs']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await groups()).toEqual([GROUP]);
    expect(await preferencesExist()).toBe(true);
    // No orphan: one key, with its alias.
    expect((await kms().send(new ListKeysCommand({}))).Keys).toHaveLength(1);
    expect(((await kms().send(new ListAliasesCommand({}))).Aliases ?? []).map((a) => a.AliasName)).toContain('alias/ssm-session-manager');
    const again = await runCli(['init', '--yes', '--cloudwatch-logs']);
    expect(setupWrites(again)).toEqual([]);
  });

  it('answering y twice to destroy --delete-logs keeps the bucket: the second answer must be its name', async () => {
    // destroy lists associations, which moto lacks: the loopback SSM stub answers those calls.
    proxy = await startSsmStubProxy(endpoint());
    const env = { AWS_ENDPOINT_URL: proxy.url };
    expect((await runCli(['init', '--yes'], { env })).code).toBe(0);
    const cwd = home();
    term = ssmSetupTerminal('destroy --delete-logs', cwd, { HOME: cwd, ...env });
    await term.waitFor(/Remove these \d+\?/);
    term.send('y', 'Enter');
    await term.waitFor(`To delete the bucket ${BUCKET}`);
    term.send('y', 'Enter');
    await term.waitFor('exactly, or nothing to keep everything');
    term.send('C-u', 'Enter'); // nothing: keep everything
    const screen = await term.waitFor(/EXIT=\d+/);
    expect(screen).toContain('Declined: nothing was removed.');
    expect(screen).toContain('EXIT=130');
    expect(await bucketExists()).toBe(true);
  });
});
