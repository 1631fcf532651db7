import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ErrorCode, UsageError } from '../../src/base/errors.js';
import { DEFAULT_CONFIG_FILE, type LoadInput, loadSettings } from '../../src/config/load.js';

/** Issue 13 (items 4, 7, 9): the loader refuses, exit 2, naming the flag, config key or file. */
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ssm-setup-load-refused-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const load = (input: Partial<LoadInput> = {}) => loadSettings({ flags: {}, env: {}, cwd: dir, ...input });

async function configFile(values: unknown, name = DEFAULT_CONFIG_FILE): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(values));
  return path;
}

async function usageError(promise: Promise<unknown>, code: ErrorCode = 'INVALID_SETTINGS'): Promise<UsageError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).code).toBe(code);
  return err as UsageError;
}

const posix = process.platform !== 'win32';

describe('--regions with a repeated region', () => {
  it('is refused from the flag, naming --regions and the region', async () => {
    const err = await usageError(load({ flags: { regions: 'us-east-1,us-east-1' } }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain('--regions');
    expect(err.problems[0]).toContain('us-east-1');
  });

  it('is refused from the config file, naming the key and the file', async () => {
    const path = await configFile({ regions: ['eu-west-1', 'us-east-1', 'eu-west-1'] });
    const err = await usageError(load());
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain(`"regions" in ${path}`);
    expect(err.problems[0]).toContain('eu-west-1');
  });
});

describe('tags from the flags', () => {
  it.each([
    ['--tags', 'tags', ' =x'],
    ['--tag', 'tag', [' =x']],
    ['--tags', 'tags', 'Note=a#b'],
    ['--tags', 'tags', ' aws:x=1'],
  ])('%s %j is refused, naming the flag', async (flag, key, value) => {
    const err = await usageError(load({ flags: { [key]: value } }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain(flag);
  });
});

describe('config-file values keep their JSON type: only flags and variables arrive as strings', () => {
  it.each([
    ['idleTimeout', '20'],
    ['maxSessionDuration', '60'],
    ['logTransitionDays', '30'],
    ['logExpirationDays', '400'],
    ['logRetentionDays', '365'],
    ['cloudwatchLogs', 'true'],
    ['dhmc', 'false'],
    ['s3PrefixWholeBucket', 'true'],
    ['instanceIds', 'i-0123abcd'],
    ['regions', 'us-east-1'],
    ['operatorUsers', 'alice,bob'],
    ['tag', 'Env=prod'],
    ['tags', 'Team=ops'],
  ])('refuses "%s": %j (a string), naming the key and the file', async (key, value) => {
    const path = await configFile({ [key]: value });
    const err = await usageError(load());
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toContain(`"${key}" in ${path}`);
  });

  it('takes the same values in their JSON types', async () => {
    await configFile({ idleTimeout: 20, cloudwatchLogs: true, instanceIds: ['i-0123abcd'], regions: ['us-east-1'], tag: ['Env=prod'], tags: { Team: 'ops' } });
    const { settings } = await load();
    expect(settings).toMatchObject({
      idleTimeout: 20,
      cloudwatchLogs: true,
      instanceIds: ['i-0123abcd'],
      regions: ['us-east-1'],
      resourceTags: { Team: 'ops' },
    });
  });

  it('still converts the same strings given as flags', async () => {
    const { settings } = await load({ flags: { idleTimeout: '20', instanceIds: 'i-0123abcd', regions: 'us-east-1' } });
    expect(settings).toMatchObject({ idleTimeout: 20, instanceIds: ['i-0123abcd'], regions: ['us-east-1'] });
  });
});

describe('--config that is not a readable regular file', () => {
  it.runIf(posix)('a FIFO is refused at once (reading it would wait forever), naming --config', { timeout: 5_000 }, async () => {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    const err = await usageError(load({ configPath: fifo }), 'CONFIG_UNREADABLE');
    expect(err.message).toContain('--config');
    expect(err.message).toContain(fifo);
  });

  it.runIf(posix)('a FIFO as ./ssm-setup.json is refused too, without blaming --config', { timeout: 5_000 }, async () => {
    execFileSync('mkfifo', [join(dir, DEFAULT_CONFIG_FILE)]);
    const err = await usageError(load(), 'CONFIG_UNREADABLE');
    expect(err.message).toContain(join(dir, DEFAULT_CONFIG_FILE));
    expect(err.message).not.toContain('--config');
  });

  it.runIf(posix)('a symlink loop is refused, naming --config', async () => {
    await symlink(join(dir, 'b.json'), join(dir, 'a.json'));
    await symlink(join(dir, 'a.json'), join(dir, 'b.json'));
    const err = await usageError(load({ configPath: join(dir, 'a.json') }), 'CONFIG_UNREADABLE');
    expect(err.message).toContain('--config');
  });

  it('a path under a regular file is refused, naming --config', async () => {
    const file = await configFile({}, 'plain.json');
    const err = await usageError(load({ configPath: join(file, 'x.json') }), 'CONFIG_UNREADABLE');
    expect(err.message).toContain('--config');
  });

  it('a directory is refused, naming --config', async () => {
    await mkdir(join(dir, 'conf.d'));
    const err = await usageError(load({ configPath: join(dir, 'conf.d') }), 'CONFIG_UNREADABLE');
    expect(err.message).toContain('--config');
  });

  it.runIf(posix && process.getuid?.() !== 0)('a file without read permission is refused, naming --config', async () => {
    const { chmod } = await import('node:fs/promises');
    const path = await configFile({ idleTimeout: 5 }, 'secret.json');
    await chmod(path, 0o200);
    const err = await usageError(load({ configPath: path }), 'CONFIG_UNREADABLE');
    expect(err.message).toContain('--config');
  });
});
