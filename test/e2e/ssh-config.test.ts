import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER, sshConfigBlock } from '../../src/policies/ssh-config.js';
import { reset, runCli } from './harness.js';

beforeEach(reset);

const OTHER_HOSTS = 'ServerAliveInterval 60\n\nHost web\n  HostName web.example.com\n  User alice\n';
/** The harness runs with AWS_REGION=us-east-1: that is the current region the block carries. */
const BLOCK = sshConfigBlock({ region: 'us-east-1', windows: process.platform === 'win32' });

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssm-setup-e2e-ssh-'));
  path = join(dir, 'ssh', 'config');
});

const sshConfig = (...args: string[]) => runCli(['ssh-config', '--ssh-config-path', path, ...args], { cwd: dir });

describe('ssm-setup ssh-config', () => {
  it('prints the block (the default and --print) without touching the file or calling AWS', async () => {
    for (const args of [[], ['--print']]) {
      const run = await sshConfig(...args);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(BLOCK);
      expect(run.calls).toEqual([]);
    }
    const prod = await sshConfig('--profile', 'prod', '--region', 'eu-west-1');
    expect(prod.stdout).toContain('--profile prod --region eu-west-1"');
    expect(existsSync(path)).toBe(false);
  });

  it('--json prints one object with the block and the path', async () => {
    const run = await sshConfig('--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      command: 'ssh-config',
      ok: true,
      steps: [{ id: 'ssh-config', status: 'unchanged', outputs: { sshConfigPath: path, block: BLOCK } }],
    });
  });

  it('--write creates the file (0600, its directory 0700), a rerun is unchanged, --remove takes it out', async () => {
    const write = await sshConfig('--write');
    expect(write.code, write.stderr).toBe(0);
    expect(write.stdout).toContain(`SSH config block in ${path}: created.`);
    expect(write.calls).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe(BLOCK);
    if (process.platform !== 'win32') {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'ssh')).mode & 0o777).toBe(0o700);
    }

    const again = await sshConfig('--write');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('unchanged');
    expect(readFileSync(path, 'utf8')).toBe(BLOCK);
    expect(existsSync(`${path}.ssm-setup.bak`)).toBe(false);

    const remove = await sshConfig('--remove');
    expect(remove.code).toBe(0);
    expect(remove.stdout).toContain(`SSH config block removed from ${path}.`);
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(readFileSync(`${path}.ssm-setup.bak`, 'utf8')).toBe(BLOCK);
  });

  it('--write into an existing file keeps the other hosts and a backup; --remove restores the file exactly', async () => {
    mkdirSync(join(dir, 'ssh'));
    writeFileSync(path, OTHER_HOSTS);

    const write = await sshConfig('--write');
    expect(write.code, write.stderr).toBe(0);
    expect(write.stdout).toContain('created');
    expect(write.stdout).toContain(`Previous file kept as ${path}.ssm-setup.bak`);
    expect(readFileSync(path, 'utf8')).toBe(`ServerAliveInterval 60\n\n${BLOCK}Host web\n  HostName web.example.com\n  User alice\n`);
    expect(readFileSync(`${path}.ssm-setup.bak`, 'utf8')).toBe(OTHER_HOSTS);

    // Another region: the block is rewritten in place.
    const update = await sshConfig('--write', '--region', 'eu-west-1');
    expect(update.code).toBe(0);
    expect(update.stdout).toContain('updated');
    expect(readFileSync(path, 'utf8')).toContain('--region eu-west-1"');
    expect(readFileSync(path, 'utf8')).not.toContain('--region us-east-1');

    const remove = await sshConfig('--remove');
    expect(remove.code).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(OTHER_HOSTS);
    const none = await sshConfig('--remove');
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('nothing to remove');
  });

  it('a foreign Host i-* entry is a conflict: exit 1, the line named, the file untouched', async () => {
    mkdirSync(join(dir, 'ssh'));
    const mine = 'Host i-*\n  ProxyCommand aws ssm start-session --target %h\n';
    writeFileSync(path, mine);
    const run = await sshConfig('--write');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('line 1: Host i-*');
    expect(run.stderr).toMatch(/^Fix: /m);
    expect(readFileSync(path, 'utf8')).toBe(mine);
  });

  it('bad input exits 2: two modes at once, an unknown profile, an empty path', async () => {
    const both = await sshConfig('--write', '--remove');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--write and --remove cannot be combined');
    const profile = await sshConfig('--write', '--profile', 'nope');
    expect(profile.code).toBe(2);
    expect(profile.stderr).toContain('--profile: no profile "nope"');
    const empty = await runCli(['ssh-config', '--ssh-config-path', ''], { cwd: dir });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('--ssh-config-path');
    expect(existsSync(path)).toBe(false);
  });

  it('a profile that exists is carried into the written block', async () => {
    const awsConfig = join(dir, 'aws-config');
    writeFileSync(awsConfig, '[profile prod]\nregion = eu-west-1\n');
    const run = await runCli(['ssh-config', '--write', '--ssh-config-path', path, '--profile', 'prod'], { cwd: dir, env: { AWS_CONFIG_FILE: awsConfig } });
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(path, 'utf8')).toContain('--profile prod --region us-east-1"');
  });
});

describe('the ssh-config step in init', () => {
  it('init --yes --ssh-config writes the block; without --ssh-config it is skipped; a rerun leaves it unchanged', async () => {
    const skipped = await runCli(['init', '--yes', '--json', '--ssh-config-path', path], { cwd: dir });
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(JSON.parse(skipped.stdout).steps.find((s: { id: string }) => s.id === 'ssh-config')).toMatchObject({ status: 'skipped' });
    expect(existsSync(path)).toBe(false);

    const run = await runCli(['init', '--yes', '--json', '--ssh-config', '--ssh-config-path', path], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const row = JSON.parse(run.stdout).steps.find((s: { id: string }) => s.id === 'ssh-config');
    expect(row).toMatchObject({ status: 'created', changes: [{ action: 'create', resource: `SSH config block in ${path}` }] });
    const text = readFileSync(path, 'utf8');
    expect(text).toBe(BLOCK);
    expect(text.startsWith(BEGIN_MARKER)).toBe(true);
    expect(text.trimEnd().endsWith(END_MARKER)).toBe(true);

    const rerun = await runCli(['init', '--yes', '--json', '--ssh-config', '--ssh-config-path', path], { cwd: dir });
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout).steps.find((s: { id: string }) => s.id === 'ssh-config')).toMatchObject({ status: 'unchanged', changes: [] });
    expect(rerun.writes).toEqual([]);
    expect(existsSync(`${path}.ssm-setup.bak`)).toBe(false);
  });
});

describe('the ssh-config finding of check', () => {
  it('is a warning with the fix before --write, and ok after', async () => {
    const localSsh = async () => {
      const run = await runCli(['check', '--json', '--ssh-config-path', path], { cwd: dir });
      const report = JSON.parse(run.stdout) as { checks: { local: { check: string; status: string; fix?: string }[] } };
      return report.checks.local.find((f) => f.check === 'ssh-config');
    };
    expect(await localSsh()).toMatchObject({ status: 'warning', fix: 'ssm-setup ssh-config --write' });
    expect((await sshConfig('--write')).code).toBe(0);
    expect(await localSsh()).toMatchObject({ status: 'ok' });
  });
});
