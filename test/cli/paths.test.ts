import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { mockIdentity } from '../helpers/aws.js';
import { captureOutput } from '../helpers/capture.js';

/**
 * Issue 13 (item 9): --ssh-config-path and --config are checked before any AWS call. Each bad
 * path is exit 2 naming the flag; a FIFO is refused at once instead of hanging the run.
 */
const posix = process.platform !== 'win32';
const root = process.getuid?.() === 0;
let dir: string;
let sts: ReturnType<typeof mockIdentity>;
const clients = [mockClient(KMSClient), mockClient(S3Client), mockClient(IAMClient), mockClient(SSMClient)];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssm-setup-cli-paths-'));
  sts = mockIdentity();
  for (const c of clients) c.reset();
});
afterEach(() => {
  sts.restore();
  // Read-only directories made by a test would keep rmSync from removing what is in them.
  execFileSync('chmod', ['-R', 'u+rwx', dir]);
  rmSync(dir, { recursive: true, force: true });
});

const { err } = captureOutput();
const run = (...args: string[]) => main(['node', 'ssm-setup', ...args]);
const codeIn = (text: string) => /^code: (\S+)$/m.exec(text)?.[1];
const at = (...parts: string[]) => join(dir, ...parts);

function expectNoAwsCalls() {
  expect(sts.calls()).toHaveLength(0);
  for (const c of clients) expect(c.calls()).toHaveLength(0);
}

const fifo = () => {
  execFileSync('mkfifo', [at('fifo')]);
  return at('fifo');
};
const loop = () => {
  symlinkSync(at('b'), at('a'));
  symlinkSync(at('a'), at('b'));
  return at('a');
};
const underFile = () => {
  writeFileSync(at('hosts'), '127.0.0.1 localhost\n');
  return at('hosts', 'x');
};
const directory = () => {
  mkdirSync(at('conf.d'));
  return at('conf.d');
};
const BAD = [
  ['a FIFO', fifo],
  ['a symlink loop', loop],
  ['a path under a regular file', underFile],
  ['a directory', directory],
] as const;

describe.runIf(posix)('--ssh-config-path, before any AWS call', () => {
  it.each(BAD)('init --yes --ssh-config with %s: exit 2 naming --ssh-config-path', { timeout: 10_000 }, async (_what, make) => {
    expect(await run('init', '--yes', '--region', 'us-east-1', '--ssh-config', '--ssh-config-path', make(), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('SSH_CONFIG_PATH_INVALID');
    expect(err()).toContain('--ssh-config-path');
    expectNoAwsCalls();
  });

  it.each(BAD)('run ssh-config with %s: exit 2', { timeout: 10_000 }, async (_what, make) => {
    expect(await run('run', 'ssh-config', '--yes', '--region', 'us-east-1', '--ssh-config', '--ssh-config-path', make(), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('SSH_CONFIG_PATH_INVALID');
    expectNoAwsCalls();
  });

  it.each(BAD)('plan --ssh-config (which reads it) with %s: exit 2', { timeout: 10_000 }, async (_what, make) => {
    expect(await run('plan', '--region', 'us-east-1', '--ssh-config', '--ssh-config-path', make(), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('SSH_CONFIG_PATH_INVALID');
    expectNoAwsCalls();
  });

  it.each(BAD)('ssh-config --write with %s: exit 2, nothing read or written', { timeout: 10_000 }, async (_what, make) => {
    expect(await run('ssh-config', '--write', '--ssh-config-path', make(), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('SSH_CONFIG_PATH_INVALID');
    expect(err()).toContain('--ssh-config-path');
  });

  it.each(BAD)('ssh-config --remove with %s: exit 2', { timeout: 10_000 }, async (_what, make) => {
    expect(await run('ssh-config', '--remove', '--ssh-config-path', make(), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('SSH_CONFIG_PATH_INVALID');
  });

  it.each([
    ['check', 'check'],
    ['destroy', 'destroy'],
  ])('%s (which always reads it) with a FIFO: exit 2 at once', { timeout: 10_000 }, async (_name, command) => {
    expect(await run(command, '--yes', '--region', 'us-east-1', '--ssh-config-path', fifo(), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('SSH_CONFIG_PATH_INVALID');
    expectNoAwsCalls();
  });

  it('init --yes without --ssh-config does not look at the path: the step is skipped', async () => {
    // A directory would be refused if the run used it; here the run goes on to AWS (and fails there on the mocks).
    await run('init', '--yes', '--region', 'us-east-1', '--ssh-config-path', directory(), '--verbose');
    expect(codeIn(err())).not.toBe('SSH_CONFIG_PATH_INVALID');
    expect(sts.calls().length).toBeGreaterThan(0);
  });

  it('names the config key when the path came from the config file', async () => {
    const config = at('ssm-setup.json');
    writeFileSync(config, JSON.stringify({ sshConfig: true, sshConfigPath: directory() }));
    expect(await run('init', '--yes', '--region', 'us-east-1', '--config', config, '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('SSH_CONFIG_PATH_INVALID');
    expect(err()).toContain('"sshConfigPath" in');
    expectNoAwsCalls();
  });

  it.runIf(!root)('init --yes --ssh-config with a read-only file: exit 2 (the run would write it)', async () => {
    writeFileSync(at('config'), 'Host web\n');
    chmodSync(at('config'), 0o444);
    expect(await run('init', '--yes', '--region', 'us-east-1', '--ssh-config', '--ssh-config-path', at('config'), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('SSH_CONFIG_PATH_INVALID');
    expectNoAwsCalls();
  });

  it.runIf(!root)('init --yes --ssh-config with a new file in a read-only directory: exit 2', async () => {
    mkdirSync(at('ro'));
    chmodSync(at('ro'), 0o555);
    expect(await run('init', '--yes', '--region', 'us-east-1', '--ssh-config', '--ssh-config-path', at('ro', 'config'), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('SSH_CONFIG_PATH_INVALID');
    expectNoAwsCalls();
  });

  it.runIf(!root)('ssh-config --write with a read-only file: exit 2', async () => {
    writeFileSync(at('config'), 'Host web\n');
    chmodSync(at('config'), 0o444);
    expect(await run('ssh-config', '--write', '--ssh-config-path', at('config'), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('SSH_CONFIG_PATH_INVALID');
  });
});

describe.runIf(posix)('--config, before any AWS call', () => {
  it.each(BAD)('plan --config %s: exit 2, CONFIG_UNREADABLE naming --config', { timeout: 10_000 }, async (_what, make) => {
    expect(await run('plan', '--region', 'us-east-1', '--config', make(), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('CONFIG_UNREADABLE');
    expect(err()).toContain('--config');
    expectNoAwsCalls();
  });

  it.each(BAD)('ssh-config --config %s: exit 2', { timeout: 10_000 }, async (_what, make) => {
    expect(await run('ssh-config', '--config', make(), '--verbose')).toBe(2);
    expect(codeIn(err())).toBe('CONFIG_UNREADABLE');
  });
});
