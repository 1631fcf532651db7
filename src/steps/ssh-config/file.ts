import { constants } from 'node:fs';
import { access, chmod, mkdir, open, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { StepError, UsageError } from '../../base/errors.js';
import { fileKind } from '../../config/load.js';

const STEP = 'ssh-config';
const FLAG = '--ssh-config-path';

/** `--ssh-config-path` (a leading `~` is the home directory, relative to the working directory), else ~/.ssh/config. */
export function resolveSshConfigPath(path: string | undefined, home = homedir(), cwd = process.cwd()): string {
  if (path === undefined) return join(home, '.ssh', 'config');
  if (path === '~') return home;
  if (/^~[/\\]/.test(path)) return join(home, path.slice(2));
  return resolve(cwd, path);
}

export const backupPath = (path: string) => `${path}.ssm-setup.bak`;

export interface SshConfigFile {
  readonly text: string;
  readonly existed: boolean;
  /** Permission bits of the existing file. */
  readonly mode?: number;
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code ?? '';

/** Open and stat errors that mean the path itself is wrong, whatever the run does with it. */
const BAD_PATH: Record<string, string> = {
  ELOOP: 'is a symlink loop',
  ENOTDIR: 'is under a regular file: a part of the path above it is a file, not a directory',
  EISDIR: 'is a directory, not an SSH config file',
  ENAMETOOLONG: 'is too long a path',
};

const invalid = (label: string, path: string, why: string) =>
  new UsageError('SSH_CONFIG_PATH_INVALID', `${label}: ${path} ${why}`, { hint: `choose another file with ${FLAG} (it defaults to ~/.ssh/config)` });

/**
 * The file as it is now; absent is empty. Opened without blocking and checked to be a regular
 * file before it is read: reading a FIFO would wait for a writer forever. A path that cannot be
 * an SSH config file (a directory, a FIFO, a symlink loop, under a regular file) is bad input;
 * anything else unreadable fails the step.
 */
export async function readSshConfig(path: string, label = FLAG): Promise<SshConfigFile> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    if (errno(err) === 'ENOENT') return { text: '', existed: false };
    throw BAD_PATH[errno(err)] ? invalid(label, path, BAD_PATH[errno(err)]!) : unreadable(path, err);
  }
  try {
    const info = await file.stat();
    if (!info.isFile()) throw invalid(label, path, `is ${fileKind(info)}, not an SSH config file`);
    return { text: await file.readFile('utf8'), existed: true, mode: info.mode & 0o7777 };
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw unreadable(path, err);
  } finally {
    await file.close();
  }
}

const unreadable = (path: string, err: unknown) =>
  new StepError(STEP, 'FILE_UNREADABLE', `cannot read ${path} (${errno(err) || String(err)})`, {
    cause: err,
    hint: `check the permissions of the file, or choose another one with ${FLAG}`,
  });

const can = (path: string, mode: number) =>
  access(path, mode).then(
    () => true,
    () => false,
  );

/**
 * Before any AWS call: refuses (SSH_CONFIG_PATH_INVALID, exit 2, naming `label`) a path that
 * is not a regular file that can be read: a FIFO, a directory, a device, a symlink loop, a
 * path under a regular file (`/etc/hosts/x`). With `write`, also one the run could not write:
 * the file itself, the directory it is replaced in (through a temporary file, by its real
 * path), the directory of its backup, or, for a new file, the nearest directory that exists.
 * Only looks (stat, access): never opens the file.
 */
export async function assertSshConfigPath(path: string, opts: { write: boolean; label: string }): Promise<void> {
  const why = await pathProblem(path, opts.write);
  if (why) throw invalid(opts.label, path, why);
}

async function pathProblem(path: string, write: boolean): Promise<string | undefined> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    if (BAD_PATH[errno(err)]) return BAD_PATH[errno(err)];
    if (errno(err) !== 'ENOENT') return `cannot be looked at (${errno(err) || String(err)})`;
    return write ? newFileProblem(path) : undefined;
  }
  if (!info.isFile()) return `is ${fileKind(info)}, not an SSH config file`;
  if (!(await can(path, constants.R_OK))) return 'cannot be read (permission denied)';
  if (!write) return undefined;
  if (!(await can(path, constants.W_OK))) return 'is not writable';
  const dir = dirname(await realpath(path));
  if (!(await can(dir, constants.W_OK))) return `is in ${dir}, which is not writable (the file is replaced through a temporary file there)`;
  if (dirname(path) !== dir && !(await can(dirname(path), constants.W_OK))) return `is in ${dirname(path)}, which is not writable (its backup goes there)`;
  return undefined;
}

/** A file still to be made: the nearest directory that exists must be one that can be written. */
async function newFileProblem(path: string): Promise<string | undefined> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const info = await stat(dir).catch(() => undefined);
    if (info) return info.isDirectory() && (await can(dir, constants.W_OK)) ? undefined : `cannot be made: ${dir} is not a writable directory`;
    if (dirname(dir) === dir) return `cannot be made: nothing of ${dirname(path)} exists`;
  }
}

/**
 * Replaces the file atomically (a temporary file in the same directory, then a rename), after
 * saving the previous content as `<path>.ssm-setup.bak` (0600). A new file is 0600, and a
 * missing directory is made 0700, as ssh wants them; an existing file keeps its mode. A
 * symlinked config (dotfiles) is written through the link. Returns the backup path, if any.
 */
export async function writeSshConfig(path: string, text: string, previous: SshConfigFile): Promise<{ backup?: string }> {
  try {
    const target = previous.existed ? await realpath(path) : path;
    const dir = dirname(target);
    const made = await mkdir(dir, { recursive: true, mode: 0o700 });
    if (made) await chmod(dir, 0o700);
    let backup: string | undefined;
    if (previous.existed) {
      backup = backupPath(path);
      await writeFile(backup, previous.text, { mode: 0o600 });
      await chmod(backup, 0o600);
    }
    const mode = previous.mode ?? 0o600;
    const tmp = join(dir, `.${basename(target)}.ssm-setup-${process.pid}.tmp`);
    try {
      await writeFile(tmp, text, { mode });
      await chmod(tmp, mode);
      await rename(tmp, target);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    return backup ? { backup } : {};
  } catch (err) {
    throw new StepError(STEP, 'FILE_UNWRITABLE', `cannot write ${path} (${errno(err) || String(err)})`, {
      cause: err,
      hint: `check the permissions of the file and its directory, or choose another file with ${FLAG}`,
    });
  }
}
