import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kms, reset } from './harness.js';
import { ssmSetupTerminal, type TmuxTerminal } from './tmux.js';

const BUCKET = 'ssm-session-logs-123456789012-us-east-1';
let term: TmuxTerminal | undefined;
beforeEach(reset);
afterEach(() => term?.close());

/** `ssm-setup init` in a real pseudo-terminal, as an operator would start it. */
function startInit(cwd: string) {
  term = ssmSetupTerminal('init', cwd);
  return term;
}

describe('interactive init in a terminal', () => {
  it('offers existing keys, shows the plan, asks once, applies, and saves the answers', async () => {
    const existing = await kms().send(new CreateKeyCommand({}));
    await kms().send(new CreateAliasCommand({ AliasName: 'alias/team-key', TargetKeyId: existing.KeyMetadata!.KeyId }));
    const cwd = mkdtempSync(join(tmpdir(), 'ssm-setup-tty-'));
    const t = startInit(cwd);

    let screen = await t.waitFor('KMS key for session encryption');
    expect(screen).toContain('Create a new key: alias/ssm-session-manager');
    expect(screen).toContain('alias/team-key (existing key)');
    expect(screen).toContain('Another name…');
    t.send('Down', 'Down', 'Enter'); // "Another name…"
    await t.waitFor('Name of the key');
    t.send('C-u');
    t.send('-l', 'alias/aws/x');
    t.send('Enter');
    await t.waitFor('must not start with alias/aws/'); // validated as typed, not after
    t.send('C-u');
    t.send('-l', 'alias/tty-key');
    t.send('Enter');

    screen = await t.waitFor('S3 bucket for session logs');
    expect(screen).toContain(`Create a new bucket: ${BUCKET}`);
    t.send('Enter');
    await t.waitFor('Days before session logs move to Glacier');
    t.send('Enter'); // the default, 90
    await t.waitFor('Days before session logs are deleted');
    t.send('-l', '60');
    t.send('Enter');
    await t.waitFor('must be greater than the transition days (90)');
    t.send('C-u');
    t.send('-l', '400');
    t.send('Enter');
    await t.waitFor('Also stream session logs to CloudWatch Logs');
    t.send('y', 'Enter');
    await t.waitFor('CloudWatch Logs group for session logs');
    t.send('Enter');
    await t.waitFor('Keep session logs in CloudWatch for');
    t.send('Enter');
    screen = await t.waitFor('What may operators do?');
    expect(screen).toContain('No running or stopped instances in us-east-1');
    t.send('Enter'); // restricted
    screen = await t.waitFor('Idle session timeout, minutes');
    expect(screen).toContain('not content-logged'); // the SSH audit gap, said before the question
    t.send('C-u');
    t.send('-l', '61');
    t.send('Enter');
    await t.waitFor('must be from 1 to 60');
    t.send('C-u');
    t.send('-l', '30');
    t.send('Enter');
    await t.waitFor('Maximum session duration');
    t.send('Enter');
    await t.waitFor('Run sessions as this OS user');
    t.send('-l', 'root');
    t.send('Enter');
    await t.waitFor('root is refused');
    t.send('C-u');
    t.send('Enter');
    await t.waitFor('Commands run at the start of Linux sessions');
    t.send('Enter');
    await t.waitFor('Set up ssh and scp to instances through Session Manager');
    t.send('n', 'Enter'); // not into the HOME of whoever runs the tests

    screen = await t.waitFor('Apply 8 changes?');
    expect(screen).toContain('+ create preferences SSM-SessionManagerRunShell');
    expect(screen).toContain('idle 30 min; Run As off');
    expect(screen).toContain('+ create KMS key');
    expect(screen).toContain('+ create KMS alias alias/tty-key');
    expect(screen).toContain('~ update key rotation');
    expect(screen).toContain(`+ create S3 bucket ${BUCKET}`);
    expect(screen).toContain('expire after 400 days');
    expect(screen).toContain('+ create log group /aws/ssm/session-logs');
    expect(screen).toContain('+ create IAM policy SSMSessionManagerInstancePolicy');
    expect(screen).toContain('+ create IAM policy SSMSessionManagerOperatorPolicy');
    t.send('y', 'Enter');

    screen = await t.waitFor('Save these answers');
    expect(screen).toMatch(/kms-key\s+✔ created/);
    expect(screen).toMatch(/log-group\s+✔ created/);
    t.send('y', 'Enter');
    screen = await t.waitFor('EXIT=');
    expect(screen).toContain('EXIT=0');

    const { KeyMetadata } = await kms().send(new DescribeKeyCommand({ KeyId: 'alias/tty-key' }));
    expect(KeyMetadata?.KeyState).toBe('Enabled');
    const saved = JSON.parse(readFileSync(join(cwd, 'ssm-setup.json'), 'utf8'));
    expect(saved).toEqual({
      region: 'us-east-1',
      keyAlias: 'alias/tty-key',
      bucket: BUCKET,
      logTransitionDays: 90,
      logExpirationDays: 400,
      cloudwatchLogs: true,
      logGroup: '/aws/ssm/session-logs',
      logRetentionDays: 365,
      operatorAccess: 'restricted',
      idleTimeout: 30,
      shellProfileLinux: '',
    });
  });

  it('Ctrl-C at a prompt exits 130 and changes nothing', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ssm-setup-tty-'));
    const t = startInit(cwd);
    await t.waitFor('KMS key for session encryption');
    t.send('C-c');
    const screen = await t.waitFor('EXIT=');
    expect(screen).toContain('EXIT=130');
    expect((await kms().send(new ListKeysCommand({}))).Keys ?? []).toEqual([]);
    expect(existsSync(join(cwd, 'ssm-setup.json'))).toBe(false);
  });

  it('declining the plan exits 130 and creates nothing', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ssm-setup-tty-'));
    const t = startInit(cwd);
    await t.waitFor('KMS key for session encryption');
    t.send('Enter');
    await t.waitFor('S3 bucket for session logs');
    t.send('Enter');
    await t.waitFor('Days before session logs move to Glacier');
    t.send('Enter');
    await t.waitFor('Days before session logs are deleted');
    t.send('Enter');
    await t.waitFor('Also stream session logs to CloudWatch Logs');
    t.send('Enter'); // default: no
    await t.waitFor('What may operators do?');
    t.send('Enter');
    for (const question of ['Idle session timeout', 'Maximum session duration', 'Run sessions as', 'Commands run at the start']) {
      await t.waitFor(question);
      t.send('Enter');
    }
    await t.waitFor('Set up ssh and scp to instances through Session Manager');
    t.send('n', 'Enter');
    await t.waitFor('Apply 7 changes?');
    t.send('n', 'Enter');
    const screen = await t.waitFor('EXIT=');
    expect(screen).toContain('Declined: nothing was changed.');
    // The person's own choice, not an error.
    expect(screen).not.toContain('Error: Declined');
    expect(screen).toContain('EXIT=130');
    expect((await kms().send(new ListKeysCommand({}))).Keys ?? []).toEqual([]);
  });
});
