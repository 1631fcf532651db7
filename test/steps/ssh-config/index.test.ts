import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { detectLocalTools, PLUGIN_INSTALL_URL } from '../../../src/aws/local-tools.js';
import { StepError, UsageError } from '../../../src/base/errors.js';
import type { StepContext } from '../../../src/core/step.js';
import { stepEntry } from '../../../src/engine/catalog.js';
import { runSteps } from '../../../src/engine/runner.js';
import { BEGIN_MARKER, END_MARKER, sshConfigBlock } from '../../../src/policies/ssh-config.js';
import { resolveSshConfigPath, sshConfigStep } from '../../../src/steps/ssh-config/index.js';
import { converge, mockIdentity, planned } from '../../helpers/aws.js';
import { makeContext, settingsFrom, testClients } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

const posix = process.platform !== 'win32';
let dir: string;
let bin: string;

/** A fake tool on PATH: a shell script that prints `output` (to stderr with `toStderr`). */
function fakeTool(name: string, output: string, toStderr = false) {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\necho '${output}'${toStderr ? ' >&2' : ''}\n`);
  chmodSync(path, 0o755);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssm-setup-ssh-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
  fakeTool('aws', 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.ubuntu.22');
  fakeTool('session-manager-plugin', '1.2.650.0');
  vi.stubEnv('PATH', bin);
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

const configIn = (...parts: string[]) => join(dir, ...parts);
const context = (flags: Record<string, unknown> = {}, io?: TestIo): Promise<StepContext> =>
  makeContext({ sshConfig: true, sshConfigPath: configIn('.ssh', 'config'), ...flags }, io);

/** read → plan → apply (when there is a change), as the runner does. */
const run = (ctx: StepContext) => converge(sshConfigStep, ctx);

const block = (flags: { profile?: string; region?: string } = {}) => sshConfigBlock({ ...flags, windows: false });
const mode = (path: string) => statSync(path).mode & 0o777;

describe('ssh-config step', () => {
  it('is skipped unless --ssh-config, naming the flag and the command', async () => {
    const off = (await settingsFrom()).settings;
    expect(off.sshConfig).toBe(false);
    expect(sshConfigStep.skip!(off)).toContain('--ssh-config');
    expect(sshConfigStep.skip!(off)).toContain('ssm-setup ssh-config --write');
    expect(sshConfigStep.skip!((await settingsFrom({ sshConfig: true })).settings)).toBeUndefined();
  });

  it('is in the catalog with its code', async () => {
    expect(await stepEntry('ssh-config')!.load!()).toBe(sshConfigStep);
  });

  it.runIf(posix)('no file: creates ~/.ssh 0700 and the config 0600 holding just the block; no backup', async () => {
    const ctx = await context({ profile: 'prod', region: 'eu-west-1' });
    const { state, changes, note } = await run(ctx);
    expect(state).toMatchObject({ existed: false, text: '', windows: false, tools: { aws: '2.15.30', plugin: '1.2.650.0' } });
    expect(changes).toEqual([expect.objectContaining({ action: 'create', resource: `SSH config block in ${configIn('.ssh', 'config')}` })]);
    expect(changes[0]!.detail).toContain('new file');
    expect(note).toBeUndefined();
    const path = configIn('.ssh', 'config');
    expect(readFileSync(path, 'utf8')).toBe(block({ profile: 'prod', region: 'eu-west-1' }));
    expect(mode(configIn('.ssh'))).toBe(0o700);
    expect(mode(path)).toBe(0o600);
    expect(existsSync(`${path}.ssm-setup.bak`)).toBe(false);
  });

  it.runIf(posix)('existing file: block inserted before the hosts, previous content kept as .ssm-setup.bak, mode kept', async () => {
    mkdirSync(configIn('.ssh'), { mode: 0o755 });
    const path = configIn('.ssh', 'config');
    const before = 'ServerAliveInterval 60\n\nHost web\n  User alice\n';
    writeFileSync(path, before, { mode: 0o644 });
    chmodSync(path, 0o644);
    const { changes } = await run(await context());
    expect(changes.map((c) => c.action)).toEqual(['create']);
    expect(changes[0]!.detail).toContain(`${path}.ssm-setup.bak`);
    expect(readFileSync(path, 'utf8')).toBe(`ServerAliveInterval 60\n\n${block()}Host web\n  User alice\n`);
    expect(readFileSync(`${path}.ssm-setup.bak`, 'utf8')).toBe(before);
    expect(mode(`${path}.ssm-setup.bak`)).toBe(0o600);
    expect(mode(path)).toBe(0o644); // the operator's own mode
    expect(mode(configIn('.ssh'))).toBe(0o755); // an existing directory is not touched
    // Nothing left over from the atomic write.
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(configIn('.ssh')).sort()).toEqual(['config', 'config.ssm-setup.bak']);
  });

  it('a rerun plans no change and writes nothing', async () => {
    const ctx = await context({ region: 'eu-west-1' });
    await run(ctx);
    const path = configIn('.ssh', 'config');
    const written = statSync(path).mtimeMs;
    const again = await run(ctx);
    expect(again.changes).toEqual([]);
    expect(again.note).toBeUndefined();
    expect(statSync(path).mtimeMs).toBe(written);
    expect(existsSync(`${path}.ssm-setup.bak`)).toBe(false);
  });

  it('another region rewrites the block in place (update), backing up the previous file', async () => {
    await run(await context({ region: 'eu-west-1' }));
    const path = configIn('.ssh', 'config');
    writeFileSync(path, `${readFileSync(path, 'utf8')}Host web\n  User a\n`);
    const previous = readFileSync(path, 'utf8');
    const { changes } = await run(await context({ region: 'us-east-1' }));
    expect(changes.map((c) => c.action)).toEqual(['update']);
    expect(readFileSync(path, 'utf8')).toBe(`${block({ region: 'us-east-1' })}Host web\n  User a\n`);
    expect(readFileSync(`${path}.ssm-setup.bak`, 'utf8')).toBe(previous);
  });

  it('a foreign Host i-* entry: no change, the file untouched, the line and the fix in the note', async () => {
    mkdirSync(configIn('.ssh'));
    const path = configIn('.ssh', 'config');
    const before = 'Host web\n  User a\nHost i-*\n  ProxyCommand sh -c "aws ssm start-session --target %h"\n';
    writeFileSync(path, before);
    const { changes, note } = await run(await context());
    expect(changes).toEqual([]);
    expect(note).toContain(path);
    expect(note).toContain('line 3: Host i-*');
    expect(note).toContain('remove that entry');
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(existsSync(`${path}.ssm-setup.bak`)).toBe(false);
  });

  it('a missing session-manager-plugin is in the note with the install pointer (and a missing AWS CLI)', async () => {
    rmSync(join(bin, 'session-manager-plugin'));
    let { state, note } = await run(await context());
    expect(state.tools).toEqual({ aws: '2.15.30' });
    expect(note).toContain('session-manager-plugin not found on PATH');
    expect(note).toContain(PLUGIN_INSTALL_URL);
    expect(note).not.toContain('AWS CLI');
    rmSync(join(bin, 'aws'));
    ({ note } = await run(await context()));
    expect(note).toContain('AWS CLI not found on PATH');
  });

  it('a session-manager-plugin too old for SSH is in the note', async () => {
    fakeTool('session-manager-plugin', '1.1.17.0');
    const { note } = await run(await context());
    expect(note).toContain('session-manager-plugin 1.1.17.0 is too old for SSH');
  });

  it('a file changed between read and apply is not overwritten', async () => {
    const ctx = await context();
    const { state, changes } = await planned(sshConfigStep, ctx);
    mkdirSync(configIn('.ssh'), { recursive: true });
    writeFileSync(configIn('.ssh', 'config'), 'Host sneaky\n');
    const error = await sshConfigStep.apply(ctx, state, changes).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).code).toBe('FILE_CHANGED');
    expect(readFileSync(configIn('.ssh', 'config'), 'utf8')).toBe('Host sneaky\n');
  });

  it.runIf(posix)('a symlinked config (dotfiles) is written through the link, which stays a link', async () => {
    const { lstatSync } = await import('node:fs');
    const real = configIn('dotfiles-config');
    writeFileSync(real, 'Host web\n');
    mkdirSync(configIn('.ssh'));
    symlinkSync(real, configIn('.ssh', 'config'));
    await run(await context());
    expect(lstatSync(configIn('.ssh', 'config')).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe(`${block()}Host web\n`);
  });

  it('a file that cannot be written fails the step with a fix, leaving the file as it was', async () => {
    mkdirSync(configIn('.ssh'));
    writeFileSync(configIn('.ssh', 'config'), 'Host web\n');
    mkdirSync(configIn('.ssh', 'config.ssm-setup.bak')); // the backup cannot be written (even as root)
    const error = await run(await context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepError);
    expect((error as StepError).code).toBe('FILE_UNWRITABLE');
    expect((error as StepError).hint).toContain('--ssh-config-path');
    expect(readFileSync(configIn('.ssh', 'config'), 'utf8')).toBe('Host web\n');
  });

  it('a directory as --ssh-config-path is bad input', async () => {
    const error = await sshConfigStep.read(await context({ sshConfigPath: dir })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: 'SSH_CONFIG_PATH_INVALID', message: expect.stringContaining('--ssh-config-path') });
  });
});

describe('ssh-config wizard', () => {
  const ask = async (io: TestIo, flags: Record<string, unknown> = {}) => {
    const loaded = await settingsFrom(flags);
    const ctx = await makeContext(flags, io);
    return sshConfigStep.ask!({ ...ctx, sources: loaded.sources });
  };

  it('asks ssh-config.write; yes → sshConfig true', async () => {
    const io = new TestIo({ 'ssh-config.write': true });
    expect(await ask(io)).toEqual({ sshConfig: true });
    expect(io.prompts).toEqual(['ssh-config.write']);
  });

  it('no → no answer (nothing saved, the step stays skipped)', async () => {
    expect(await ask(new TestIo({ 'ssh-config.write': false }))).toEqual({});
  });

  it('does not ask when --ssh-config was given', async () => {
    const io = new TestIo({});
    expect(await ask(io, { sshConfig: true })).toEqual({});
    expect(io.prompts).toEqual([]);
  });

  it('interactive init: the answer leads to the block being written, after the one confirmation', async () => {
    const sts = mockIdentity();
    try {
      const path = configIn('.ssh', 'config');
      const io = new TestIo({ 'ssh-config.write': true, 'runner.apply': true });
      const entry = stepEntry('ssh-config')!;
      const { report } = await runSteps({
        command: 'init',
        mode: 'apply',
        wizard: true,
        io,
        aws: testClients(),
        loaded: await settingsFrom({ sshConfigPath: path }),
        catalog: [entry],
        selected: [entry],
      });
      expect(io.prompts).toEqual(['ssh-config.write', 'runner.apply']);
      expect(report.steps[0]).toMatchObject({ id: 'ssh-config', status: 'created' });
      expect(readFileSync(path, 'utf8')).toContain(BEGIN_MARKER);
      expect(readFileSync(path, 'utf8')).toContain(END_MARKER);
    } finally {
      sts.restore();
    }
  });
});

describe('resolveSshConfigPath', () => {
  it('defaults to ~/.ssh/config, expands a leading ~, and resolves relative paths', () => {
    expect(resolveSshConfigPath(undefined, '/home/u', '/w')).toBe(join('/home/u', '.ssh', 'config'));
    expect(resolveSshConfigPath('~/.ssh/config.d/aws', '/home/u', '/w')).toBe(join('/home/u', '.ssh/config.d/aws'));
    expect(resolveSshConfigPath('~', '/home/u', '/w')).toBe('/home/u');
    expect(resolveSshConfigPath('ssh/config', '/home/u', '/w')).toBe(join('/w', 'ssh/config'));
    expect(resolveSshConfigPath('/etc/x', '/home/u', '/w')).toBe('/etc/x');
  });

  it('--ssh-config-path must not be empty', async () => {
    // Bad input names its flag.
    await expect(settingsFrom({ sshConfigPath: '  ' })).rejects.toMatchObject({
      code: 'INVALID_SETTINGS',
      message: expect.stringContaining('--ssh-config-path'),
    });
  });
});

describe('detectLocalTools', () => {
  it('reads the versions, from stdout or stderr (AWS CLI v1)', async () => {
    expect(await detectLocalTools()).toEqual({ aws: '2.15.30', plugin: '1.2.650.0' });
    fakeTool('aws', 'aws-cli/1.32.0 Python/3.8 Linux/5 botocore/1.34.0', true);
    expect((await detectLocalTools()).aws).toBe('1.32.0');
  });

  it('absent tools are undefined', async () => {
    expect(await detectLocalTools({ env: { PATH: join(dir, 'empty') } })).toEqual({});
  });

  it.runIf(posix)('a tool that hangs counts as present, version unknown, within the timeout', async () => {
    writeFileSync(join(bin, 'session-manager-plugin'), '#!/bin/sh\nexec /bin/sleep 5\n');
    const started = Date.now();
    expect((await detectLocalTools({ timeoutMs: 200 })).plugin).toBe('unknown version');
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

afterAll(() => vi.unstubAllEnvs());
