import type { Command } from 'commander';
import { CallRecorder } from '../aws/calls.js';
import { AwsClients, resolveRegion } from '../aws/clients.js';
import { assertProfileExists } from '../aws/profile.js';
import { UsageError } from '../base/errors.js';
import { type LoadedSettings, labelFor, loadSettings } from '../config/load.js';
import type { Io } from '../core/io.js';
import { assertAccountFlags } from '../engine/fan-targets.js';
import { switches, typedSettings } from './options.js';

export interface Session {
  readonly io: Io;
  readonly loaded: LoadedSettings;
  readonly aws: AwsClients;
}

/** Picks the Io once: JSON, a person at a terminal, or plain lines (no TTY, CI). */
export async function createIo(cmd: Command, signal?: AbortSignal): Promise<Io> {
  const sw = switches(cmd);
  const common = { yes: sw.yes, verbose: sw.verbose, ...(signal ? { signal } : {}) };
  if (sw.json) return new (await import('../ui/json-io.js')).JsonIo(common);
  const tty = process.stdin.isTTY && process.stdout.isTTY && process.stderr.isTTY && !isCi();
  if (!tty) return new (await import('../ui/base-io.js')).PlainIo(common);
  const { TerminalIo } = await import('../ui/terminal-io.js');
  return new TerminalIo({ ...common, interactive: !sw.yes, color: sw.color !== false && !process.env.NO_COLOR });
}

const isCi = () => Boolean(process.env.CI && process.env.CI !== 'false');

/**
 * Everything a command needs, in the order that keeps the safety rules: settings are
 * validated (exit 2), and the local files the run will touch checked, before the region is
 * resolved, and no AWS call is made before all of them.
 */
export async function openSession(cmd: Command, io: Io): Promise<Session> {
  const loaded = await loadSettings({ flags: typedSettings(cmd), configPath: switches(cmd).config });
  for (const w of loaded.warnings ?? []) io.warn(w);
  // How the accounts are chosen is checked with the values: before the region, and any AWS call.
  assertAccountFlags(loaded);
  const ssh = sshConfigUse(cmd, io, loaded);
  if (ssh) {
    const { assertSshConfigPath, resolveSshConfigPath } = await import('../steps/ssh-config/file.js');
    const label = labelFor('sshConfigPath', loaded.sources.sshConfigPath, loaded.configFile);
    await assertSshConfigPath(resolveSshConfigPath(loaded.settings.sshConfigPath), { write: ssh === 'write', label });
  }
  if (loaded.settings.profile) await assertProfileExists(loaded.settings.profile, labelFor('profile', loaded.sources.profile, loaded.configFile));
  // With --regions, the first one is the session's; each region gets its own clients (apply.ts).
  const region = loaded.settings.regions[0] ?? (await resolveRegion(loaded.settings));
  await assertKnownRegions(loaded, loaded.settings.regions.length ? loaded.settings.regions : [region]);
  const { profile, endpointUrl } = loaded.settings;
  const recorder = new CallRecorder(process.env.SSM_SETUP_CALL_LOG, (c) => io.debug(`  aws ${c.service}.${c.operation}`));
  return { io, loaded, aws: new AwsClients({ region, profile, endpointUrl }, recorder, io.signal) };
}

/**
 * What the command does with the SSH config file: the ssh-config step writes it in `init` and
 * `run ssh-config` when --ssh-config is on (an interactive init may still ask for it: then it
 * is only looked at, the unwritable case being left to that question); `plan` reads it for the
 * step, `check` and `destroy` always read it. Undefined: not touched.
 */
function sshConfigUse(cmd: Command, io: Io, loaded: LoadedSettings): 'read' | 'write' | undefined {
  const on = loaded.settings.sshConfig;
  switch (cmd.name()) {
    case 'init':
      return on ? 'write' : io.interactive && loaded.sources.sshConfig === 'default' ? 'read' : undefined;
    case 'run':
      return on && cmd.args.includes('ssh-config') ? 'write' : undefined;
    case 'plan':
      return on ? 'read' : undefined;
    case 'check':
    case 'destroy':
      return 'read';
    default:
      return undefined;
  }
}

/**
 * A region the SDK's partition data does not list is a typo until shown otherwise: exit 2 with
 * the nearest real region, before any AWS call; `--allow-unknown-region` takes a region newer
 * than this ssm-setup.
 */
async function assertKnownRegions(loaded: LoadedSettings, regions: readonly string[]): Promise<void> {
  if (loaded.settings.allowUnknownRegion) return;
  const { isKnownRegion, suggestRegion } = await import('../aws/regions.js');
  const key = loaded.settings.regions.length ? 'regions' : 'region';
  const label = labelFor(key, loaded.sources[key] ?? 'default', loaded.configFile, loaded.givenAs?.[key]);
  const problems = regions
    .filter((r) => !isKnownRegion(r))
    .map((r) => {
      const near = suggestRegion(r);
      return `${label}: "${r}" is not an AWS region this ssm-setup knows${near ? ` (did you mean "${near}"?)` : ''}`;
    });
  if (problems.length) {
    throw new UsageError('INVALID_SETTINGS', problems, { hint: 'for a region newer than this ssm-setup, add --allow-unknown-region; nothing was changed' });
  }
}
