import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/base/errors.js';
import { assertSshConfigPath, readSshConfig, sshConfigStep } from '../../../src/steps/ssh-config/index.js';
import { makeContext } from '../../helpers/fixtures.js';
import { TestIo } from '../../helpers/test-io.js';

/**
 * Issue 13 (item 9): an SSH config path that is not a regular file that can be read (and,
 * when the run writes it, written) is bad input, found before any AWS call. A FIFO must not
 * be read at all: reading one waits for a writer forever.
 */
const posix = process.platform !== 'win32';
const root = process.getuid?.() === 0;
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ssm-setup-ssh-path-'));
});
afterEach(() => {
  // Read-only directories made by a test would keep rmSync from removing what is in them.
  execFileSync('chmod', ['-R', 'u+rwx', dir]);
  rmSync(dir, { recursive: true, force: true });
});

const at = (...parts: string[]) => join(dir, ...parts);

async function invalid(work: Promise<unknown>): Promise<UsageError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).code).toBe('SSH_CONFIG_PATH_INVALID');
  return err as UsageError;
}

/** Paths that are bad whatever the run does with them, each made in the temp dir. */
const BAD: [string, () => string][] = [
  [
    'a FIFO',
    () => {
      execFileSync('mkfifo', [at('fifo')]);
      return at('fifo');
    },
  ],
  [
    'a symlink loop',
    () => {
      symlinkSync(at('b'), at('a'));
      symlinkSync(at('a'), at('b'));
      return at('a');
    },
  ],
  [
    'a path under a regular file',
    () => {
      writeFileSync(at('hosts'), '127.0.0.1 localhost\n');
      return at('hosts', 'x');
    },
  ],
  [
    'a path deeper under a regular file',
    () => {
      writeFileSync(at('hosts'), '');
      return at('hosts', 'a', 'b', 'config');
    },
  ],
  [
    'a directory',
    () => {
      mkdirSync(at('conf.d'));
      return at('conf.d');
    },
  ],
];

describe.runIf(posix)('assertSshConfigPath', () => {
  it.each(BAD)('refuses %s, naming the flag (read or write)', { timeout: 5_000 }, async (_what, make) => {
    const path = make();
    for (const write of [false, true]) {
      const err = await invalid(assertSshConfigPath(path, { write, label: '--ssh-config-path' }));
      expect(err.message).toContain('--ssh-config-path');
      expect(err.message).toContain(path);
    }
  });

  it('names the label it is given (the config key, when the path came from the file)', async () => {
    mkdirSync(at('conf.d'));
    const err = await invalid(assertSshConfigPath(at('conf.d'), { write: false, label: '"sshConfigPath" in ./ssm-setup.json' }));
    expect(err.message).toContain('"sshConfigPath" in ./ssm-setup.json');
  });

  it.each([
    [
      'an existing file',
      () => {
        writeFileSync(at('config'), 'Host web\n');
        return at('config');
      },
    ],
    ['a new file in an existing directory', () => at('config')],
    ['a new file in directories still to be made', () => at('.ssh', 'deeper', 'config')],
    [
      'a symlink to a file (dotfiles)',
      () => {
        writeFileSync(at('real'), '');
        symlinkSync(at('real'), at('link'));
        return at('link');
      },
    ],
  ])('accepts %s', async (_what, make) => {
    const path = make();
    await expect(assertSshConfigPath(path, { write: true, label: '--ssh-config-path' })).resolves.toBeUndefined();
  });

  it.runIf(!root)('refuses a file it would write but cannot (read-only), only when writing', async () => {
    writeFileSync(at('config'), 'Host web\n');
    chmodSync(at('config'), 0o444);
    await invalid(assertSshConfigPath(at('config'), { write: true, label: '--ssh-config-path' }));
    await expect(assertSshConfigPath(at('config'), { write: false, label: '--ssh-config-path' })).resolves.toBeUndefined();
  });

  it.runIf(!root)('refuses a new file in a directory it cannot write, only when writing', async () => {
    mkdirSync(at('ro'));
    chmodSync(at('ro'), 0o555);
    await invalid(assertSshConfigPath(at('ro', 'config'), { write: true, label: '--ssh-config-path' }));
    await invalid(assertSshConfigPath(at('ro', 'new', 'config'), { write: true, label: '--ssh-config-path' }));
    await expect(assertSshConfigPath(at('ro', 'config'), { write: false, label: '--ssh-config-path' })).resolves.toBeUndefined();
  });

  it.runIf(!root)('refuses an existing file whose directory it cannot write (the file is replaced through a temporary file there)', async () => {
    mkdirSync(at('ro'));
    writeFileSync(at('ro', 'config'), 'Host web\n');
    chmodSync(at('ro'), 0o555);
    await invalid(assertSshConfigPath(at('ro', 'config'), { write: true, label: '--ssh-config-path' }));
  });

  it.runIf(!root)('refuses a file it cannot read', async () => {
    writeFileSync(at('config'), 'Host web\n');
    chmodSync(at('config'), 0o200);
    await invalid(assertSshConfigPath(at('config'), { write: false, label: '--ssh-config-path' }));
  });
});

describe.runIf(posix)('readSshConfig, the second line: never blocks, never reads what is not a regular file', () => {
  it.each(BAD)('refuses %s as bad input', { timeout: 5_000 }, async (_what, make) => {
    const err = await invalid(readSshConfig(make()));
    expect(err.message).toContain('--ssh-config-path');
  });

  it('reads a regular file, and a missing one as empty', async () => {
    writeFileSync(at('config'), 'Host web\n');
    await expect(readSshConfig(at('config'))).resolves.toMatchObject({ text: 'Host web\n', existed: true });
    await expect(readSshConfig(at('missing'))).resolves.toEqual({ text: '', existed: false });
  });
});

describe.runIf(posix)('the ssh-config question of an interactive init', () => {
  const ask = async (path: string, io: TestIo) => {
    const ctx = await makeContext({ sshConfigPath: path }, io);
    return sshConfigStep.ask!({ ...ctx, sources: { ...ctx.sources, sshConfig: 'default' } });
  };

  it('is not asked when the file could not be written; a warning says why and what prints the block', async () => {
    writeFileSync(at('hosts'), '');
    const io = new TestIo({});
    expect(await ask(at('hosts', 'config'), io)).toEqual({});
    expect(io.prompts).toEqual([]);
    expect(io.lines.some((l) => l.startsWith('warn: ') && l.includes('ssm-setup ssh-config'))).toBe(true);
  });

  it.runIf(!root)('is not asked for a read-only file either', async () => {
    writeFileSync(at('config'), 'Host web\n');
    chmodSync(at('config'), 0o444);
    const io = new TestIo({});
    expect(await ask(at('config'), io)).toEqual({});
    expect(io.prompts).toEqual([]);
  });

  it('is asked for a file it can write', async () => {
    const io = new TestIo({ 'ssh-config.write': true });
    expect(await ask(at('config'), io)).toEqual({ sshConfig: true });
  });
});
