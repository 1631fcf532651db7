import type { Command } from 'commander';
import { CallRecorder } from '../aws/calls.js';
import { AwsClients, resolveRegion } from '../aws/clients.js';
import { assertProfileExists } from '../aws/profile.js';
import { type LoadedSettings, labelFor, loadSettings } from '../config/load.js';
import type { Io } from '../core/io.js';
import { switches, typedSettings } from './options.js';

export interface Session {
  readonly io: Io;
  readonly loaded: LoadedSettings;
  readonly aws: AwsClients;
}

/** Picks the Io once: JSON, a person at a terminal, or plain lines (no TTY, CI). */
export async function createIo(cmd: Command): Promise<Io> {
  const sw = switches(cmd);
  const common = { yes: sw.yes, verbose: sw.verbose };
  if (sw.json) return new (await import('../ui/json-io.js')).JsonIo(common);
  const tty = process.stdin.isTTY && process.stdout.isTTY && process.stderr.isTTY && !isCi();
  if (!tty) return new (await import('../ui/base-io.js')).PlainIo(common);
  const { TerminalIo } = await import('../ui/terminal-io.js');
  return new TerminalIo({ ...common, interactive: !sw.yes, color: sw.color !== false && !process.env.NO_COLOR });
}

const isCi = () => Boolean(process.env.CI && process.env.CI !== 'false');

/**
 * Everything a command needs, in the order that keeps the safety rules: settings are
 * validated (exit 2) before the region is resolved, and no AWS call is made before both.
 */
export async function openSession(cmd: Command, io: Io): Promise<Session> {
  const loaded = await loadSettings({ flags: typedSettings(cmd), configPath: switches(cmd).config });
  if (loaded.settings.profile) await assertProfileExists(loaded.settings.profile, labelFor('profile', loaded.sources.profile, loaded.configFile));
  // With --regions, the first one is the session's; each region gets its own clients (apply.ts).
  const region = loaded.settings.regions[0] ?? (await resolveRegion(loaded.settings));
  const { profile, endpointUrl } = loaded.settings;
  const recorder = new CallRecorder(process.env.SSM_SETUP_CALL_LOG, (c) => io.debug(`  aws ${c.service}.${c.operation}`));
  return { io, loaded, aws: new AwsClients({ region, profile, endpointUrl }, recorder) };
}
