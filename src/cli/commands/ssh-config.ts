import type { Command } from 'commander';
import { detectLocalTools } from '../../aws/local-tools.js';
import { assertProfileExists } from '../../aws/profile.js';
import { StepError, UsageError } from '../../base/errors.js';
import { labelFor, loadSettings } from '../../config/load.js';
import type { Io } from '../../core/io.js';
import type { RunReport, StepReport } from '../../core/report.js';
import { stepEntry } from '../../engine/catalog.js';
import { applyBlock, removeBlock } from '../../policies/ssh-config.js';
import {
  assertSshConfigPath,
  blockFor,
  conflictMessage,
  readSshConfig,
  resolveSshConfigPath,
  toolProblems,
  writeSshConfig,
} from '../../steps/ssh-config/index.js';
import { ExitCode } from '../exit-codes.js';
import { switches, typedSettings } from '../options.js';

type Mode = 'print' | 'write' | 'remove';
const ID = 'ssh-config';

/**
 * `ssm-setup ssh-config`: print the managed block (default, `--print`), install or update it
 * (`--write`), or take it out (`--remove`). Local only: no AWS call, no credentials.
 */
export async function run(cmd: Command, _args: string[], io: Io): Promise<number> {
  const flags = cmd.opts<Partial<Record<Mode, boolean>>>();
  const modes = (['print', 'write', 'remove'] as const).filter((m) => flags[m]);
  if (modes.length > 1) {
    throw new UsageError('CONFLICTING_FLAGS', `${modes.map((m) => `--${m}`).join(' and ')} cannot be combined`, {
      hint: 'choose one: --print (the default), --write or --remove',
    });
  }
  const mode: Mode = modes[0] ?? 'print';
  const sw = switches(cmd);
  const loaded = await loadSettings({ flags: typedSettings(cmd), configPath: sw.config });
  const { settings } = loaded;
  const path = resolveSshConfigPath(settings.sshConfigPath);
  // Before anything is read: a FIFO would hang the read, a directory or a loop is no file.
  if (mode !== 'print')
    await assertSshConfigPath(path, { write: mode === 'write', label: labelFor('sshConfigPath', loaded.sources.sshConfigPath, loaded.configFile) });
  const windows = process.platform === 'win32';
  const row: StepReport = { id: ID, title: stepEntry(ID)!.title, status: 'unchanged', changes: [], outputs: { sshConfigPath: path } };
  const lines: string[] = [];

  if (mode === 'print') {
    const block = blockFor(settings, windows);
    if (!sw.json) {
      // Exactly the block, so that `ssm-setup ssh-config >> ~/.ssh/config` works.
      process.stdout.write(block);
      return ExitCode.Ok;
    }
    row.outputs.block = block;
  } else if (mode === 'write') {
    // A typo in the profile would only show when ssh runs; it is bad input now.
    if (settings.profile) await assertProfileExists(settings.profile, labelFor('profile', loaded.sources.profile, loaded.configFile));
    const block = blockFor(settings, windows);
    const [file, tools] = await Promise.all([readSshConfig(path), detectLocalTools()]);
    const { text, change, conflict } = applyBlock(file.text, block);
    if (conflict)
      throw new StepError(ID, 'SSH_CONFIG_CONFLICT', conflictMessage(path, conflict), {
        hint: 'or print the block with `ssm-setup ssh-config` and merge it by hand',
      });
    if (change === 'none') {
      lines.push(`SSH config block in ${path}: unchanged (already up to date).`);
    } else {
      const { backup } = await writeSshConfig(path, text, file);
      row.status = change === 'create' ? 'created' : 'updated';
      row.changes.push({
        action: change,
        resource: `SSH config block in ${path}`,
        detail: change === 'create' ? 'Host i-* mi-* through Session Manager' : 'rewritten in place',
      });
      lines.push(`SSH config block in ${path}: ${row.status}.`);
      if (backup) {
        row.outputs.backup = backup;
        lines.push(`Previous file kept as ${backup}`);
      } else {
        lines.push('New file (mode 0600).');
      }
      lines.push('Connect with: ssh <user>@<instance-id>   (e.g. ssh ec2-user@i-0123456789abcdef0)');
    }
    const problems = toolProblems(tools);
    if (problems.length) row.note = problems.join('\n');
    for (const p of problems) io.warn(p);
  } else {
    const file = await readSshConfig(path);
    const { text, removed, conflict } = removeBlock(file.text);
    if (conflict) throw new StepError(ID, 'SSH_CONFIG_CONFLICT', `${path} ${conflict}`, { hint: 'remove the lines of the ssm-setup block by hand' });
    if (!removed) {
      lines.push(file.existed ? `No ssm-setup block in ${path}: nothing to remove.` : `${path} does not exist: nothing to remove.`);
    } else {
      const { backup } = await writeSshConfig(path, text, file);
      row.status = 'updated';
      row.changes.push({ action: 'delete', resource: `SSH config block in ${path}`, detail: 'removed; the rest of the file is unchanged' });
      if (backup) row.outputs.backup = backup;
      lines.push(`SSH config block removed from ${path}.`, `Previous file kept as ${backup}`);
    }
  }

  if (sw.json) {
    const report: RunReport = { command: ID, ...(settings.region ? { region: settings.region } : {}), ok: true, steps: [row] };
    io.result(report);
  } else {
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return ExitCode.Ok;
}
